using WsGen.Tests.Samples;

namespace WsGen.Tests.Deflate;

/// <summary>The echo sample with <c>--deflate shared|dedicated</c> (generated and hand-wired paths): the run-time
/// option turns permessage-deflate on over the attribute's default, without a rebuild.</summary>
public sealed class EchoSampleDeflateTests
{
    [Theory]
    [InlineData("shared", false)]
    [InlineData("dedicated", false)]
    [InlineData("shared", true)]
    [InlineData("dedicated", true)]
    public void Echo_with_deflate_agrees_permessage_deflate_and_echoes(string mode, bool handWired)
    {
        using var echo = handWired ? SampleProcess.Start("Echo", "--deflate", mode, "--hand-wired") : SampleProcess.Start("Echo", "--deflate", mode);
        var clientMode = mode == "shared" ? WebSocketCompression.Shared : WebSocketCompression.Dedicated;
        using var client = WebSocketClient.Connect(new Uri($"ws://{echo.EndPoint}/any"), new WebSocketClientOptions { Compression = clientMode });
        Assert.True(client.IsCompressed);
        foreach (int size in new[] { 10, 1000, 16000, 1 << 20 })
        {
            byte[] message = JsonLike.Message(size, size);
            client.Send(message, WebSocketOpcode.Text);
            var frame = client.ReadFrame();
            Assert.Equal(message, frame.Payload.ToArray());
            frame.Release();
        }
        client.Close();
    }

    [Fact]
    public void Echo_without_deflate_declines_the_offer()
    {
        using var echo = SampleProcess.Start("Echo");
        using var client = WebSocketClient.Connect(new Uri($"ws://{echo.EndPoint}/any"), new WebSocketClientOptions { Compression = WebSocketCompression.Shared });
        Assert.False(client.IsCompressed);
    }
}
