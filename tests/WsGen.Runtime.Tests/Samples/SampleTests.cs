using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using WsGen.Tests.Server;

namespace WsGen.Tests.Samples;

/// <summary>The samples as users run them: separate processes, driven by real peers.</summary>
public sealed class SampleTests
{
    [Fact]
    public async Task Echo_EchoesUpTo64MiB_AndSurvivesAHostileClient()
    {
        using var echo = SampleProcess.Start("Echo");
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://{echo.EndPoint}/any"), CancellationToken.None);

        using (var hostile = RawWebSocket.Open(echo.EndPoint))
        {
            hostile.SendFrame(0x81, [0xFF, 0xFE]);
            Assert.Equal(1007, hostile.ReadCloseCode());
        }

        foreach (int size in new[] { 0, 100, 64 << 20 })
        {
            var payload = RandomNumberGenerator.GetBytes(size);
            Assert.Equal(payload, await EchoInteropTests.EchoAsync(client, payload, WebSocketMessageType.Binary));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
    }

    [Theory]
    [InlineData("Echo")]
    [InlineData("Chat")]
    public void A_taken_port_or_a_bad_option_ends_the_sample_with_a_one_line_error(string sample)
    {
        using var taken = new Socket(SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        string port = ((IPEndPoint)taken.LocalEndPoint!).Port.ToString();

        var (code, _, error) = SampleProcess.RunToExit(sample, "--port", port);
        Assert.Equal(1, code);
        Assert.Contains("Address already in use", error);
        Assert.DoesNotContain("Unhandled exception", error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        (code, _, error) = SampleProcess.RunToExit(sample, "--port", "70000");
        Assert.Equal(2, code);
        Assert.StartsWith("usage:", error);

        if (sample == "Echo")
        {
            (code, _, error) = SampleProcess.RunToExit(sample, "--port", "0", "--reactor", "no-such-loop");
            Assert.Equal(1, code);
            Assert.Contains("Unknown reactor 'no-such-loop'", error);
            Assert.DoesNotContain("Unhandled exception", error);
        }
    }

    [Fact]
    public void Chat_ServesItsPage_ToARealBrowserThatJoinsSpeaksAndAnswers()
    {
        using var chat = SampleProcess.Start("Chat");
        using var member = WebSocketClient.Connect(new Uri($"ws://{chat.EndPoint}/chat"));
        using var browser = HeadlessChromium.Open($"http://{chat.EndPoint}/?name=chromium&say=hello%20from%20a%20browser");
        Assert.True(ReadUntil(member, "chromium: hello from a browser"), "the browser's message was not broadcast");
        member.SendText("tester: @chromium ping 42");
        Assert.True(ReadUntil(member, "chromium saw: ping 42"), "the browser did not answer");
    }

    [Fact]
    public async Task Echo_WithPemFiles_ServesWss()
    {
        using var echo = SampleProcess.Start("Echo", "--tls-cert", TestCertificates.ServerCertificatePem, "--tls-key", TestCertificates.ServerKeyPem);
        using var client = new ClientWebSocket();
        client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ChainsToCa(certificate);
        await client.ConnectAsync(new Uri($"wss://{echo.EndPoint}/any"), CancellationToken.None);
        foreach (int size in new[] { 0, 100, 1 << 20 })
        {
            var payload = RandomNumberGenerator.GetBytes(size);
            Assert.Equal(payload, await EchoInteropTests.EchoAsync(client, payload, WebSocketMessageType.Binary));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);

        // Plain ws:// to the TLS port gets no WebSocket.
        using var plain = new ClientWebSocket();
        await Assert.ThrowsAnyAsync<WebSocketException>(() => plain.ConnectAsync(new Uri($"ws://{echo.EndPoint}/any"), CancellationToken.None));
    }

    [Fact]
    public void Chat_OverHttps_ServesItsPage_ToChromium_WhoseRoomIsOnWss()
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "no Chromium: install the Debian package chromium (.ci/run does)");

        using var chat = SampleProcess.Start("Chat", "--tls-cert", TestCertificates.ServerCertificatePem, "--tls-key", TestCertificates.ServerKeyPem);
        using var member = WebSocketClient.Connect(new Uri($"wss://{chat.EndPoint}/chat"), new WebSocketClientOptions { TrustedRootCertificates = [TestCertificates.Ca] });
        var profile = Directory.CreateTempSubdirectory("wsgen-chromium-");
        var start = new ProcessStartInfo(chromium!) { RedirectStandardOutput = true, RedirectStandardError = true };
        // Headless Chromium cannot be given a CA to trust without NSS tools; it is told to accept the test certificate.
        foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--ignore-certificate-errors", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     $"--user-data-dir={profile.FullName}", $"https://{chat.EndPoint}/?name=chromium&say=hello%20over%20tls" })
            start.ArgumentList.Add(flag);
        using var browser = Process.Start(start)!;
        try
        {
            Assert.True(ReadUntil(member, "chromium: hello over tls"), "the browser's message was not broadcast");
            member.SendText("tester: @chromium ping 43");
            Assert.True(ReadUntil(member, "chromium saw: ping 43"), "the browser did not answer");
        }
        finally
        {
            browser.Kill(entireProcessTree: true);
            browser.WaitForExit();
            profile.Delete(recursive: true);
        }
    }

    /// <summary>Reads broadcast messages until one equals <paramref name="expected"/>, for up to a minute.</summary>
    private static bool ReadUntil(WebSocketClient client, string expected)
    {
        var read = Task.Run(() =>
        {
            while (true)
            {
                var frame = client.ReadFrame();
                var text = Encoding.UTF8.GetString(frame.Payload.Span);
                frame.Release();
                if (text == expected)
                    return true;
            }
        });
        if (read.Wait(TimeSpan.FromSeconds(60)))
            return read.Result;
        client.Dispose();
        return false;
    }
}
