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
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "no Chromium: install the Debian package chromium (.ci/run does)");

        using var chat = SampleProcess.Start("Chat");
        using var member = WebSocketClient.Connect(new Uri($"ws://{chat.EndPoint}/chat"));
        var profile = Directory.CreateTempSubdirectory("wsgen-chromium-");
        var start = new ProcessStartInfo(chromium!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}",
                     $"http://{chat.EndPoint}/?name=chromium&say=hello%20from%20a%20browser" })
            start.ArgumentList.Add(flag);
        using var browser = Process.Start(start)!;
        try
        {
            Assert.True(ReadUntil(member, "chromium: hello from a browser"), "the browser's message was not broadcast");
            member.SendText("tester: @chromium ping 42");
            Assert.True(ReadUntil(member, "chromium saw: ping 42"), "the browser did not answer");
        }
        finally
        {
            browser.Kill(entireProcessTree: true);
            browser.WaitForExit();
            profile.Delete(recursive: true);
        }
    }

    [Fact]
    public void Chat_rooms_on_two_loops_carry_messages_between_two_browser_tabs_and_no_further()
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "no Chromium: install the Debian package chromium (.ci/run does)");

        using var chat = SampleProcess.Start("Chat", "--loops", "2");
        using var member = WebSocketClient.Connect(new Uri($"ws://{chat.EndPoint}/chat"));
        using var lobby = WebSocketClient.Connect(new Uri($"ws://{chat.EndPoint}/chat"));
        member.SendText("/join r1");
        Assert.True(ReadUntil(member, "joined r1"), "the member did not join r1");
        // Two tabs, each in a browser of its own (headless Chromium shows one page per process).
        var tabs = new[] { ("alice", "hello from tab 1"), ("bob", "hello from tab 2") }
            .Select(tab => OpenTab(chromium!, $"http://{chat.EndPoint}/?name={tab.Item1}&room=r1&say={Uri.EscapeDataString(tab.Item2)}"))
            .ToArray();
        try
        {
            Assert.True(ReadUntilAll(member, "alice: hello from tab 1", "bob: hello from tab 2"), "a tab's message did not reach the room");
            // Each tab answers what is addressed to it, so each one received it: messages cross tabs and loops.
            member.SendText("tester: @alice ping 1");
            Assert.True(ReadUntilAll(member, "alice saw: ping 1"), "the first tab did not answer");
            member.SendText("tester: @bob ping 2");
            Assert.True(ReadUntilAll(member, "bob saw: ping 2"), "the second tab did not answer");

            // The lobby heard none of it: the first message it gets is its own.
            lobby.SendText("lobby: only here");
            Assert.Equal("lobby: only here", ReadText(lobby));
        }
        finally
        {
            foreach (var (browser, profile) in tabs)
            {
                browser.Kill(entireProcessTree: true);
                browser.WaitForExit();
                browser.Dispose();
                profile.Delete(recursive: true);
            }
        }
    }

    private static (Process Browser, DirectoryInfo Profile) OpenTab(string chromium, string url)
    {
        var profile = Directory.CreateTempSubdirectory("wsgen-chromium-");
        var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}", url })
            start.ArgumentList.Add(flag);
        return (Process.Start(start)!, profile);
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
