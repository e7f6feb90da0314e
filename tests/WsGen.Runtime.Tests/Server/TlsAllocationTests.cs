using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using WsGen.Transport;

namespace WsGen.Tests.Server;

/// <summary>What TLS costs a connection after its handshake: no allocation per message on the loop thread, and no
/// record buffer of the engine while idle.</summary>
public sealed class TlsAllocationTests
{
    private const int Warmup = 2_000;
    private const int Measured = 20_000;

    public static TheoryData<string> NativeLoops => ZeroAllocationTests.NativeLoops;

    [Theory]
    [MemberData(nameof(NativeLoops))]
    public void EchoingOverTls_AllocatesZeroBytesOnTheLoop_PerMessage(string reactor)
    {
        var endpoint = new ZeroAllocationTests.MeasuringEcho(Warmup, Measured);
        var options = new WebSocketServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Loop = TestServers.LoopOf(reactor),
            Tls = TestCertificates.ServerOptions(),
        };
        using var server = new WebSocketServer(options);
        server.Map("/", endpoint);
        server.Start();

        using var client = WebSocketClient.Connect(TlsInteropTests.Url(server), new WebSocketClientOptions { TrustedRootCertificates = [TestCertificates.Ca] });
        // One message in flight at a time: every message wakes the connection's read from its idle wait.
        var payload = "0123456789abcdef0123456789abcdef"u8.ToArray();
        for (int i = 0; i < Warmup + Measured; i++)
        {
            client.Send(payload, WebSocketOpcode.Text);
            var reply = client.ReadFrame();
            Assert.Equal(32, reply.Payload.Length);
            reply.Release();
        }

        Assert.True(endpoint.MeasuredBytes.HasValue, "the endpoint did not reach the end of the measured window");
        Assert.Equal(0, endpoint.MeasuredBytes.Value);
    }

    [Fact]
    public async Task OpenSslReleasesTheRecordBuffersOfAnIdleSession()
    {
        Assert.True(OperatingSystem.IsLinux(), "OpenSSL is the TLS engine on Linux only; the tests run on Linux");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        using var accepted = await listener.AcceptTcpClientAsync();
        using var server = new SslStream(accepted.GetStream());
        using var tls = new SslStream(client.GetStream(), false, (_, c, _, _) => TestCertificates.ChainsToCa(c));
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = TestCertificates.Server }),
            tls.AuthenticateAsClientAsync("localhost"));
        // If a runtime renamed SslStream's session field, this fails, and idle TLS connections grow by their buffers.
        Assert.True(TlsTransform.ReleaseEngineBuffersWhenIdle(server));
    }
}
