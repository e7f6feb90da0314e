namespace WsGen.Tests.Reactor;

public sealed class ReactorFactoryTests
{
    [Theory]
    [InlineData("sockets")]
    [InlineData("SOCKETS")]
    [InlineData(" Sockets ")]
    public void Sockets_is_chosen_by_name_on_every_os(string name)
    {
        using IServerReactor reactor = ReactorFactory.Create(name, new TestHandler());
        Assert.IsType<SocketReactor>(reactor);
    }

    [Theory]
    [InlineData("epoll", typeof(EpollReactor))]
    [InlineData("kqueue", typeof(KqueueReactor))]
    [InlineData("iocp", typeof(IocpReactor))]
    public void A_native_loop_is_created_on_its_os_and_refused_elsewhere(string name, Type expected)
    {
        bool supported = name switch
        {
            "epoll" => OperatingSystem.IsLinux(),
            "kqueue" => (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()) && Environment.Is64BitProcess,
            _ => OperatingSystem.IsWindows() && Environment.Is64BitProcess,
        };
        if (supported)
        {
            using IServerReactor reactor = ReactorFactory.Create(name, new TestHandler());
            Assert.IsType(expected, reactor);
        }
        else
        {
            Assert.Throws<PlatformNotSupportedException>(() => ReactorFactory.Create(name, new TestHandler()));
        }
    }

    [Fact]
    public void The_default_is_the_native_loop_of_the_os_io_uring_first_on_linux()
    {
        string expected = IoUringReactor.IsSupported ? "io_uring"
            : OperatingSystem.IsLinux() ? "epoll"
            : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? "kqueue"
            : OperatingSystem.IsWindows() ? "iocp"
            : "sockets";
        Assert.Equal(expected, ReactorFactory.DefaultKind);

        using IServerReactor byNull = ReactorFactory.Create((string?)null, new TestHandler());
        using IServerReactor byEmpty = ReactorFactory.Create("", new TestHandler());
        using IServerReactor byName = ReactorFactory.Create(expected, new TestHandler());
        Assert.Equal(byName.GetType(), byNull.GetType());
        Assert.Equal(byName.GetType(), byEmpty.GetType());
    }

    [Fact]
    public void The_default_for_a_build_target_considers_that_targets_loops_only()
    {
        // The one decision the generated code defers to: it passes its RuntimeIdentifier's OS, the runtime decides.
        Assert.Equal(ReactorFactory.DefaultLoop(), ReactorFactory.DefaultLoop(GeneratedTarget.Any));
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(IoUringReactor.IsSupported ? WebSocketLoop.IoUring : WebSocketLoop.Epoll, ReactorFactory.DefaultLoop(GeneratedTarget.Linux));
            Assert.Equal(WebSocketLoop.Sockets, ReactorFactory.DefaultLoop(GeneratedTarget.Bsd));
            Assert.Equal(WebSocketLoop.Sockets, ReactorFactory.DefaultLoop(GeneratedTarget.Windows));
        }
    }

    [Theory]
    [InlineData("io_uring", WebSocketLoop.IoUring)]
    [InlineData("IoUring", WebSocketLoop.IoUring)]
    [InlineData(" EPOLL ", WebSocketLoop.Epoll)]
    [InlineData("kqueue", WebSocketLoop.Kqueue)]
    [InlineData("Iocp", WebSocketLoop.Iocp)]
    [InlineData("sockets", WebSocketLoop.Sockets)]
    public void Names_parse_into_the_enum_case_insensitively_and_back(string name, WebSocketLoop expected)
    {
        Assert.True(ReactorFactory.TryParse(name, out var loop));
        Assert.Equal(expected, loop);
        Assert.True(ReactorFactory.TryParse(ReactorFactory.NameOf(loop), out var again));
        Assert.Equal(expected, again);
        Assert.False(ReactorFactory.TryParse("default", out _));
        Assert.False(ReactorFactory.TryParse("2", out _));
    }

    [Theory]
    [InlineData("io_uring_typo")]
    [InlineData("select")]
    public void An_unknown_name_is_rejected(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => ReactorFactory.Create(name, new TestHandler()));
        Assert.Contains(name, error.Message);
    }

    [Fact]
    public void Constructing_a_foreign_native_loop_throws()
    {
        // CA1416 is the very call this test makes on purpose: each loop is constructed only where it is unsupported,
        // to check that it refuses; no platform guard can admit those calls without removing them.
#pragma warning disable CA1416
        if (!OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
            Assert.Throws<PlatformNotSupportedException>(() => new KqueueReactor(new TestHandler()));
        if (!OperatingSystem.IsWindows())
            Assert.Throws<PlatformNotSupportedException>(() => new IocpReactor(new TestHandler()));
#pragma warning restore CA1416
        if (!OperatingSystem.IsLinux())
            Assert.Throws<PlatformNotSupportedException>(() => new EpollReactor(new TestHandler()));
        Assert.False(KqueueReactor.IsSupported && IocpReactor.IsSupported);
    }
}
