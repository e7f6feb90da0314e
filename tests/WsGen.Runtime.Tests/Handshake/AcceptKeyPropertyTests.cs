using System.Security.Cryptography;
using System.Text;
using CsCheck;
using WsGen.Protocol;

namespace WsGen.Tests.HandshakeTests;

/// <summary>Sec-WebSocket-Accept (RFC 6455 sections 1.3 and 4.2.2) for the RFC's example and generated keys, computed
/// here with the BCL's SHA-1 and base64, and the round trip through the server's answer and the client's check.</summary>
public class AcceptKeyPropertyTests
{
    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    [Fact]
    public void TheRfcExampleKeyGivesTheRfcAcceptValue()
    {
        byte[] accept = new byte[Handshake.AcceptLength];
        Handshake.ComputeAccept("dGhlIHNhbXBsZSBub25jZQ=="u8, accept);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Encoding.ASCII.GetString(accept));
    }

    [Fact]
    public void AnyValidKeyGetsTheAcceptValueTheRfcDefinesAndTheClientAcceptsTheAnswer()
    {
        Gen.Byte.Array[16].Sample(nonce =>
        {
            string key = Convert.ToBase64String(nonce);
            string expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Guid)));
            byte[] accept = new byte[Handshake.AcceptLength];
            Handshake.ComputeAccept(Encoding.ASCII.GetBytes(key), accept);
            Assert.Equal(expected, Encoding.ASCII.GetString(accept));
            Assert.True(Handshake.IsValidKey(Encoding.ASCII.GetBytes(key)));

            byte[] response = new byte[Handshake.GetAcceptLength(null)];
            Handshake.WriteAccept(response, Encoding.ASCII.GetBytes(key), null);
            ClientHandshakeResult result = Handshake.ParseServerResponse(response, key, null, out int consumed);
            Assert.Equal(ClientHandshakeStatus.Accepted, result.Status);
            Assert.Equal(response.Length, consumed);
        }, iter: 500, threads: 1);
    }

    [Fact]
    public void KeysThatAreNotBase64OfSixteenBytesAreRefused()
    {
        Gen.Select(Gen.Byte.Array[0, 40], Gen.Char.AlphaNumeric.Array[0, 30]).Sample((nonce, text) =>
        {
            string encoded = Convert.ToBase64String(nonce);
            Assert.Equal(nonce.Length == 16, Handshake.IsValidKey(Encoding.ASCII.GetBytes(encoded)));
            // A 24-char key of letters and digits has no padding, so it decodes to 18 bytes: never a key.
            Assert.False(Handshake.IsValidKey(Encoding.ASCII.GetBytes(new string(text))));
        }, iter: 500, threads: 1);
    }
}
