using System.Net.Security;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WsGen.Tests;
using static WsGen.Hosting.Tests.HostedServerTests;

namespace WsGen.Hosting.Tests;

/// <summary>
/// The compression and TLS keys of the <c>WsGen</c> section: their binding, the start-up errors that name each wrong
/// key, a hosted server answering .NET's <see cref="ClientWebSocket"/> over wss:// (beside ws://, or alone) with a test
/// CA, and permessage-deflate negotiated from configuration.
/// </summary>
public sealed class HostedConfigurationTests
{
    private static ClientWebSocket NewClient()
    {
        var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.CollectHttpResponseDetails = true;
        return client;
    }

    /// <summary>Sends <paramref name="text"/> and checks the echo (after the greeting of <see cref="HostedEcho"/>).</summary>
    private static async Task AssertEchoesAsync(ClientWebSocket client, string text)
    {
        using var cts = new CancellationTokenSource(HostedServerTests.Timeout);
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
        Assert.Equal("hi " + text, await ReceiveTextAsync(client, cts.Token));
    }

    private static string? AgreedExtensions(ClientWebSocket client) =>
        client.HttpResponseHeaders is { } headers && headers.TryGetValue("Sec-WebSocket-Extensions", out var values) ? string.Join(",", values) : null;

    [Fact]
    public async Task Invalid_compression_and_tls_keys_fail_the_hosts_start_naming_each_key()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"wsgen-missing-{Guid.NewGuid():N}.pem");
        using var host = BuildHost(new()
        {
            ["WsGen:Compression"] = "gzip",
            ["WsGen:CompressionThreshold"] = "-1",
            ["WsGen:CompressionWindowBits"] = "8",
            ["WsGen:Endpoints:/echo:Compression"] = "2",
            ["WsGen:Endpoints:/echo:CompressionWindowBits"] = "16",
            ["WsGen:Tls:CertificatePath"] = missing,
            ["WsGen:Tls:Port"] = "65536",
        });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        string message = string.Join("\n", error.Failures);
        Assert.Contains("WsGen:Compression 'gzip' is not one of Off, Shared, Dedicated", message);
        Assert.Contains("WsGen:CompressionThreshold -1 is below its minimum, 0", message);
        Assert.Contains("WsGen:CompressionWindowBits 8 is not between 9 and 15", message);
        Assert.Contains("WsGen:Endpoints:/echo:Compression '2' is not one of Off, Shared, Dedicated", message);
        Assert.Contains("WsGen:Endpoints:/echo:CompressionWindowBits 16 is not between 9 and 15", message);
        Assert.Contains($"WsGen:Tls:CertificatePath '{missing}' is not a file", message);
        Assert.Contains("WsGen:Tls:KeyPath is missing", message);
        Assert.Contains("WsGen:Tls:Port 65536 is not between 0 and 65535", message);
        Assert.Equal(8, error.Failures.Count());
    }

    [Fact]
    public async Task An_endpoint_path_nothing_is_mapped_at_fails_the_hosts_start_naming_the_key()
    {
        using var host = BuildHost(new() { ["WsGen:Endpoints:/chat:Compression"] = "Shared" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal("WsGen:Endpoints:/chat names no endpoint; the mapped paths are /echo.", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task A_file_that_is_not_PEM_fails_the_hosts_start_naming_both_keys()
    {
        string notPem = Path.Combine(Path.GetTempPath(), $"wsgen-not-pem-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(notPem, "not a certificate");
        try
        {
            using var host = BuildHost(new()
            {
                ["WsGen:Tls:CertificatePath"] = notPem,
                ["WsGen:Tls:KeyPath"] = TestCertificates.ServerKeyPem,
            });
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
            Assert.StartsWith($"WsGen:Tls:CertificatePath '{notPem}' and WsGen:Tls:KeyPath '{TestCertificates.ServerKeyPem}' are not a PEM certificate and its private key",
                Assert.Single(error.Failures));
        }
        finally
        {
            File.Delete(notPem);
        }
    }

    [Fact]
    public async Task Compression_binds_server_wide_and_by_path_over_the_attributes_values()
    {
        using var host = BuildHost(new()
        {
            ["WsGen:Compression"] = "shared",
            ["WsGen:CompressionThreshold"] = "200",
            ["WsGen:CompressionWindowBits"] = "12",
            ["WsGen:Endpoints:/echo:Compression"] = "Dedicated",
            ["WsGen:Endpoints:/echo:CompressionWindowBits"] = "10",
        });
        await host.StartAsync();

        var options = host.Services.GetRequiredService<WebSocketServer>().GetEndpointOptions("/echo");
        Assert.Equal(WebSocketCompression.Dedicated, options.Compression); // the path's value over the server-wide one
        Assert.Equal(200, options.CompressionThreshold);                    // server-wide, the path says nothing
        Assert.Equal(10, options.CompressionWindowBits);
        await host.StopAsync();
    }

    [Theory]
    [InlineData("WsGen:Compression")]
    [InlineData("WsGen:Endpoints:/echo:Compression")]
    public async Task Compression_from_configuration_negotiates_permessage_deflate_with_ClientWebSocket(string key)
    {
        using var host = BuildHost(new() { [key] = "Shared", ["WsGen:CompressionThreshold"] = "0" });
        await host.StartAsync();
        var server = host.Services.GetRequiredService<WebSocketServer>();

        using var client = NewClient();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientContextTakeover = false, ServerContextTakeover = false };
        using var cts = new CancellationTokenSource(HostedServerTests.Timeout);
        await client.ConnectAsync(new Uri($"ws://{server.LocalEndPoint}/echo"), cts.Token);
        Assert.StartsWith("permessage-deflate", AgreedExtensions(client));
        await AssertEchoesAsync(client, "a:" + string.Concat(Enumerable.Repeat("compressible ", 500)));
        await AssertEchoesAsync(client, "a:short");
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        await host.StopAsync();
    }

    [Fact]
    public async Task Without_compression_keys_the_extension_is_declined()
    {
        using var host = BuildHost();
        await host.StartAsync();
        var server = host.Services.GetRequiredService<WebSocketServer>();
        using var client = NewClient();
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        using var cts = new CancellationTokenSource(HostedServerTests.Timeout);
        await client.ConnectAsync(new Uri($"ws://{server.LocalEndPoint}/echo"), cts.Token);
        Assert.Null(AgreedExtensions(client));
        await AssertEchoesAsync(client, "a:plain");
        await host.StopAsync();
    }

    [Fact]
    public async Task Tls_from_PEM_files_serves_wss_beside_ws_to_ClientWebSocket_trusting_the_test_CA()
    {
        using var host = BuildHost(new()
        {
            ["WsGen:Tls:CertificatePath"] = TestCertificates.ServerCertificatePem,
            ["WsGen:Tls:KeyPath"] = TestCertificates.ServerKeyPem,
            ["WsGen:Tls:Port"] = "0",
        });
        await host.StartAsync();
        var server = host.Services.GetRequiredService<WebSocketServer>();
        Assert.NotNull(server.TlsLocalEndPoint);
        Assert.NotEqual(server.LocalEndPoint, server.TlsLocalEndPoint);

        using var cts = new CancellationTokenSource(HostedServerTests.Timeout);
        using (var secure = NewClient())
        {
            secure.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ChainsToCa(certificate);
            await secure.ConnectAsync(new Uri($"wss://localhost:{server.TlsLocalEndPoint!.Port}/echo"), cts.Token);
            await AssertEchoesAsync(secure, "s:over tls");
            await secure.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
        using (var plain = NewClient())
        {
            await plain.ConnectAsync(new Uri($"ws://{server.LocalEndPoint}/echo"), cts.Token);
            await AssertEchoesAsync(plain, "p:plain");
            await plain.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
        await host.StopAsync();
    }

    [Fact]
    public async Task Tls_without_a_port_of_its_own_serves_wss_only_and_a_client_not_trusting_the_CA_is_refused()
    {
        using var host = BuildHost(new()
        {
            ["WsGen:Tls:CertificatePath"] = TestCertificates.ServerCertificatePem,
            ["WsGen:Tls:KeyPath"] = TestCertificates.ServerKeyPem,
        });
        await host.StartAsync();
        var server = host.Services.GetRequiredService<WebSocketServer>();
        Assert.Equal(server.LocalEndPoint, server.TlsLocalEndPoint);
        var url = new Uri($"wss://localhost:{server.LocalEndPoint!.Port}/echo");

        using var cts = new CancellationTokenSource(HostedServerTests.Timeout);
        using (var untrusting = NewClient())
            await Assert.ThrowsAsync<WebSocketException>(() => untrusting.ConnectAsync(url, cts.Token));
        using (var secure = NewClient())
        {
            secure.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.RemoteCertificateChainErrors && TestCertificates.ChainsToCa(certificate);
            await secure.ConnectAsync(url, cts.Token);
            await AssertEchoesAsync(secure, "s:tls only");
            await secure.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
        await host.StopAsync();
    }
}
