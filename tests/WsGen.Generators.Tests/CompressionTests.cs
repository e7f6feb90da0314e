namespace WsGen.Generators.Tests;

/// <summary>The attribute's Compression reaches the endpoint's options in the generated routes (where the run-time
/// WebSocketEndpointOptions.Compression can override it); left out, nothing is emitted and the option stays Off.</summary>
public sealed class CompressionTests
{
    private const string Source = """
        using WsGen;
        namespace Demo;
        [WebSocketEndpoint("/z"COMPRESSION)]
        public partial class Zipped
        {
            public void OnMessage(WebSocketConnection conn, System.ReadOnlySpan<byte> payload, WebSocketOpcode opcode) => conn.Send(payload, opcode);
        }
        """;

    [Theory]
    [InlineData("Shared")]
    [InlineData("Dedicated")]
    public void The_attributes_Compression_is_set_on_the_generated_routes_options(string mode)
    {
        var (sources, output) = GeneratorHarness.Run(null, Source.Replace("COMPRESSION", ", Compression = WebSocketCompression." + mode));
        string app = sources.Single(s => s.HintName == "WsGenApp.g.cs").SourceText.ToString();

        Assert.Contains("Compression = global::WsGen.WebSocketCompression." + mode + ",", app);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
    }

    [Fact]
    public void Without_Compression_nothing_is_emitted()
    {
        var (sources, _) = GeneratorHarness.Run(null, Source.Replace("COMPRESSION", ""));
        Assert.DoesNotContain("Compression", sources.Single(s => s.HintName == "WsGenApp.g.cs").SourceText.ToString());
    }
}
