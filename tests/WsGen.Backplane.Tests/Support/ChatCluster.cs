using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using WsGen.Tests.Samples;

namespace WsGen.Backplane.Tests.Support;

/// <summary>What the failover tests need besides <see cref="Broker"/>: nginx in front of Chat nodes, as
/// samples/Chat/cluster/run.sh starts it, as a foreground process on a free loopback port.</summary>
internal static class ChatCluster
{
    /// <summary>The Chat options that join a node to <paramref name="broker"/>.</summary>
    public static string[] JoinArgs(Broker broker) =>
        broker.Name == "redis" ? ["--redis", $"127.0.0.1:{broker.Port}"] : ["--nats", $"nats://127.0.0.1:{broker.Port}"];

    /// <summary>Established TCP connections whose local end is <paramref name="port"/> on loopback: a node's clients.</summary>
    public static int Connections(int port) =>
        IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections()
            .Count(c => c.State == TcpState.Established && c.LocalEndPoint.Port == port && IPAddress.IsLoopback(c.LocalEndPoint.Address));

    /// <summary>Starts <paramref name="file"/> and waits (up to 30 s) until <paramref name="port"/> accepts; its output is
    /// kept for the failure message.</summary>
    public static Process StartListening(string file, int port, params string[] args)
    {
        Assert.True(File.Exists(file), $"{file} is missing: install the Debian packages of tests/install-peers.sh");
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Connect(IPAddress.Loopback, port);
                return process;
            }
            catch (SocketException) when (!process.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(50); // polling a port that is not open yet: there is no event to wait for
            }
            catch (SocketException)
            {
                process.Kill(entireProcessTree: true);
                throw new Xunit.Sdk.XunitException($"{Path.GetFileName(file)} is not listening on {port}: {string.Join('\n', output)}");
            }
        }
    }

    public static void Kill(Process process)
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }
}

/// <summary>A broker and two Chat nodes joined to it, each node a process of its own; <see cref="Kill"/> ends a node
/// as a crash would.</summary>
internal sealed class TwoChatNodes : IDisposable
{
    private readonly SampleProcess?[] _nodes = new SampleProcess?[2];

    public TwoChatNodes(string broker)
    {
        Broker = Broker.Create(broker);
        try
        {
            Broker.Start();
            for (int i = 0; i < _nodes.Length; i++)
                _nodes[i] = SampleProcess.Start("Chat", ChatCluster.JoinArgs(Broker));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public Broker Broker { get; }

    /// <summary>Node <paramref name="node"/>'s address (0 or 1).</summary>
    public IPEndPoint this[int node] => _nodes[node]!.EndPoint;

    /// <summary>Kills node <paramref name="node"/> (SIGKILL, its whole process tree).</summary>
    public void Kill(int node)
    {
        _nodes[node]!.Dispose();
        _nodes[node] = null;
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
            node?.Dispose();
        Broker.Dispose();
    }
}

/// <summary>nginx in front of Chat nodes, with the configuration of samples/Chat/cluster/nginx.conf (its fields filled
/// in as run.sh fills them), in the foreground with its files in a temporary folder.</summary>
internal sealed class ClusterNginx : IDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _folder;

    public ClusterNginx(params IPEndPoint[] nodes)
    {
        var template = Path.Combine(RepositoryRoot(), "samples", "Chat", "cluster", "nginx.conf");
        _folder = Directory.CreateTempSubdirectory("wsgen-nginx-");
        // nginx started as root runs its workers as another user: they need to reach the folder.
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(_folder.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Port = Broker.FreePort();
        var servers = string.Join('\n', nodes.Select(n => $"        server {n} max_fails=1 fail_timeout=5s;"));
        var config = Path.Combine(_folder.FullName, "nginx.conf");
        File.WriteAllText(config, File.ReadAllText(template)
            .Replace("@DIR@", _folder.FullName).Replace("@PORT@", Port.ToString()).Replace("@NODES@", servers));
        _process = ChatCluster.StartListening("/usr/sbin/nginx", Port,
            "-e", Path.Combine(_folder.FullName, "error.log"), "-p", _folder.FullName, "-c", config, "-g", "daemon off;");
    }

    public int Port { get; }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WsGen.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("the tests run outside the repository: samples/Chat/cluster/nginx.conf is not found");
    }

    public void Dispose()
    {
        ChatCluster.Kill(_process);
        _process.Dispose();
        _folder.Delete(recursive: true);
    }
}

/// <summary>A chat member over WsGen's client whose messages a thread of its own queues as they come, so that a test
/// can wait for a line with a deadline and keep reading afterwards.</summary>
internal sealed class ChatMember : IDisposable
{
    private readonly WebSocketClient _client;
    private readonly BlockingCollection<string> _lines = [];
    private readonly Thread _reader;

    public ChatMember(IPEndPoint node, string name)
    {
        _client = WebSocketClient.Connect(new Uri($"ws://{node}/chat?name={name}"));
        _reader = new Thread(Read) { IsBackground = true, Name = "chat member " + name };
        _reader.Start();
    }

    private void Read()
    {
        try
        {
            while (true)
            {
                var frame = _client.ReadFrame();
                bool close = frame.Opcode == WebSocketOpcode.Close;
                if (!close)
                    _lines.Add(Encoding.UTF8.GetString(frame.Payload.Span));
                frame.Release();
                if (close)
                    break;
            }
        }
        catch (Exception e) when (e is WebSocketProtocolException or InvalidOperationException or ObjectDisposedException or IOException)
        {
        }
        _lines.CompleteAdding();
    }

    public void Say(string text) => _client.SendText(text);

    /// <summary>Sends "/join ROOM" and waits for "joined ROOM".</summary>
    public void Join(string room)
    {
        Say("/join " + room);
        Assert.True(WaitFor(line => line == "joined " + room, TimeSpan.FromSeconds(30)) is not null, $"no answer to /join {room}");
    }

    /// <summary>The first line (skipping the others) that <paramref name="match"/> accepts within <paramref name="timeout"/>,
    /// or null.</summary>
    public string? WaitFor(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (!_lines.TryTake(out var line, timeout - deadline.Elapsed))
                return null;
            if (match(line))
                return line;
        }
        return null;
    }

    /// <summary>Waits until every line of <paramref name="expected"/> has come, in any order, within
    /// <paramref name="timeout"/>; the lines still missing (none when all came).</summary>
    public IReadOnlyCollection<string> WaitForAll(IEnumerable<string> expected, TimeSpan timeout)
    {
        var missing = new HashSet<string>(expected);
        var deadline = Stopwatch.StartNew();
        while (missing.Count > 0 && deadline.Elapsed < timeout && WaitFor(missing.Contains, timeout - deadline.Elapsed) is { } line)
            missing.Remove(line);
        return missing;
    }

    /// <summary>Says "TEXT N" (N = 1, 2 ...) once a second until <paramref name="listener"/> gets a line that
    /// <paramref name="heard"/> accepts, for up to a minute: for a path that comes up in its own time (a node's
    /// subscription at the broker, a reconnecting page). True if it was heard.</summary>
    public bool SayUntil(string text, ChatMember listener, Func<string, bool> heard)
    {
        var deadline = Stopwatch.StartNew();
        for (int n = 1; deadline.Elapsed < TimeSpan.FromSeconds(60); n++)
        {
            Say($"{text} {n}");
            if (listener.WaitFor(heard, TimeSpan.FromSeconds(1)) is not null)
                return true;
        }
        return false;
    }

    public void Dispose()
    {
        _client.Dispose();
        _reader.Join(TimeSpan.FromSeconds(10));
    }
}
