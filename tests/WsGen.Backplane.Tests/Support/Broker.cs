using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using StackExchange.Redis;
using WsGen.Nats;
using WsGen.Redis;

namespace WsGen.Backplane.Tests.Support;

/// <summary>
/// A real broker process (Debian's <c>redis-server</c> or <c>nats-server</c>, which tests/install-peers.sh installs) on
/// a free loopback port, that a test can kill and start again on the same port; and the broker's own view of who is
/// subscribed to what.
/// </summary>
public abstract class Broker : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private Process? _process;

    protected Broker(string program)
    {
        Program = program;
        Port = FreePort();
    }

    public string Program { get; }

    public int Port { get; }

    /// <summary>The name tests print and select by ("redis", "nats").</summary>
    public abstract string Name { get; }

    /// <summary>A backplane for one node, pointed at this broker.</summary>
    public abstract WebSocketBackplane CreateBackplane();

    /// <summary>The broker's own view: subscriptions by channel or subject name, over every client.</summary>
    public abstract Task<IReadOnlyDictionary<string, int>> SubscriptionsAsync();

    /// <summary>The broker's name of a topic's channel or subject.</summary>
    public abstract string ChannelOf(string topic);

    protected abstract string[] Arguments();

    public static Broker Create(string name) => name switch
    {
        "redis" => new RedisBroker(),
        "nats" => new NatsBroker(),
        _ => throw new ArgumentException($"No broker is named {name}.", nameof(name)),
    };

    /// <summary>Starts the broker and waits until its port takes connections.</summary>
    public void Start()
    {
        string path = File.Exists(Program) ? Program : throw new InvalidOperationException(
            $"{Program} is missing: run tests/install-peers.sh (test.sh and .ci/run do), which installs it from Debian");
        var start = new ProcessStartInfo(path, Arguments()) { RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(start)!;
        _ = _process.StandardOutput.ReadToEndAsync();
        _ = _process.StandardError.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < Timeout && !_process.HasExited)
            {
                Thread.Sleep(20);   // polling the port until the broker listens, with a deadline
            }
        }
    }

    /// <summary>Kills the broker at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        if (_process is null)
            return;
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Kill();
        GC.SuppressFinalize(this);
    }

    /// <summary>Waits until <paramref name="condition"/> holds of the broker's view; fails with the last view otherwise.</summary>
    public async Task WaitForSubscriptionsAsync(Func<IReadOnlyDictionary<string, int>, bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        IReadOnlyDictionary<string, int> view;
        while (!condition(view = await SubscriptionsAsync()))
        {
            if (deadline.Elapsed > Timeout)
                Assert.Fail($"{Name}: {what} did not happen; the broker has {string.Join(", ", view.Select(kv => $"{kv.Key}={kv.Value}"))}");
            await Task.Delay(20);
        }
    }

    /// <summary>A free loopback port (taken by nobody the instant it is returned).</summary>
    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public override string ToString() => Name;

    private sealed class RedisBroker() : Broker("/usr/bin/redis-server")
    {
        public override string Name => "redis";

        public override WebSocketBackplane CreateBackplane() => new RedisBackplane($"127.0.0.1:{Port}");

        public override string ChannelOf(string topic) => "wsgen:" + topic;

        protected override string[] Arguments() =>
            ["--port", $"{Port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"];

        public override async Task<IReadOnlyDictionary<string, int>> SubscriptionsAsync()
        {
            // PUBSUB CHANNELS and PUBSUB NUMSUB, asked of the server by a connection of the test's own.
            await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000");
            var server = redis.GetServer($"127.0.0.1:{Port}");
            var view = new Dictionary<string, int>();
            foreach (RedisChannel channel in await server.SubscriptionChannelsAsync(RedisChannel.Pattern("*")))
                view[channel.ToString()] = (int)await server.SubscriptionSubscriberCountAsync(channel);
            return view;
        }
    }

    private sealed class NatsBroker() : Broker("/usr/sbin/nats-server")
    {
        private readonly int _monitorPort = FreePort();

        public override string Name => "nats";

        public override WebSocketBackplane CreateBackplane() => new NatsBackplane($"nats://127.0.0.1:{Port}");

        public override string ChannelOf(string topic)
        {
            var subject = new System.Text.StringBuilder("wsgen.");
            foreach (byte b in System.Text.Encoding.UTF8.GetBytes(topic))
                subject.Append(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' ? $"{(char)b}" : $"%{b:X2}");
            return subject.ToString();
        }

        protected override string[] Arguments() => ["-a", "127.0.0.1", "-p", $"{Port}", "-m", $"{_monitorPort}"];

        public override async Task<IReadOnlyDictionary<string, int>> SubscriptionsAsync()
        {
            // The monitoring endpoint: every client connection with the subjects it subscribes to.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            using var json = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{_monitorPort}/connz?subs=1"));
            var view = new Dictionary<string, int>();
            if (json.RootElement.TryGetProperty("connections", out var connections) && connections.ValueKind == JsonValueKind.Array)
            {
                foreach (var connection in connections.EnumerateArray())
                {
                    if (!connection.TryGetProperty("subscriptions_list", out var subjects))
                        continue;
                    foreach (var subject in subjects.EnumerateArray())
                        view[subject.GetString()!] = view.GetValueOrDefault(subject.GetString()!) + 1;
                }
            }
            return view;
        }
    }
}
