using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WsGen.Server;

/// <summary>
/// A server's logger and its metrics: the <see cref="Meter"/> named <c>WsGen</c>, shaped after Kestrel's
/// (<c>kestrel.active_connections</c>, <c>kestrel.connection.duration</c>, <c>kestrel.rejected_connections</c>), every
/// measurement with the <c>server.address</c> and <c>server.port</c> the server listens on.
/// </summary>
/// <remarks>
/// The counters live in the loops (<see cref="LoopCounters"/>) and reach a listener through observable instruments,
/// read when the listener collects; the one instrument recorded as it happens is the connection duration, once per
/// close. Nothing is measured per message here.
/// </remarks>
internal sealed class ServerTelemetry : IDisposable
{
    /// <summary>The name of the meter (<c>dotnet-counters monitor --counters WsGen</c>).</summary>
    public const string MeterName = "WsGen";

    /// <summary>Bucket boundaries of the connection duration, in seconds (Kestrel's).</summary>
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

    private readonly IMeterFactory? _meterFactory;
    private Meter? _meter;
    private Histogram<double>? _duration;
    private KeyValuePair<string, object?>[] _tags = [];
    private ServerLoop[] _loops = [];
    private IServerReactor[] _reactors = [];

    /// <summary>Telemetry that logs to <paramref name="loggerFactory"/> and creates its meter through
    /// <paramref name="meterFactory"/> (each when given; otherwise no logs, and a meter of its own).</summary>
    public ServerTelemetry(ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        Logger = loggerFactory?.CreateLogger("WsGen.WebSocketServer") ?? NullLogger.Instance;
        _meterFactory = meterFactory;
    }

    /// <summary>Telemetry that logs nothing and publishes nothing (loops made by tests without a server).</summary>
    public static ServerTelemetry None { get; } = new(null, null);

    /// <summary>Where the server's events go (see <see cref="ServerLog"/>).</summary>
    public ILogger Logger { get; }

    /// <summary>Creates the meter and its instruments over <paramref name="loops"/>, once the server listens on
    /// <paramref name="endPoint"/>.</summary>
    public void Publish(IPEndPoint endPoint, ServerLoop[] loops, IServerReactor[] reactors, WebSocketBackplane? backplane = null)
    {
        _loops = loops;
        _reactors = reactors;
        _tags = [new("server.address", endPoint.Address.ToString()), new("server.port", endPoint.Port)];
        var meter = _meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        meter.CreateObservableUpDownCounter("wsgen.active_connections", () => Measure(SumConnections()), "{connection}",
            "Connections held by the server, handshakes included.");
        meter.CreateObservableCounter("wsgen.messages", () => ByDirection(c => c.MessagesReceived, c => c.MessagesSent), "{message}",
            "Data messages delivered to the endpoints (receive) and sent by them (transmit).");
        meter.CreateObservableCounter("wsgen.bytes", () => ByDirection(c => c.BytesReceived, c => c.BytesSent), "By",
            "Payload bytes of the data messages delivered to the endpoints (receive) and sent by them (transmit).");
        meter.CreateObservableCounter("wsgen.closes", () => ByKey("wsgen.close.code", (c, totals) => c.AddClosesTo(totals)), "{connection}",
            "WebSocket connections closed, by the close code their endpoint was told (1006 when TCP ended without a close frame).");
        meter.CreateObservableCounter("wsgen.rejected_handshakes", () => ByKey("http.response.status_code", (c, totals) => c.AddRejectionsTo(totals)), "{connection}",
            "Upgrade requests refused, by the HTTP status of the refusal.");
        meter.CreateObservableCounter("wsgen.publish.deliveries", () => Measure(Sum(c => c.PublishDeliveries)), "{message}",
            "Published messages written to subscribers (one per subscriber).");
        meter.CreateObservableCounter("wsgen.publish.drops", () => Measure(Sum(c => c.PublishDrops)), "{message}",
            "Published messages dropped for subscribers past their endpoint's publish limit.");
        if (backplane is not null)
        {
            meter.CreateObservableCounter("wsgen.backplane.sent", () => Measure(backplane.Sent), "{message}",
                "Messages published on this node that reached the broker (to other nodes).");
            meter.CreateObservableCounter("wsgen.backplane.received", () => Measure(backplane.Received), "{message}",
                "Messages of other nodes received from the broker and delivered to this node's subscribers.");
            meter.CreateObservableCounter("wsgen.backplane.dropped", () => Measure(backplane.Dropped), "{message}",
                "Messages published on this node that did not reach the broker: unreachable, or the backplane's queue full.");
        }
        meter.CreateObservableUpDownCounter("wsgen.backpressure.bytes", () => Measure(SumBackpressure()), "By",
            "Bytes waiting for slow peers' sockets (and input held while their reading is paused).");
        _duration = meter.CreateHistogram("wsgen.connection.duration", "s", "How long connections lasted, from accept to close.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _meter = meter;
    }

    /// <summary>Records, when a listener wants it, that a connection lasted <paramref name="milliseconds"/>.</summary>
    public void RecordDuration(uint milliseconds)
    {
        if (_duration is { Enabled: true } duration)
            duration.Record(milliseconds / 1000.0, new TagList(_tags));
    }

    public void Dispose()
    {
        // A meter from an IMeterFactory belongs to the factory, which disposes it with the host.
        if (_meterFactory is null)
            _meter?.Dispose();
        _meter = null;
        _duration = null;
    }

    private long SumConnections()
    {
        long sum = 0;
        foreach (var loop in _loops)
            sum += loop.ConnectionCount;
        return sum;
    }

    private long Sum(Func<LoopCounters, long> counter)
    {
        long sum = 0;
        foreach (var loop in _loops)
            sum += counter(loop.Counters);
        return sum;
    }

    private long SumBackpressure()
    {
        long sum = 0;
        foreach (var reactor in _reactors)
            sum += reactor.BackpressureBytes;
        return sum;
    }

    private Measurement<long> Measure(long value) => new(value, _tags);

    private IEnumerable<Measurement<long>> ByDirection(Func<LoopCounters, long> received, Func<LoopCounters, long> sent)
    {
        long r = 0, s = 0;
        foreach (var loop in _loops)
        {
            r += received(loop.Counters);
            s += sent(loop.Counters);
        }
        return [With(r, "network.io.direction", "receive"), With(s, "network.io.direction", "transmit")];
    }

    private IEnumerable<Measurement<long>> ByKey(string name, Action<LoopCounters, Dictionary<int, long>> add)
    {
        var totals = new Dictionary<int, long>();
        foreach (var loop in _loops)
            add(loop.Counters, totals);
        var measurements = new List<Measurement<long>>(totals.Count);
        foreach (var (key, n) in totals.OrderBy(t => t.Key))
            measurements.Add(With(n, name, key));
        return measurements;
    }

    private Measurement<long> With(long value, string name, object tag) =>
        new(value, [.. _tags, new KeyValuePair<string, object?>(name, tag)]);
}
