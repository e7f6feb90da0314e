using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using WsGen.Native;
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
        (SslStream server, SslStream client, IDisposable sockets) = await HandshakeAsync();
        using (sockets)
        using (server)
        using (client)
        {
            // If a runtime renamed SslStream's session field, this fails, and idle TLS connections grow by their buffers.
            Assert.True(TlsTransform.ReleaseEngineBuffersWhenIdle(TlsTransform.SessionOf(server)));
        }
    }

    [Fact]
    public async Task TheMemoryBiosOfAnIdleSession_HoldNoBuffer_AndTheSessionGoesOnIntact()
    {
        (SslStream server, SslStream client, IDisposable sockets) = await HandshakeAsync();
        using (sockets)
        using (server)
        using (client)
        {
            nint ssl = TlsTransform.SessionOf(server)!.DangerousGetHandle();
            // The server's handshake flight (its certificate and the session tickets) stays in the write BIO.
            long afterHandshake = LibSsl.BioCapacity(ssl);
            Assert.True(afterHandshake > 512, $"the BIOs hold {afterHandshake} bytes after the handshake");
            Assert.Equal(afterHandshake, LibSsl.ReleaseIdleBioBuffers(ssl));
            Assert.Equal(0, LibSsl.BioCapacity(ssl));

            // Records of a large message both ways grow them again; released, the session still reads and writes.
            var message = new byte[1 << 20];
            new Random(14).NextBytes(message);
            for (int round = 0; round < 3; round++)
            {
                await Task.WhenAll(client.WriteAsync(message).AsTask(), ReadExactlyAsync(server, message));
                Assert.True(LibSsl.BioCapacity(ssl) >= 16 * 1024, "a 16 KiB record went through the read BIO");
                await Task.WhenAll(server.WriteAsync(message).AsTask(), ReadExactlyAsync(client, message));
                Assert.True(LibSsl.ReleaseIdleBioBuffers(ssl) >= 16 * 1024);
                Assert.Equal(0, LibSsl.BioCapacity(ssl));
            }
        }
    }

    private static async Task ReadExactlyAsync(SslStream stream, byte[] expected)
    {
        var received = new byte[expected.Length];
        await stream.ReadExactlyAsync(received);
        Assert.True(received.AsSpan().SequenceEqual(expected), "the bytes differ");
    }

    /// <summary>A server SslStream (the test certificate) and its client, over loopback TCP, after the handshake.</summary>
    private static async Task<(SslStream Server, SslStream Client, IDisposable Sockets)> HandshakeAsync()
    {
        Assert.True(OperatingSystem.IsLinux(), "OpenSSL is the TLS engine on Linux only; the tests run on Linux");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        var accepted = await listener.AcceptTcpClientAsync();
        listener.Stop();
        var server = new SslStream(accepted.GetStream());
        var tls = new SslStream(client.GetStream(), false, (_, c, _, _) => TestCertificates.ChainsToCa(c));
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = TestCertificates.Server }),
            tls.AuthenticateAsClientAsync("localhost"));
        return (server, tls, new Sockets(accepted, client));
    }

    private sealed class Sockets(TcpClient accepted, TcpClient client) : IDisposable
    {
        public void Dispose()
        {
            accepted.Dispose();
            client.Dispose();
        }
    }
}
