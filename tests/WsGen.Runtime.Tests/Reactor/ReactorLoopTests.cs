using System.Net.Sockets;

namespace WsGen.Tests.Reactor;

public sealed class ReactorLoopTests
{
    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public async Task Post_from_another_thread_runs_on_the_loop_thread(string kind)
    {
        using var harness = new ReactorHarness(kind, new TestHandler());
        Assert.False(harness.Reactor.IsLoopThread);

        var (thread, isLoop) = await Task.Run(() => harness.OnLoop(() => (Environment.CurrentManagedThreadId, harness.Reactor.IsLoopThread)));

        Assert.Equal(harness.LoopThreadId, thread);
        Assert.True(isLoop);
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void Run_and_Dispose_throw_while_the_loop_runs_and_posted_work_keeps_its_order(string kind)
    {
        using var harness = new ReactorHarness(kind, new TestHandler());
        Assert.True(harness.OnLoop(() => harness.Reactor.IsLoopThread));

        Assert.Throws<InvalidOperationException>(() => harness.Reactor.Run(CancellationToken.None));
        Assert.Throws<InvalidOperationException>(harness.Reactor.Dispose);

        var order = new List<int>();
        for (int i = 0; i < 50; i++)
            harness.Reactor.Post(s => order.Add((int)s!), i);
        Assert.Equal(Enumerable.Range(0, 50), harness.OnLoop(() => order.ToArray()));
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void OnTick_is_called_on_the_loop_thread(string kind)
    {
        var handler = new TestHandler();
        using var harness = new ReactorHarness(kind, handler);

        Assert.True(handler.Ticked.Wait(ReactorHarness.Generous));
        Assert.True(handler.LastTick > 0);
        Assert.All(handler.CallbackThreads, id => Assert.Equal(harness.LoopThreadId, id));
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public async Task Shutdown_calls_OnShutdown_and_Run_returns_once_the_handler_closed_its_connections(string kind)
    {
        var handler = new TestHandler { CloseOnShutdown = true };
        var options = new ReactorOptions { DrainTimeout = TimeSpan.FromMinutes(5) };
        using var harness = new ReactorHarness(kind, handler, options);
        using Socket client = harness.Connect();
        client.SendAll("ping"u8);
        client.ReceiveExactly(4);

        var stopping = Task.Run(harness.Stop);
        Assert.True(handler.ShutdownCalled.Wait(ReactorHarness.Generous));
        Assert.Empty(client.ReceiveToEnd());
        client.Close();

        await stopping.WaitAsync(ReactorHarness.Generous);
        Assert.Equal(1, handler.ShutdownCalls);
        Assert.Equal(1, handler.CloseCounts.Values.Single());
        Assert.Throws<SocketException>(() => harness.Connect());
    }

    [Theory]
    [MemberData(nameof(ReactorHarness.Kinds), MemberType = typeof(ReactorHarness))]
    public void Run_returns_after_the_drain_timeout_when_the_handler_keeps_its_connections(string kind)
    {
        var handler = new TestHandler { CloseOnShutdown = false };
        var options = new ReactorOptions { DrainTimeout = TimeSpan.FromMilliseconds(300) };
        using var harness = new ReactorHarness(kind, handler, options);
        using Socket client = harness.Connect();
        client.SendAll("ping"u8);
        client.ReceiveExactly(4);

        harness.Stop();

        Assert.Equal(1, handler.ShutdownCalls);
        Assert.Equal(1, handler.CloseCounts.Values.Single());
        Assert.Equal(0, harness.Reactor.ConnectionCount);
    }
}
