using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace WsGen.Tests.Server;

/// <summary>WsGen's own client over wss:// against the TLS echo server on every loop (normal validation, a custom CA,
/// a validation callback), and the server's certificate options: SNI selection and client certificates.</summary>
public sealed class TlsClientTests
{
    public static TheoryData<string> Reactors => TestServers.Reactors;

    public static TheoryData<string> Loops => TestServers.Loops;

    [Theory]
    [MemberData(nameof(Reactors))]
    public async Task WsGenClient_TrustingTheTestCa_EchoesEverything_AndCloses(string reactor)
    {
        using var server = TlsInteropTests.StartTls(reactor);
        using var client = WebSocketClient.Connect(TlsInteropTests.Url(server, "/wsgen"), TrustingTestCa());

        foreach (int size in new[] { 0, 125, 65536, 1 << 20, 16 << 20 })
        {
            var payload = RandomNumberGenerator.GetBytes(size);
            client.Send(payload);
            var frame = client.ReadFrame();
            Assert.Equal(WebSocketOpcode.Binary, frame.Opcode);
            Assert.Equal(payload, frame.Payload.ToArray());
            frame.Release();
        }

        var ping = RandomNumberGenerator.GetBytes(125);
        client.Send(ping, WebSocketOpcode.Ping);
        var pong = client.ReadFrame();
        Assert.Equal(WebSocketOpcode.Pong, pong.Opcode);
        Assert.Equal(ping, pong.Payload.ToArray());
        pong.Release();

        client.SendFrame(WebSocketOpcode.Text, false, "hel"u8);
        client.SendFrame(WebSocketOpcode.Continuation, false, "lo "u8);
        client.SendFrame(WebSocketOpcode.Continuation, true, "wss"u8);
        var whole = client.ReadFrame();
        Assert.Equal("hello wss", Encoding.UTF8.GetString(whole.Payload.Span));
        whole.Release();

        var reader = Task.Run(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                var frame = client.ReadFrame();
                Assert.Equal($"message {i}", Encoding.UTF8.GetString(frame.Payload.Span));
                frame.Release();
            }
        });
        for (int i = 0; i < 2000; i++)
            client.SendText($"message {i}");
        await reader.WaitAsync(TimeSpan.FromSeconds(60));

        client.Close(WebSocketCloseCode.PolicyViolation, "bye");
        Assert.False(client.IsOpen);
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void WsGenClient_WithNormalValidation_RefusesTheTestCa(string reactor)
    {
        using var server = TlsInteropTests.StartTls(reactor);
        Assert.Throws<AuthenticationException>(() => WebSocketClient.Connect(TlsInteropTests.Url(server)));
        // The server is unharmed.
        using var good = WebSocketClient.Connect(TlsInteropTests.Url(server), TrustingTestCa());
        good.SendText("still here");
        var frame = good.ReadFrame();
        Assert.Equal("still here", Encoding.UTF8.GetString(frame.Payload.Span));
        frame.Release();
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public void WsGenClient_ValidationCallback_Decides(string reactor)
    {
        using var server = TlsInteropTests.StartTls(reactor);
        SslPolicyErrors seen = SslPolicyErrors.None;
        using (var accepted = WebSocketClient.Connect(TlsInteropTests.Url(server), new WebSocketClientOptions
        {
            ValidateServerCertificate = (_, certificate, _, errors) =>
            {
                seen = errors;
                return TestCertificates.ChainsToCa(certificate);
            },
        }))
        {
            accepted.SendText("hi");
            var frame = accepted.ReadFrame();
            Assert.Equal("hi", Encoding.UTF8.GetString(frame.Payload.Span));
            frame.Release();
            accepted.Close();
        }
        Assert.Equal(SslPolicyErrors.RemoteCertificateChainErrors, seen);   // the system does not know the test CA

        Assert.Throws<AuthenticationException>(() => WebSocketClient.Connect(TlsInteropTests.Url(server), new WebSocketClientOptions
        {
            TrustedRootCertificates = [TestCertificates.Ca],
            ValidateServerCertificate = (_, _, _, _) => false,
        }));
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task SelectCertificate_GetsTheHostNameTheClientAskedFor(string reactor)
    {
        var names = new List<string?>();
        using var server = TlsInteropTests.StartTls(reactor, o => o.Tls = new WebSocketTlsOptions
        {
            SelectCertificate = name =>
            {
                lock (names)
                    names.Add(name);
                return name == "localhost" ? TestCertificates.Server : null;
            },
        });
        using (var client = new ClientWebSocket())
        {
            client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ChainsToCa(certificate);
            await client.ConnectAsync(new Uri($"wss://localhost:{server.TlsLocalEndPoint!.Port}/"), CancellationToken.None);
            var payload = RandomNumberGenerator.GetBytes(1000);
            Assert.Equal(payload, await EchoInteropTests.EchoAsync(client, payload, WebSocketMessageType.Binary));
        }
        lock (names)
            Assert.Contains("localhost", names);

        // A name the selector has no certificate for: the handshake is refused.
        Assert.ThrowsAny<Exception>(() => WebSocketClient.Connect(new Uri($"wss://127.0.0.1:{server.TlsLocalEndPoint!.Port}/"), TrustingTestCa()));
    }

    [Theory]
    [MemberData(nameof(Loops))]
    public async Task ClientCertificates_AreAskedFor_AndTheCallbackDecides(string reactor)
    {
        string? presented = null;
        using var server = TlsInteropTests.StartTls(reactor, o =>
        {
            o.Tls!.ClientCertificateRequired = true;
            o.Tls.ValidateClientCertificate = (_, certificate, _, _) =>
            {
                presented ??= certificate?.GetCertHashString();
                return TestCertificates.ChainsToCa(certificate);
            };
        });

        using (var client = new ClientWebSocket())
        {
            client.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ChainsToCa(certificate);
            client.Options.ClientCertificates = [TestCertificates.Client];
            await client.ConnectAsync(TlsInteropTests.Url(server), CancellationToken.None);
            var payload = RandomNumberGenerator.GetBytes(100);
            Assert.Equal(payload, await EchoInteropTests.EchoAsync(client, payload, WebSocketMessageType.Binary));
        }
        Assert.Equal(TestCertificates.Client.Thumbprint, presented);

        // Without a client certificate the callback refuses, and so does the server.
        using var without = new ClientWebSocket();
        without.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ChainsToCa(certificate);
        await Assert.ThrowsAnyAsync<Exception>(() => without.ConnectAsync(TlsInteropTests.Url(server), CancellationToken.None));
    }

    private static WebSocketClientOptions TrustingTestCa() => new() { TrustedRootCertificates = [TestCertificates.Ca] };
}
