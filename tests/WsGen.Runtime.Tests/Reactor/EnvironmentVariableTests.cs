using System.Net;

namespace WsGen.Tests.Reactor;

/// <summary>Tests that set WSGEN_REACTOR run alone (after the parallel ones): every server whose options leave the loop
/// at <see cref="WebSocketLoop.Default"/> reads the variable when it starts.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentVariableCollection
{
    public const string Name = "WSGEN_REACTOR";
}

[Collection(EnvironmentVariableCollection.Name)]
public sealed class EnvironmentVariableTests
{
    [Fact]
    public void Factory_honours_the_environment_variable()
    {
        string? saved = Environment.GetEnvironmentVariable(ReactorFactory.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, "sockets");
            using (IServerReactor reactor = ReactorFactory.Create(new TestHandler()))
                Assert.IsType<SocketReactor>(reactor);

            Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, "epoll");
            using (IServerReactor reactor = ReactorFactory.Create(new TestHandler()))
                Assert.IsType<EpollReactor>(reactor);

            foreach (string name in new[] { "io_uring", "iouring", "IO_URING" })
            {
                Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, name);
                if (IoUringReactor.IsSupported)
                {
                    using IServerReactor reactor = ReactorFactory.Create(new TestHandler());
                    Assert.IsType<IoUringReactor>(reactor);
                }
                else
                {
                    Assert.Throws<PlatformNotSupportedException>(() => ReactorFactory.Create(new TestHandler()));
                }
            }

            Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, "kqueue-typo");
            Assert.Throws<ArgumentException>(() => ReactorFactory.Create(new TestHandler()));

            // No override: io_uring when the kernel supports it, else the platform's native loop.
            Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, null);
            Type expected = IoUringReactor.IsSupported ? typeof(IoUringReactor)
                : OperatingSystem.IsLinux() ? typeof(EpollReactor)
                : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? typeof(KqueueReactor)
                : OperatingSystem.IsWindows() ? typeof(IocpReactor)
                : typeof(SocketReactor);
            using (IServerReactor reactor = ReactorFactory.Create(new TestHandler()))
                Assert.IsType(expected, reactor);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, saved);
        }
    }

    [Fact]
    public void A_server_takes_the_loop_the_variable_names_unless_its_options_name_one()
    {
        string? saved = Environment.GetEnvironmentVariable(ReactorFactory.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, "Sockets");
            Assert.Equal("sockets", StartEcho(WebSocketLoop.Default));
            Assert.Equal("epoll", StartEcho(WebSocketLoop.Epoll));

            // The generated path too: its build's target only matters when neither the options nor the variable choose.
            using (var generated = Echo.WsGenApp.CreateServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) }))
            {
                generated.Start();
                Assert.Equal("sockets", generated.ReactorName);
            }

            Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, "no-such-loop");
            using var server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
            server.Map("*", new Echo.EchoEndpoint());
            var error = Assert.Throws<ArgumentException>(() => server.Start());
            Assert.Contains("Unknown reactor 'no-such-loop'", error.Message);
            Assert.Contains(ReactorFactory.EnvironmentVariable, error.Message);
            Assert.Equal(0, server.LoopCount);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ReactorFactory.EnvironmentVariable, saved);
        }
    }

    private static string StartEcho(WebSocketLoop loop)
    {
        using var server = new WebSocketServer(new WebSocketServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), Loop = loop });
        server.Map("*", new Echo.EchoEndpoint());
        server.Start();
        return server.ReactorName!;
    }
}
