using System.Net;
using System.Net.Sockets;

namespace WsGen.Tests.Reactor;

/// <summary>Runs a reactor (io_uring, epoll, kqueue, iocp or sockets) on a background thread, listening on a loopback port.</summary>
internal sealed class ReactorHarness : IDisposable
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private Exception? _failure;

    public ReactorHarness(string kind, TestHandler handler, ReactorOptions? options = null, Action<IServerReactor>? configure = null)
    {
        Handler = handler;
        Reactor = ReactorFactory.Create(kind, handler, options);
        configure?.Invoke(Reactor);
        EndPoint = Reactor.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        _thread = new Thread(RunLoop) { IsBackground = true, Name = "reactor-" + kind };
        _thread.Start();
    }

    /// <summary>The loops that run on this OS: its native loops (io_uring when the kernel has it and epoll on Linux, kqueue on macOS/FreeBSD, iocp on
    /// Windows) and the portable one. Each conformance theory runs against all of them.</summary>
    public static TheoryData<string> Kinds => [.. KindList];

    /// <summary>The loops over the platform's own poller: every loop but the portable sockets one, whose .NET sockets
    /// make no promise about allocation.</summary>
    public static TheoryData<string> NativeKinds => [.. KindList.Where(k => k != "sockets")];

    /// <summary>Loops that can register a <see cref="WsGen.Transport.SocketConn"/>, a Linux descriptor.</summary>
    public static TheoryData<string> LinuxDescriptorKinds => IoUringReactor.IsSupported ? ["epoll", "sockets", "io_uring"] : ["epoll", "sockets"];

    public static IReadOnlyList<string> KindList
    {
        get
        {
            var kinds = new List<string>();
            if (IoUringReactor.IsSupported)
                kinds.Add("io_uring");
            if (EpollReactor.IsSupported)
                kinds.Add("epoll");
            if (KqueueReactor.IsSupported)
                kinds.Add("kqueue");
            if (IocpReactor.IsSupported)
                kinds.Add("iocp");
            kinds.Add("sockets");
            return kinds;
        }
    }

    public IServerReactor Reactor { get; }

    public TestHandler Handler { get; }

    public IPEndPoint EndPoint { get; }

    public int LoopThreadId => _thread.ManagedThreadId;

    public bool IsRunning => _thread.IsAlive;

    /// <summary>A connected blocking client socket with a generous receive timeout.</summary>
    public Socket Connect(int receiveBufferSize = 0)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBufferSize > 0)
            socket.ReceiveBufferSize = receiveBufferSize;
        socket.ReceiveTimeout = (int)Generous.TotalMilliseconds;
        socket.SendTimeout = (int)Generous.TotalMilliseconds;
        socket.Connect(EndPoint);
        return socket;
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread and waits for its result.</summary>
    public T OnLoop<T>(Func<T> action)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Reactor.Post(_ =>
        {
            try
            {
                done.SetResult(action());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }, null);
        Assert.True(done.Task.Wait(Generous), "posted work did not run");
        return done.Task.Result;
    }

    /// <summary>True when the loop has stopped reading one of its open connections because more than
    /// <see cref="ReactorOptions.PauseReadingThreshold"/> bytes wait for it (read on the loop thread).</summary>
    public bool ReadingPaused() => OnLoop(() => Handler.Open.Keys.Any(static conn =>
        (bool)conn.GetType().GetProperty("ReadPaused", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!.GetValue(conn)!));

    /// <summary>Cancels the loop and waits for Run to return.</summary>
    public void Stop()
    {
        _stop.Cancel();
        Assert.True(_thread.Join(Generous), "Run did not return");
        if (_failure is not null)
            throw new InvalidOperationException("The loop failed.", _failure);
    }

    public void Dispose()
    {
        if (_thread.IsAlive)
            Stop();
        Reactor.Dispose();
        _stop.Dispose();
    }

    private void RunLoop()
    {
        try
        {
            Reactor.Run(_stop.Token);
        }
        catch (Exception e)
        {
            _failure = e;
        }
    }
}

internal static class SocketTestExtensions
{
    public static void SendAll(this Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
            data = data[socket.Send(data)..];
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (throws if the stream ends before).</summary>
    public static byte[] ReceiveExactly(this Socket socket, int count)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = socket.Receive(buffer, read, count - read, SocketFlags.None);
            if (n == 0)
                throw new EndOfStreamException($"The stream ended after {read} of {count} bytes.");
            read += n;
        }

        return buffer;
    }

    /// <summary>Reads until the peer's end of stream.</summary>
    public static byte[] ReceiveToEnd(this Socket socket)
    {
        var output = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
            output.Write(buffer, 0, n);
        return output.ToArray();
    }

    public static byte[] Pattern(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the generous timeout passes.</summary>
    public static bool WaitUntil(Func<bool> condition) => WaitUntil(condition, ReactorHarness.Generous);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                return false;
            Thread.Sleep(5);
        }

        return true;
    }
}
