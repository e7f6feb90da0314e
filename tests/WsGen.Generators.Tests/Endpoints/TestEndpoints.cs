using System.Collections.Concurrent;

namespace WsGen.Generators.Tests.Endpoints;

/// <summary>Echoes every message from the loop's buffer (the borrowed, zero-copy delivery).</summary>
[WebSocketEndpoint("/echo", MaxMessageSize = 2 * 1024 * 1024, MaxBackpressure = 8 * 1024 * 1024)]
public partial class SpanEcho
{
    public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.Send(payload, opcode);
}

/// <summary>Echoes every message through an owned frame from the endpoint's pool, and counts the lifecycle calls.</summary>
[WebSocketEndpoint("/frames", MaxConnections = 4, SubProtocols = ["echo.v1"])]
public partial class FrameEcho
{
    public static int Opened;
    public static int Closed;

    public ValueTask OnOpen(WebSocketConnection conn)
    {
        Interlocked.Increment(ref Opened);
        return default;
    }

    public async ValueTask OnMessage(WebSocketConnection conn, WebSocketFrame frame)
    {
        if (frame.Payload.Length == 1 && frame.Payload.Span[0] == (byte)'y')
            await Task.Yield();
        conn.WriteFrame(frame);
        frame.Release();
    }

    public void OnClose(IWebSocketConn conn, CloseStatus status) => Interlocked.Increment(ref Closed);
}

/// <summary>Fails every message: synchronously for "sync", after an await otherwise; OnError records the errors.</summary>
[WebSocketEndpoint("/fail")]
public partial class Failing
{
    public static readonly ConcurrentQueue<string> Errors = new();

    public ValueTask OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) =>
        payload.SequenceEqual("sync"u8) ? throw new InvalidOperationException("sync failure") : FailLaterAsync();

    private static async ValueTask FailLaterAsync()
    {
        await Task.Delay(10);
        throw new InvalidOperationException("async failure");
    }

    public void OnError(IWebSocketConn conn, Exception error) => Errors.Enqueue(error.Message);
}

/// <summary>Admits only ?key=open (else 403 with a body), after an await; the name from ?name= is the connection's
/// state, sent back at open. The hook runs on the dispatcher's instance: it counts the handshakes it saw.</summary>
[WebSocketEndpoint("/guarded")]
public partial class Guarded
{
    private int _seen;

    public ValueTask<WebSocketUpgradeDecision> OnUpgrade(WebSocketUpgradeRequest request) => Decide(request.GetQueryValue("key"), request.GetQueryValue("name"));

    private async ValueTask<WebSocketUpgradeDecision> Decide(string? key, string? name)
    {
        await Task.Yield();
        return key == "open"
            ? WebSocketUpgradeDecision.Accept(name ?? "nobody")
            : WebSocketUpgradeDecision.Refuse(403, "wrong key");
    }

    public void OnOpen(WebSocketConnection conn) => conn.SendText($"{conn.UserState} #{Interlocked.Increment(ref _seen)}");

    public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.Send(payload, opcode);
}

/// <summary>The synchronous hook: chooses the subprotocol the query names.</summary>
[WebSocketEndpoint("/chooser", SubProtocols = ["a", "b"])]
public partial class Chooser
{
    public WebSocketUpgradeDecision OnUpgrade(WebSocketUpgradeRequest request) =>
        WebSocketUpgradeDecision.Accept(subProtocol: request.GetQueryValue("p"));

    public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.Send(payload, opcode);
}

/// <summary>A feed: every connection is subscribed to "feed" as it opens (the attribute declares it), and each message
/// a connection sends is published to the others, from a handler typed with IWebSocketConn as well.</summary>
[WebSocketEndpoint("/feed", MaxConnections = 8, Topics = ["feed"], PublishLimit = 4096, SlowSubscribers = SlowSubscriberPolicy.Close)]
public partial class Feed
{
    public void OnOpen(IWebSocketConn conn)
    {
    }

    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.Publish("feed", payload, opcode);
}
