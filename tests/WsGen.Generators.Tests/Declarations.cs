namespace WsGen.Generators.Tests;

/// <summary>Endpoint declarations the snapshot, compile and caching tests generate code for.</summary>
internal static class Declarations
{
    /// <summary>The smallest endpoint: a borrowed-span OnMessage, nothing else, default sizes.</summary>
    public const string SpanOnly = GeneratorHarness.Usings + """
        namespace Demo;

        [WebSocketEndpoint("/echo")]
        public partial class Echo
        {
            public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.Send(payload, opcode);
        }
        """;

    /// <summary>An owned-frame OnMessage and every other handler, all ValueTask, the concrete connection type,
    /// custom sizes, subprotocols and idle detection off.</summary>
    public const string FrameAsyncAllHandlers = GeneratorHarness.Usings + """
        namespace Demo.Chat;

        [WebSocketEndpoint("/chat", MaxConnections = 500, MaxMessageSize = 64 * 1024, ReceiveBufferSize = 16 * 1024,
            MaxBackpressure = 256 * 1024, SubProtocols = new[] { "chat.v2", "chat" }, IdleTimeoutSeconds = 0)]
        internal sealed partial class Room
        {
            public ValueTask OnOpen(WebSocketConnection conn) => default;

            public ValueTask OnMessage(WebSocketConnection conn, WebSocketFrame frame)
            {
                conn.WriteFrame(frame);
                frame.Release();
                return default;
            }

            public ValueTask OnClose(WebSocketConnection conn, CloseStatus status) => default;

            public ValueTask OnError(WebSocketConnection conn, Exception error) => default;
        }
        """;

    /// <summary>Upgrade hooks: a synchronous one beside OnOpen, an asynchronous one, and an endpoint without.</summary>
    public static readonly string[] Upgrades =
    [
        GeneratorHarness.Usings + """
        namespace Demo;

        [WebSocketEndpoint("/sync")]
        public partial class SyncGate
        {
            public WebSocketUpgradeDecision OnUpgrade(WebSocketUpgradeRequest request) =>
                request.GetQueryValue("key") == "k" ? WebSocketUpgradeDecision.Accept("user") : WebSocketUpgradeDecision.Refuse(403);

            public void OnOpen(WebSocketConnection conn) { }

            public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.Send(payload, opcode);
        }

        [WebSocketEndpoint("/async")]
        public partial class AsyncGate
        {
            internal ValueTask<WebSocketUpgradeDecision> OnUpgrade(WebSocketUpgradeRequest request) => new(WebSocketUpgradeDecision.Accept());

            public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) { }
        }

        [WebSocketEndpoint("/open")]
        public partial class Open
        {
            public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) { }
        }
        """,
    ];

    /// <summary>Three endpoints in two namespaces and the global one, with mixed shapes: sync open and close with a
    /// span handler, a sync frame handler with OnError, a ValueTask span handler.</summary>
    public static readonly string[] Several =
    [
        GeneratorHarness.Usings + """
        namespace Demo;

        [WebSocketEndpoint("/echo", MaxMessageSize = 1024, MaxBackpressure = 2048)]
        public partial class Echo
        {
            public void OnOpen(IWebSocketConn conn) { }

            public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.Send(payload, opcode);

            public void OnClose(IWebSocketConn conn, CloseStatus status) { }
        }
        """,
        GeneratorHarness.Usings + """
        namespace Demo.Frames;

        [WebSocketEndpoint("/frames", MaxConnections = 2_000_000_000)]
        public partial class Keeper
        {
            public void OnMessage(IWebSocketConn conn, WebSocketFrame frame) => frame.Release();

            internal void OnError(IWebSocketConn conn, Exception error) { }
        }
        """,
        GeneratorHarness.Usings + """
        [WebSocketEndpoint("*", MaxConnections = 2_000_000_000, ReceiveBufferSize = 128 * 1024)]
        public partial class Fallback
        {
            public ValueTask OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => default;
        }
        """,
    ];

    /// <summary>An owned-frame endpoint that already uses some of the generated constants' names (a property, a
    /// method, a nested type and an inherited field) and the name the frame pool once had: only the free names get a
    /// constant, and the generated code refers to none of them.</summary>
    public const string Clashing = GeneratorHarness.Usings + """
        namespace Demo;

        public class Limits
        {
            protected static readonly int IdleTimeoutSeconds = 5;
        }

        [WebSocketEndpoint("/clash", MaxConnections = 3, MaxMessageSize = 4096)]
        public partial class Clashing : Limits
        {
            public int MaxConnections { get; set; } = 99;

            public static string EndpointPath() => "/elsewhere";

            public class MaxBackpressure;

            public static readonly object FramePool = new();

            public void OnMessage(WebSocketConnection conn, WebSocketFrame frame) => frame.Release();
        }
        """;

    /// <summary>Only endpoints in the global namespace: WsGenApp goes to WsGen.Generated.</summary>
    public const string GlobalNamespace = GeneratorHarness.Usings + """
        [WebSocketEndpoint("/a\"quoted\"")]
        partial class Global
        {
            public void OnMessage(WebSocketConnection conn, WebSocketFrame frame) => frame.Release();
        }
        """;

    /// <summary>Endpoints whose only constructor takes services (from the container when hosted), one with an explicit
    /// idle timeout.</summary>
    public const string WithServices = GeneratorHarness.Usings + """
        namespace Demo;

        public interface IClock { long Now { get; } }

        [WebSocketEndpoint("/time", IdleTimeoutSeconds = 30)]
        public partial class Time(IClock clock, System.IServiceProvider services)
        {
            public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.SendText(clock.Now + " " + services.GetType().Name);
        }
        """;
}
