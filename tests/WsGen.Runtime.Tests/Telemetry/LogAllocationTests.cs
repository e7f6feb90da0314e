using System.Net;
using Microsoft.Extensions.Logging;
using WsGen.Server;

namespace WsGen.Tests.Telemetry;

/// <summary>A log event whose level is off costs a check and allocates nothing (no boxing, no message, no state).</summary>
public sealed class LogAllocationTests
{
    /// <summary>A logger with every level off that fails the test if anything is logged to it anyway.</summary>
    private sealed class OffLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new InvalidOperationException($"event {eventId} was logged with its level off");
    }

    [Fact]
    public void Every_event_allocates_nothing_when_its_level_is_off()
    {
        var logger = new OffLogger();
        var endPoint = new IPEndPoint(IPAddress.Loopback, 9001);
        var error = new InvalidOperationException("endpoint failure");
        Emit(logger, endPoint, error);   // compiles the calls before the measurement

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            Emit(logger, endPoint, error);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void Emit(ILogger logger, IPEndPoint endPoint, Exception error)
    {
        ServerLog.Listening(logger, endPoint, "epoll", 1);
        ServerLog.HandshakeRefused(logger, 404, "no endpoint at this path");
        ServerLog.HandshakeTimedOut(logger, 10_000);
        ServerLog.ConnectionFailed(logger, "/chat", 1002, "an unmasked client frame");
        ServerLog.EndpointFailed(logger, error, "/chat");
        ServerLog.BackpressureExceeded(logger, "/chat", 1 << 20);
        ServerLog.IdleTimedOut(logger, "/chat");
        ServerLog.CloseTimedOut(logger, "/chat", 5000);
        ServerLog.LoopFailed(logger, error, 0);
        ServerLog.Stopping(logger, 3);
        ServerLog.Stopped(logger, 12);
    }
}
