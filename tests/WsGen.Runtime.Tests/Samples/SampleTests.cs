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
        using var member = WebSocketClient.Connect(new Uri($"ws://{chat.EndPoint}/chat?name=tester"));
        using var browser = HeadlessChromium.Open($"http://{chat.EndPoint}/?name=chromium&say=hello%20from%20a%20browser");
        Assert.True(ReadUntil(member, "chromium: hello from a browser"), "the browser's message was not broadcast");
        member.SendText("@chromium ping 42");
        Assert.True(ReadUntil(member, "tester: @chromium ping 42"), "the member's own message did not come back with its name");
        Assert.True(ReadUntil(member, "chromium: saw: ping 42"), "the browser did not answer");
    }

    [Fact]
    public async Task Chat_WithToken_Refuses401WithoutIt_AcceptsQueryAndBearer_AndThePagePassesItsTokenOn()
    {
        using var chat = SampleProcess.Start("Chat", "--token", "t0k");

        foreach (var (path, extra) in new[] { ("/chat", ""), ("/chat?token=wrong", ""), ("/chat", "Authorization: Bearer wrong\r\n") })
        {
            using var raw = RawWebSocket.ConnectTcp(chat.EndPoint);
            raw.SendText(RawWebSocket.Request(path, extra));
            var head = raw.ReadHttpHead();
            Assert.StartsWith("HTTP/1.1 401 Unauthorized\r\n", head);
            Assert.Contains("\r\nWWW-Authenticate: Bearer\r\n", head);
            Assert.True(raw.ReadsEndOfStream());
        }

        using var bearer = new ClientWebSocket();
        bearer.Options.SetRequestHeader("Authorization", "Bearer t0k");
        await bearer.ConnectAsync(new Uri($"ws://{chat.EndPoint}/chat?name=dotnet"), CancellationToken.None);

        using var member = WebSocketClient.Connect(new Uri($"ws://{chat.EndPoint}/chat?token=t0k&name=tester"));
        using var browser = HeadlessChromium.Open($"http://{chat.EndPoint}/?token=t0k&name=chromium&say=hello%20with%20a%20token");
        Assert.True(ReadUntil(member, "chromium: hello with a token"), "the browser did not join with the page's token");
        await bearer.SendAsync("hi"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.True(ReadUntil(member, "dotnet: hi"), "the bearer client's message was not broadcast with its name");
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
        using var chat = SampleProcess.Start("Chat", "--tls-cert", TestCertificates.ServerCertificatePem, "--tls-key", TestCertificates.ServerKeyPem);
        using var member = WebSocketClient.Connect(new Uri($"wss://{chat.EndPoint}/chat"), new WebSocketClientOptions { TrustedRootCertificates = [TestCertificates.Ca] });
        // Headless Chromium cannot be given a CA to trust without NSS tools; it is told to accept the test certificate.
        using var browser = HeadlessChromium.Open($"https://{chat.EndPoint}/?name=chromium&say=hello%20over%20tls", "--ignore-certificate-errors");
        Assert.True(ReadUntil(member, "chromium: hello over tls"), "the browser's message was not broadcast");
        member.SendText("@chromium ping 43");
        Assert.True(ReadUntil(member, "chromium: saw: ping 43"), "the browser did not answer");
    }

    [Fact]
    public void Chat_rooms_on_two_loops_carry_messages_between_two_browser_tabs_and_no_further()
    {
        using var chat = SampleProcess.Start("Chat", "--loops", "2");
        using var member = WebSocketClient.Connect(new Uri($"ws://{chat.EndPoint}/chat?name=tester"));
        using var lobby = WebSocketClient.Connect(new Uri($"ws://{chat.EndPoint}/chat?name=lobby"));
        member.SendText("/join r1");
        Assert.True(ReadUntil(member, "joined r1"), "the member did not join r1");
        // Two tabs, each in a browser of its own (headless Chromium shows one page per process).
        var tabs = new[] { ("alice", "hello from tab 1"), ("bob", "hello from tab 2") }
            .Select(tab => HeadlessChromium.Open($"http://{chat.EndPoint}/?name={tab.Item1}&room=r1&say={Uri.EscapeDataString(tab.Item2)}"))
            .ToArray();
        try
        {
            Assert.True(ReadUntilAll(member, "alice: hello from tab 1", "bob: hello from tab 2"), "a tab's message did not reach the room");
            // Each tab answers what is addressed to it, so each one received it: messages cross tabs and loops.
            member.SendText("@alice ping 1");
            Assert.True(ReadUntilAll(member, "alice: saw: ping 1"), "the first tab did not answer");
            member.SendText("@bob ping 2");
            Assert.True(ReadUntilAll(member, "bob: saw: ping 2"), "the second tab did not answer");

            // The lobby heard none of it: the first message it gets is its own.
            lobby.SendText("only here");
            Assert.Equal("lobby: only here", ReadText(lobby));
        }
        finally
        {
            foreach (var tab in tabs)
                tab.Dispose();
        }
    }

    /// <summary>Reads messages until each of <paramref name="expected"/> has come, in any order, for up to a minute.</summary>
    private static bool ReadUntilAll(WebSocketClient client, params string[] expected)
    {
        var missing = new HashSet<string>(expected);
        var read = Task.Run(() =>
        {
            while (missing.Count > 0)
            {
                var frame = client.ReadFrame();
                missing.Remove(Encoding.UTF8.GetString(frame.Payload.Span));
                frame.Release();
            }

            return true;
        });
        if (read.Wait(TimeSpan.FromSeconds(60)))
            return read.Result;
        client.Dispose();
        return false;
    }

    private static string ReadText(WebSocketClient client)
    {
        var read = Task.Run(() =>
        {
            var frame = client.ReadFrame();
            var text = Encoding.UTF8.GetString(frame.Payload.Span);
            frame.Release();
            return text;
        });
        Assert.True(read.Wait(TimeSpan.FromSeconds(60)), "nothing arrived");
        return read.Result;
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
