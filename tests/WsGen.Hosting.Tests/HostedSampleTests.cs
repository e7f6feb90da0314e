using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;

namespace WsGen.Hosting.Tests;

/// <summary>The hosted sample (samples/Hosted) as users run it: its own process, configured from the command line over
/// appsettings.json (compression by endpoint path), serving an endpoint built from the container, exporting the WsGen
/// meter through OpenTelemetry, and stopping on SIGTERM with 1001.</summary>
public sealed partial class HostedSampleTests
{
    [Fact]
    public async Task The_hosted_sample_serves_exports_metrics_and_stops_on_SIGTERM_with_1001()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Hosted.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { dll, "--WsGen:Port", "0", "--Metrics:ExportIntervalMilliseconds", "200" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var exported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (output)
                output.AppendLine(e.Data);
            if (Listening().Match(e.Data) is { Success: true } match)
                listening.TrySetResult(match.Groups[1].Value);
            if (e.Data.Contains("Metric Name: wsgen.messages"))
                exported.TrySetResult();
        };
        process.BeginOutputReadLine();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string url = await listening.Task.WaitAsync(cts.Token);
            using var client = new ClientWebSocket();
            client.Options.KeepAliveInterval = TimeSpan.Zero;
            client.Options.CollectHttpResponseDetails = true;
            client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientContextTakeover = false, ServerContextTakeover = false };
            await client.ConnectAsync(new Uri(url + "stamp"), cts.Token);
            // appsettings.json turns permessage-deflate on for /stamp (WsGen:Endpoints:/stamp:Compression).
            Assert.StartsWith("permessage-deflate", Assert.Single(client.HttpResponseHeaders!["Sec-WebSocket-Extensions"]));
            await client.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
            var buffer = new byte[1024];
            var reply = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Matches(@"^\d\d:\d\d:\d\d\.\d\d\d hello$", Encoding.UTF8.GetString(buffer, 0, reply.Count));
            await exported.Task.WaitAsync(cts.Token);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
                await kill.WaitForExitAsync(cts.Token);
            var close = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal(WebSocketMessageType.Close, close.MessageType);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, close.CloseStatus);
            await client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "", cts.Token);
            await process.WaitForExitAsync(cts.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        lock (output)
            Assert.Contains("server.port", output.ToString());
    }

    [GeneratedRegex(@"WsGen listening on (ws://127\.0\.0\.1:\d+/)")]
    private static partial Regex Listening();
}
