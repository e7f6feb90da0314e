using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using D = WsGen.Analyzers.EndpointDiagnosticDescriptors;

namespace WsGen.Analyzers.Tests;

/// <summary>An EndpointAnalyzer test against the real WsGen.Runtime with offline references.</summary>
internal sealed class EndpointAnalyzerTest : CSharpAnalyzerTest<EndpointAnalyzer, DefaultVerifier>
{
    public EndpointAnalyzerTest(string source)
    {
        TestSetup.Configure(TestState, SolutionTransforms, out var referenceAssemblies);
        ReferenceAssemblies = referenceAssemblies;
        TestCode = source;
    }
}

/// <summary>WSG101-WSG110: every rule with cases that report (at the exact location) and cases that must not.</summary>
public sealed class EndpointAnalyzerTests
{
    private const string Usings = "using System;\nusing System.Threading.Tasks;\nusing WsGen;\n\n";
    private const string Handler = "public void OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) { }";

    private static Task Verify(string source, params DiagnosticResult[] expected)
    {
        var test = new EndpointAnalyzerTest(Usings + source);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    private static DiagnosticResult At(DiagnosticDescriptor descriptor, int index, params object[] arguments) =>
        new DiagnosticResult(descriptor).WithLocation(index).WithArguments(arguments);

    [Fact]
    public Task Silent_OnValidEndpointsWithEveryHandlerShape() => Verify("""
        [WebSocketEndpoint("/a", MaxMessageSize = 1024, MaxBackpressure = 1038, IdleTimeoutSeconds = 0, SubProtocols = new[] { "chat.v1", "chat" })]
        public sealed partial class A
        {
            public ValueTask OnOpen(WebSocketConnection conn) => default;
            public void OnMessage(IWebSocketConn conn, WebSocketFrame frame) => frame.Release();
            internal void OnClose(IWebSocketConn conn, CloseStatus status) { }
            public ValueTask OnError(WebSocketConnection conn, Exception error) => default;
            public WebSocketUpgradeDecision OnUpgrade(WebSocketUpgradeRequest request) => WebSocketUpgradeDecision.Accept();
            private void Unrelated() { }
        }

        [WebSocketEndpoint("*")]
        internal partial class B
        {
            public ValueTask OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => default;
            internal ValueTask<WebSocketUpgradeDecision> OnUpgrade(WebSocketUpgradeRequest request) => default;
        }

        public class NotAnEndpoint
        {
            private void OnMessage(int x) { }
        }
        """);

    [Fact]
    public Task Wsg101_NotPartial() => Verify($$"""
        [WebSocketEndpoint("/a")]
        public class {|#0:A|}
        {
            {{Handler}}
        }
        """, At(D.NotPartial, 0, "A"));

    [Theory]
    [InlineData("public abstract partial class {|#0:A|} { HANDLER }", "abstract")]
    [InlineData("public partial class {|#0:A|}<T> { HANDLER }", "generic")]
    [InlineData("public partial class {|#0:A|} { private A() { } HANDLER }", NoConstructor)]
    [InlineData("public partial class {|#0:A|} { public A(int x) { } internal A(string y) { } HANDLER }", NoConstructor)]
    [InlineData("public partial class {|#0:A|} { public A(ref int x) { } HANDLER }", NoConstructor)]
    [InlineData("public partial class {|#0:A|} { public A(params int[] x) { } HANDLER }", NoConstructor)]
    [InlineData("public partial record {|#0:A|} { HANDLER }", "a record")]
    public Task Wsg102_ClassShape(string declaration, string reason) => Verify(
        "[WebSocketEndpoint(\"/a\")]\n" + declaration.Replace("HANDLER", Handler), At(D.BadClassShape, 0, "A", reason));

    private const string NoConstructor =
        "without a constructor WsGen can call (a public or internal parameterless one, or a single public or internal one whose parameters the service container supplies)";

    /// <summary>When hosted, the container supplies the parameters of an endpoint's only constructor (a parameterless
    /// one wins when there is one).</summary>
    [Theory]
    [InlineData("public partial class A { public A(IServiceProvider services, string name) { } HANDLER }")]
    [InlineData("public partial class A { public A() { } public A(int x) { } public A(string y) { } HANDLER }")]
    [InlineData("public partial class A { internal A(IDisposable d) { } private A() { } HANDLER }")]
    public Task Wsg102_SilentOnAConstructorWithServices(string declaration) => Verify(
        "[WebSocketEndpoint(\"/a\")]\n" + declaration.Replace("HANDLER", Handler));

    [Fact]
    public Task Wsg102_Nested() => Verify($$"""
        public partial class Outer
        {
            [WebSocketEndpoint("/a")]
            public partial class {|#0:A|}
            {
                {{Handler}}
            }
        }
        """, At(D.BadClassShape, 0, "A", "nested in another type"));

    [Fact]
    public Task Wsg103_NoOnMessage() => Verify("""
        [WebSocketEndpoint("/a")]
        public partial class {|#0:A|}
        {
            public void OnOpen(IWebSocketConn conn) { }
        }
        """, At(D.NoMessageHandler, 0, "A"));

    [Theory]
    [InlineData("public void {|#0:OnMessage|}(IWebSocketConn conn, byte[] data) { }", "OnMessage")]
    [InlineData("public void {|#0:OnMessage|}(IWebSocketConn conn, ReadOnlySpan<byte> payload) { }", "OnMessage")]
    [InlineData("public Task {|#0:OnMessage|}(IWebSocketConn conn, WebSocketFrame frame) => Task.CompletedTask;", "OnMessage")]
    [InlineData("public static void {|#0:OnMessage|}(IWebSocketConn conn, WebSocketFrame frame) { }", "OnMessage")]
    [InlineData("private void {|#0:OnMessage|}(IWebSocketConn conn, WebSocketFrame frame) { }", "OnMessage")]
    [InlineData("public void {|#0:OnMessage|}(object conn, WebSocketFrame frame) { }", "OnMessage")]
    public Task Wsg104_WrongOnMessage(string method, string name) => Verify($$"""
        [WebSocketEndpoint("/a")]
        public partial class A
        {
            {{method}}
        }
        """, new DiagnosticResult(D.BadHandler).WithLocation(0).WithArguments(name,
            "void or ValueTask OnMessage(IWebSocketConn conn, WebSocketFrame frame) or OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode); an accessible (public or internal) non-generic instance method, the connection typed IWebSocketConn or WebSocketConnection"));

    [Fact]
    public Task Wsg104_WrongOtherHandlers_AndSecondOnMessage() => Verify($$"""
        [WebSocketEndpoint("/a")]
        public partial class A
        {
            {{Handler}}
            public void {|#0:OnMessage|}(IWebSocketConn conn, WebSocketFrame frame) { }
            public void {|#1:OnOpen|}(IWebSocketConn conn, int extra) { }
            public void {|#2:OnClose|}(IWebSocketConn conn) { }
            public int {|#3:OnError|}(IWebSocketConn conn, Exception error) => 0;
        }
        """,
        At(D.BadHandler, 0, "OnMessage", "declare only one OnMessage handler: void or ValueTask OnMessage(IWebSocketConn conn, WebSocketFrame frame) or OnMessage(IWebSocketConn conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)"),
        At(D.BadHandler, 1, "OnOpen", "void or ValueTask OnOpen(IWebSocketConn conn)" + Suffix),
        At(D.BadHandler, 2, "OnClose", "void or ValueTask OnClose(IWebSocketConn conn, CloseStatus status)" + Suffix),
        At(D.BadHandler, 3, "OnError", "void or ValueTask OnError(IWebSocketConn conn, Exception error)" + Suffix));

    [Theory]
    [InlineData("public bool {|#0:OnUpgrade|}(WebSocketUpgradeRequest request) => true;")]
    [InlineData("public Task<WebSocketUpgradeDecision> {|#0:OnUpgrade|}(WebSocketUpgradeRequest request) => null!;")]
    [InlineData("public ValueTask {|#0:OnUpgrade|}(WebSocketUpgradeRequest request) => default;")]
    [InlineData("public WebSocketUpgradeDecision {|#0:OnUpgrade|}(WebSocketConnection conn) => default;")]
    [InlineData("public WebSocketUpgradeDecision {|#0:OnUpgrade|}(WebSocketUpgradeRequest request, int extra) => default;")]
    [InlineData("public WebSocketUpgradeDecision {|#0:OnUpgrade|}(in WebSocketUpgradeRequest request) => default;")]
    [InlineData("public static WebSocketUpgradeDecision {|#0:OnUpgrade|}(WebSocketUpgradeRequest request) => default;")]
    [InlineData("private WebSocketUpgradeDecision {|#0:OnUpgrade|}(WebSocketUpgradeRequest request) => default;")]
    public Task Wsg104_WrongOnUpgrade(string method) => Verify($$"""
        [WebSocketEndpoint("/a")]
        public partial class A
        {
            {{Handler}}
            {{method}}
        }
        """, At(D.BadHandler, 0, "OnUpgrade",
            "WebSocketUpgradeDecision or ValueTask<WebSocketUpgradeDecision> OnUpgrade(WebSocketUpgradeRequest request); an accessible (public or internal) non-generic instance method"));

    private const string Suffix = "; an accessible (public or internal) non-generic instance method, the connection typed IWebSocketConn or WebSocketConnection";

    [Fact]
    public Task Wsg105_DuplicatePath_ReportedOnTheLaterType() => Verify($$"""
        [WebSocketEndpoint("/same")]
        public partial class A { {{Handler}} }

        [WebSocketEndpoint({|#0:"/same"|})]
        public partial class B { {{Handler}} }

        [WebSocketEndpoint("/other")]
        public partial class C { {{Handler}} }
        """, At(D.DuplicatePath, 0, "/same", "B", "A"));

    [Theory]
    [InlineData("\"echo\"", "echo")]
    [InlineData("\"\"", "")]
    [InlineData("\"/a b\"", "/a b")]
    [InlineData("\"/a?x=1\"", "/a?x=1")]
    [InlineData("\"/a#top\"", "/a#top")]
    [InlineData("path: \"a\"", "a")]
    public Task Wsg106_InvalidPath(string argument, string path) => Verify($$"""
        [WebSocketEndpoint({|#0:{{argument.Replace("path: ", "")}}|})]
        public partial class A { {{Handler}} }
        """.Replace("{|#0:", argument.StartsWith("path: ") ? "path: {|#0:" : "{|#0:"), At(D.InvalidPath, 0, path));

    [Theory]
    [InlineData("MaxConnections", "0", "0", "be greater than 0")]
    [InlineData("MaxConnections", "-5", "-5", "be greater than 0")]
    [InlineData("MaxBackpressure", "0", "0", "be greater than 0")]
    [InlineData("ReceiveBufferSize", "1023", "1023", "be at least 1 KiB (1024)")]
    [InlineData("MaxMessageSize", "(1 << 30) + 1", "1073741825", "be at most 1 GiB (1073741824)")]
    public Task Wsg107_InvalidSize(string property, string value, string shown, string rule) => Verify($$"""
        [WebSocketEndpoint("/a", MaxBackpressure = int.MaxValue, {{property}} = {|#0:{{value}}|})]
        public partial class A { {{Handler}} }
        """.Replace("MaxBackpressure = int.MaxValue, MaxBackpressure", "MaxBackpressure"), At(D.InvalidSize, 0, property, shown, rule));

    [Fact]
    public Task Wsg107_NotReported_AtTheLimits() => Verify($$"""
        [WebSocketEndpoint("/a", MaxConnections = 1, ReceiveBufferSize = 1024, MaxMessageSize = 1 << 30, MaxBackpressure = int.MaxValue)]
        public partial class A { {{Handler}} }
        """);

    [Fact]
    public Task Wsg108_BackpressureBelowMessagePlusHeader() => Verify($$"""
        [WebSocketEndpoint("/a", MaxMessageSize = 1024, MaxBackpressure = {|#0:1037|})]
        public partial class A { {{Handler}} }
        """, At(D.InconsistentSizes, 0, "1037", "1024", "1038"));

    [Fact]
    public Task Wsg108_DefaultBackpressureAgainstALargeMessage() => Verify($$"""
        [WebSocketEndpoint("/a", MaxMessageSize = {|#0:16 * 1024 * 1024|})]
        public partial class A { {{Handler}} }
        """, At(D.InconsistentSizes, 0, "4194304", "16777216", "16777230"));

    [Fact]
    public Task Wsg109_NegativeIdleTimeout() => Verify($$"""
        [WebSocketEndpoint("/a", IdleTimeoutSeconds = {|#0:-1|})]
        public partial class A { {{Handler}} }
        """, At(D.NegativeIdleTimeout, 0, "-1"));

    [Fact]
    public Task Wsg110_DuplicateAndInvalidSubProtocols() => Verify($$"""
        [WebSocketEndpoint("/a", SubProtocols = {|#0:new[] { "chat", "a b", "chat", "" }|})]
        public partial class A { {{Handler}} }
        """,
        At(D.BadSubProtocol, 0, "a b", "is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~, not empty)"),
        At(D.BadSubProtocol, 0, "chat", "is listed twice"),
        At(D.BadSubProtocol, 0, "", "is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~, not empty)"));
}
