using Microsoft.Extensions.Logging;

namespace WsGen.Server;

/// <summary>
/// The server's log events, with stable event IDs (filter or alert on them). None is on the message path; a disabled
/// level costs a check and allocates nothing.
/// </summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1, EventName = "Listening", Level = LogLevel.Information,
        Message = "WsGen listening on ws://{EndPoint}/ (loop: {Loop}, loops: {LoopCount})")]
    public static partial void Listening(ILogger logger, System.Net.IPEndPoint endPoint, string loop, int loopCount);

    [LoggerMessage(EventId = 2, EventName = "HandshakeRefused", Level = LogLevel.Debug,
        Message = "Upgrade refused with HTTP {StatusCode}: {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, int statusCode, string reason);

    [LoggerMessage(EventId = 3, EventName = "HandshakeTimedOut", Level = LogLevel.Debug,
        Message = "The upgrade request did not arrive within {TimeoutMs} ms; refused with HTTP 408")]
    public static partial void HandshakeTimedOut(ILogger logger, long timeoutMs);

    [LoggerMessage(EventId = 4, EventName = "ConnectionFailed", Level = LogLevel.Debug,
        Message = "Connection to {Path} failed with close code {CloseCode}: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string path, int closeCode, string reason);

    [LoggerMessage(EventId = 5, EventName = "EndpointFailed", Level = LogLevel.Error,
        Message = "The endpoint at {Path} threw; the connection is closed with 1011")]
    public static partial void EndpointFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = 6, EventName = "BackpressureExceeded", Level = LogLevel.Warning,
        Message = "Connection to {Path} aborted: more than {MaxBackpressure} bytes waited for a slow peer")]
    public static partial void BackpressureExceeded(ILogger logger, string path, long maxBackpressure);

    [LoggerMessage(EventId = 7, EventName = "IdleTimedOut", Level = LogLevel.Debug,
        Message = "Connection to {Path} idle and unanswered ping; closed with 1001")]
    public static partial void IdleTimedOut(ILogger logger, string path);

    [LoggerMessage(EventId = 8, EventName = "CloseTimedOut", Level = LogLevel.Debug,
        Message = "Connection to {Path}: no close frame from the peer within {TimeoutMs} ms; TCP closed")]
    public static partial void CloseTimedOut(ILogger logger, string path, long timeoutMs);

    [LoggerMessage(EventId = 9, EventName = "LoopFailed", Level = LogLevel.Critical,
        Message = "WsGen loop {Loop} failed")]
    public static partial void LoopFailed(ILogger logger, Exception exception, int loop);

    [LoggerMessage(EventId = 10, EventName = "Stopping", Level = LogLevel.Information,
        Message = "WsGen stopping: closing {Connections} connections with 1001")]
    public static partial void Stopping(ILogger logger, int connections);

    [LoggerMessage(EventId = 11, EventName = "Stopped", Level = LogLevel.Information,
        Message = "WsGen stopped after {ElapsedMs} ms")]
    public static partial void Stopped(ILogger logger, long elapsedMs);
}
