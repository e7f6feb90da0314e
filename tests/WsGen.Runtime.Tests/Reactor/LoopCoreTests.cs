using System.Collections.Concurrent;
using WsGen.Reactor;

namespace WsGen.Tests.Reactor;

/// <summary>The plumbing the reactor loops share (<see cref="LoopCore{TConn}"/>), driven over a backend that waits
/// on a semaphore. The loops themselves are covered by the harness tests; these pin what the core decides.</summary>
public sealed class LoopCoreTests
{
    [Fact]
    public void Posted_work_runs_on_the_loop_thread_in_the_order_it_was_posted()
    {
        var host = new Host();
        using var stop = new CancellationTokenSource();
        var seen = new List<(int Item, bool OnLoop, int Thread)>();
        for (int i = 0; i < 100; i++)
            host.Core.Post(state => seen.Add(((int)state!, host.Core.IsLoopThread, Environment.CurrentManagedThreadId)), i);
        host.Core.Post(_ => stop.Cancel(), null);

        Assert.False(host.Core.IsLoopThread);
        host.Core.Run(stop.Token);

        Assert.Equal(Enumerable.Range(0, 100), seen.Select(s => s.Item));
        Assert.All(seen, s => Assert.True(s.OnLoop));
        Assert.All(seen, s => Assert.Equal(Environment.CurrentManagedThreadId, s.Thread));
        Assert.False(host.Core.IsLoopThread);
        Assert.Equal(0, host.Core.LoopThreadId);
    }

    [Fact]
    public void Run_calls_the_backend_in_order_and_does_not_wait_while_work_is_posted()
    {
        var host = new Host();
        using var stop = new CancellationTokenSource();
        host.Core.Post(_ => host.Calls.Enqueue("posted"), null);
        host.Core.Post(_ => stop.Cancel(), null);

        host.Core.Run(stop.Token);

        string[] calls = [.. host.Calls.Where(c => c != "woken")];
        Assert.Equal("starting", calls[0]);
        Assert.Equal("end turn", calls[1]);
        Assert.Equal("wait 0", calls[2]);
        Assert.Equal("posted", calls[3]);
        Assert.Equal("stopped", calls[^1]);
        // What a turn gathered goes out before every wait.
        for (int i = 0; i < calls.Length; i++)
        {
            if (calls[i].StartsWith("wait ", StringComparison.Ordinal))
                Assert.Equal("end turn", calls[i - 1]);
        }
        Assert.Equal(1, calls.Count(c => c == "starting"));
        Assert.Equal(1, calls.Count(c => c == "stopped"));
        Assert.Equal(1, host.Handler.ShutdownCalls);
    }

    [Fact]
    public void Run_while_running_and_Dispose_while_running_throw_and_the_loop_stays_usable()
    {
        var host = new Host();
        using var stop = new CancellationTokenSource();
        Exception? secondRun = null;
        Exception? dispose = null;
        host.Core.Post(_ =>
        {
            secondRun = Record(() => host.Core.Run(CancellationToken.None));
            dispose = Record(() => host.Core.TryBeginDispose());
            stop.Cancel();
        }, null);

        host.Core.Run(stop.Token);

        Assert.IsType<InvalidOperationException>(secondRun);
        Assert.IsType<InvalidOperationException>(dispose);
        Assert.False(host.Core.IsDisposed);
        Assert.True(host.Core.TryBeginDispose());
        Assert.False(host.Core.TryBeginDispose());
        Assert.Throws<ObjectDisposedException>(() => host.Core.Run(CancellationToken.None));
        Assert.Throws<ObjectDisposedException>(host.Core.EnsureCanListen);
    }

    [Fact]
    public void A_failing_start_ends_Run_and_leaves_the_loop_idle()
    {
        var host = new Host { FailStart = true };

        Assert.Throws<InvalidOperationException>(() => host.Core.Run(CancellationToken.None));

        Assert.False(host.Core.IsRunning);
        Assert.Equal(0, host.Core.LoopThreadId);
        Assert.DoesNotContain("stopped", host.Calls);
        Assert.True(host.Core.TryBeginDispose());
    }

    [Fact]
    public void A_registration_runs_as_posted_work_also_when_made_on_the_loop_thread()
    {
        var host = new Host();
        using var stop = new CancellationTokenSource();
        bool registeredInsideCallback = true;
        host.Core.Post(_ =>
        {
            host.Core.Register("inner");
            registeredInsideCallback = host.Registered.Contains("inner");
            host.Core.Post(_ => stop.Cancel(), null);
        }, null);

        host.Core.Run(stop.Token);

        Assert.False(registeredInsideCallback);
        Assert.Equal(new object[] { "inner" }, host.Registered);
        Assert.Empty(host.Dropped);
    }

    [Fact]
    public void Disposing_drops_posted_work_and_closes_registrations_that_never_ran()
    {
        var host = new Host();
        bool ran = false;
        host.Core.Register("before");
        host.Core.Post(_ => ran = true, null);

        Assert.True(host.Core.TryBeginDispose());
        host.Core.DropPosted();
        host.Core.Register("after");
        host.Core.Post(_ => ran = true, null);

        Assert.Equal(new object[] { "before", "after" }, host.Dropped);
        Assert.Empty(host.Registered);
        Assert.False(ran);
    }

    [Fact]
    public void A_registration_racing_Dispose_is_dropped_exactly_once()
    {
        // Another thread registers while the loop is being disposed, over and over: whichever side comes second,
        // the registration's socket must be closed once, never left in a queue nobody drains.
        const int Rounds = 300_000;
        using var go = new Barrier(2);
        using var done = new Barrier(2);
        Host? host = null;
        var poster = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < Rounds; i++)
                {
                    go.SignalAndWait();
                    host!.Core.Register(i);
                    done.SignalAndWait();
                }
            }
            catch (ObjectDisposedException)
            {
                // The test thread failed an assertion and disposed the barriers: stop quietly.
            }
        }) { IsBackground = true };
        poster.Start();

        var wrong = new List<string>();
        for (int i = 0; i < Rounds; i++)
        {
            host = new Host();
            go.SignalAndWait();
            Assert.True(host.Core.TryBeginDispose());
            host.Core.DropPosted();
            done.SignalAndWait();
            int dropped = host.DroppedCount(i);
            if (dropped != 1 && wrong.Count < 5)
                wrong.Add($"round {i}: dropped {dropped} times");
        }

        poster.Join();
        Assert.Empty(wrong);
    }

    [Fact]
    public void Posts_signal_the_backend_once_until_it_saw_the_wake_up()
    {
        var host = new Host();
        for (int i = 0; i < 5; i++)
            host.Core.Post(_ => { }, null);
        Assert.Equal(1, host.Signals);

        host.Core.WakeConsumed();
        host.Core.Post(_ => { }, null);
        Assert.Equal(2, host.Signals);
    }

    [Fact]
    public async Task Cancelling_from_another_thread_wakes_the_waiting_loop()
    {
        // The backend waits far longer than the core asks, so that only the wake-up can end this wait.
        var host = new Host { IdleWaitMilliseconds = (int)ReactorHarness.Generous.TotalMilliseconds };
        using var stop = new CancellationTokenSource();
        Task canceller = Task.Run(() =>
        {
            Assert.True(host.Waiting.Wait(ReactorHarness.Generous));
            stop.Cancel();
        });

        host.Core.Run(stop.Token);
        await canceller;

        Assert.Equal(1, host.Signals);
        Assert.Contains("woken", host.Calls);
        Assert.Equal(1, host.Handler.ShutdownCalls);
    }

    [Fact]
    public void An_accept_pause_bounds_the_wait_and_ends_with_one_resume()
    {
        var host = new Host();
        using var stop = new CancellationTokenSource();
        host.OnResume = stop.Cancel;
        host.Core.Post(_ => host.Core.PauseAccepting(), null);

        host.Core.Run(stop.Token);

        Assert.Equal(1, host.Resumes);
        Assert.False(host.Core.AcceptPaused);
        int[] waits = [.. host.Calls.Where(c => c.StartsWith("wait ", StringComparison.Ordinal)).Select(c => int.Parse(c[5..]))];
        Assert.True(waits.Length >= 2, "the loop waited again during the pause");
        Assert.All(waits.Skip(1), w => Assert.InRange(w, 0, LoopCore<Conn>.AcceptBackoffMilliseconds));
    }

    [Fact]
    public void Ending_an_accept_pause_early_skips_the_resume()
    {
        var host = new Host();
        using var stop = new CancellationTokenSource();
        host.Core.Post(_ =>
        {
            host.Core.PauseAccepting();
            host.Core.ClearAcceptPause();
            host.Core.Post(_ => stop.Cancel(), null);
        }, null);

        host.Core.Run(stop.Token);

        Assert.Equal(0, host.Resumes);
        Assert.False(host.Core.AcceptPaused);
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>A backend that waits on a semaphore and records what the core asked of it.</summary>
    private sealed class Host : ILoopHost, ILifecycleHost<Conn>
    {
        private readonly SemaphoreSlim _signal = new(0);
        private int _signals;

        public Host()
        {
            Lifecycle = new ConnectionLifecycle<Conn>(Handler, ReactorOptions.Default, this);
            Core = new LoopCore<Conn>(Handler, Lifecycle, this);
        }

        public TestHandler Handler { get; } = new();

        public ConnectionLifecycle<Conn> Lifecycle { get; }

        public LoopCore<Conn> Core { get; }

        public ConcurrentQueue<string> Calls { get; } = new();

        public List<object> Registered { get; } = [];

        public List<object> Dropped { get; } = [];

        public bool FailStart { get; init; }

        /// <summary>When positive, how long a wait the core bounds to more than 0 ms really lasts.</summary>
        public int IdleWaitMilliseconds { get; init; }

        /// <summary>Set when such a wait begins.</summary>
        public ManualResetEventSlim Waiting { get; } = new();

        public Action? OnResume { get; set; }

        public int Resumes { get; private set; }

        public int Signals => Volatile.Read(ref _signals);

        public int ConnectionCount => 0;

        public void Starting()
        {
            Calls.Enqueue("starting");
            if (FailStart)
                throw new InvalidOperationException("the backend failed to start");
        }

        public void WaitAndHandle(int timeoutMilliseconds)
        {
            Calls.Enqueue("wait " + timeoutMilliseconds);
            int wait = timeoutMilliseconds;
            if (wait > 0 && IdleWaitMilliseconds > 0)
            {
                wait = IdleWaitMilliseconds;
                Waiting.Set();
            }

            if (_signal.Wait(wait))
                Calls.Enqueue("woken");
            Core.WakeConsumed();
        }

        public void Signal()
        {
            Interlocked.Increment(ref _signals);
            _signal.Release();
        }

        public void ResumeAccepting()
        {
            Resumes++;
            OnResume?.Invoke();
        }

        public void Stopped() => Calls.Enqueue("stopped");

        public void EndTurn() => Calls.Enqueue("end turn");

        public void RegisterOnLoop(object state) => Registered.Add(state);

        public void DropRegistration(object state)
        {
            lock (Dropped)
                Dropped.Add(state);
        }

        public int DroppedCount(object state)
        {
            lock (Dropped)
                return Dropped.Count(d => d.Equals(state));
        }

        public void Finish(Conn conn)
        {
            conn.State = LoopConnState.Closed;
            Lifecycle.QueueClose(conn);
        }

        public void CloseListeners() => Calls.Enqueue("close listeners");
    }

    private sealed class Conn : ILifecycleConn
    {
        public LoopConnState State { get; set; }

        public object? Context { get; set; }

        public int Read(Span<byte> buffer) => NetConn.WouldBlock;

        public int Write(ReadOnlySpan<byte> data) => data.Length;

        public void Close()
        {
        }
    }
}
