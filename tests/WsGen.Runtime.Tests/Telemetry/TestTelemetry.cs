using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace WsGen.Tests.Telemetry;

/// <summary>A meter factory whose meters carry it as their scope, so that a <c>MetricCollector</c> created over it sees
/// one server's meter and none of the servers other tests run at the same time.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        options.Scope = this;
        var meter = new Meter(options);
        lock (_meters)
            _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
            foreach (var meter in _meters)
                meter.Dispose();
    }
}

/// <summary>A logger factory whose every logger is one <see cref="FakeLogger"/>, every level on.</summary>
internal sealed class TestLoggerFactory : ILoggerFactory
{
    public FakeLogger Logger { get; } = new();

    public ILogger CreateLogger(string categoryName) => Logger;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }
}
