using System.Text;
using WsGen.Protocol;
using WsGen.Tests.Server;

namespace WsGen.Tests.Deflate;

/// <summary>The server's answer to permessage-deflate offers (RFC 7692 section 7.1), through the handshake of the
/// server: the first acceptable offer wins, invalid offers are skipped, nothing larger than offered is answered.</summary>
public sealed class DeflateNegotiationTests
{
    [Theory]
    // Shared mode: no context takeover both ways, the server's window as limited by the client.
    [InlineData("Shared", "permessage-deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover")]
    [InlineData("Shared", "permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover; client_no_context_takeover")]
    [InlineData("Shared", "permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10")]
    [InlineData("Shared", "permessage-deflate; server_max_window_bits=\"11\"", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11")]
    // Dedicated mode (window 12): what the client asked for, windows never larger than offered nor than this side's.
    [InlineData("Dedicated", "permessage-deflate", "permessage-deflate")]
    [InlineData("Dedicated", "permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=12")]
    [InlineData("Dedicated", "permessage-deflate; client_max_window_bits=10", "permessage-deflate; client_max_window_bits=10")]
    [InlineData("Dedicated", "permessage-deflate; client_max_window_bits=15", "permessage-deflate; client_max_window_bits=12")]
    [InlineData("Dedicated", "permessage-deflate; server_max_window_bits=15", "permessage-deflate; server_max_window_bits=12")]
    [InlineData("Dedicated", "permessage-deflate; server_max_window_bits=9", "permessage-deflate; server_max_window_bits=9")]
    [InlineData("Dedicated", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover")]
    // Several offers: invalid ones are skipped, the first acceptable wins.
    [InlineData("Dedicated", "permessage-deflate; server_max_window_bits=8, permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover")]
    [InlineData("Dedicated", "permessage-deflate; foo=1, permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover")]
    [InlineData("Dedicated", "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=9", "permessage-deflate; client_max_window_bits=9")]
    [InlineData("Dedicated", "permessage-deflate; client_no_context_takeover; client_no_context_takeover, permessage-deflate", "permessage-deflate")]
    [InlineData("Dedicated", "permessage-deflate; server_max_window_bits, permessage-deflate; server_max_window_bits=16, permessage-deflate; server_max_window_bits=08, permessage-deflate; server_no_context_takeover=1, permessage-deflate", "permessage-deflate")]
    // Found by the deflate-offer fuzz target: a semicolon always needs a parameter after it, and inside a quoted
    // string a backslash escapes the next character, so an escaped quote does not end the string (RFC 7230 section 3.2.6).
    [InlineData("Dedicated", "permessage-deflate;, permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover")]
    [InlineData("Dedicated", "permessage-deflate; x=\"\\\", permessage-deflate, permessage-deflate; server_no_context_takeover", null)]
    [InlineData("Dedicated", "permessage-deflate; x=\"\\\"\", permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover")]
    public void The_server_answers_the_first_acceptable_offer(string mode, string offer, string? answer)
    {
        Assert.Equal(answer, Answer(Enum.Parse<WebSocketCompression>(mode), offer));
    }

    [Theory]
    [InlineData("permessage-deflate; server_max_window_bits=8")]          // zlib cannot make a raw stream of window 8
    [InlineData("permessage-deflate; client_max_window_bits=7")]
    [InlineData("permessage-deflate; client_max_window_bits=16")]
    [InlineData("permessage-deflate; server_max_window_bits")]
    [InlineData("permessage-deflate; unknown")]
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_max_window_bits=abc")]
    [InlineData("deflate-frame")]
    [InlineData("permessage-deflate;")]
    [InlineData("permessage-deflate; server_no_context_takeover;")]
    public void An_offer_the_server_cannot_accept_is_declined_and_the_connection_opens_without_it(string offer)
    {
        Assert.Null(Answer(WebSocketCompression.Dedicated, offer));
        Assert.Null(Answer(WebSocketCompression.Shared, offer));
    }

    [Theory]
    // DeflateStream cannot limit its window: a smaller server window is declined, 15 is answered as it is, and the
    // client's window (the inflater reads any) is limited as with zlib.
    [InlineData("Shared", "permessage-deflate; server_max_window_bits=10", null)]
    [InlineData("Shared", "permessage-deflate; server_max_window_bits=15", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15")]
    [InlineData("Dedicated", "permessage-deflate; server_max_window_bits=12", null)]
    [InlineData("Dedicated", "permessage-deflate; server_max_window_bits=15", "permessage-deflate; server_max_window_bits=15")]
    [InlineData("Dedicated", "permessage-deflate; server_max_window_bits=9, permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=12")]
    [InlineData("Dedicated", "permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover")]
    public void The_DeflateStream_engine_declines_a_server_window_it_cannot_make(string mode, string offer, string? answer)
    {
        Assert.Equal(answer, Answer(Enum.Parse<WebSocketCompression>(mode), offer, TestEngines.DeflateStream));
    }

    [Fact]
    public void An_endpoint_with_compression_off_declines_every_offer()
    {
        Assert.Null(Answer(WebSocketCompression.Off, "permessage-deflate"));
    }

    [Fact]
    public void Offers_spread_over_several_header_lines_are_read_in_order()
    {
        var server = new FakeServer(new RecordingEndpoint(), endpointOptions: new WebSocketEndpointOptions { Compression = WebSocketCompression.Dedicated });
        var client = server.Connect();
        client.SendAscii(RawWebSocket.Request("/", "Sec-WebSocket-Extensions: permessage-deflate; bad\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=11\r\n"));
        Assert.Contains("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=11\r\n", client.ReadHttpHead());
    }

    [Fact]
    public void The_run_time_option_overrides_the_attribute_of_a_generated_endpoint()
    {
        // The echo sample's endpoint has no Compression in its attribute: Off until the options say otherwise.
        using var server = Echo.WsGenApp.CreateServer(new WebSocketServerOptions { EndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0) });
        Assert.Equal(WebSocketCompression.Off, server.GetEndpointOptions("*").Compression);
        server.GetEndpointOptions("*").Compression = WebSocketCompression.Shared;
        server.Start();

        using var raw = RawWebSocket.ConnectTcp(server.LocalEndPoint!);
        raw.SendText(RawWebSocket.Request("/", "Sec-WebSocket-Extensions: permessage-deflate\r\n"));
        Assert.Contains("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n", raw.ReadHttpHead());
    }

    [Fact]
    public void Compression_settings_out_of_range_are_refused()
    {
        var options = new WebSocketEndpointOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => options.Compression = (WebSocketCompression)7);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.CompressionWindowBits = 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.CompressionWindowBits = 16);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.CompressionThreshold = -1);
    }

    [Fact]
    public void GetEndpointOptions_of_a_path_nobody_maps_throws()
    {
        using var server = new WebSocketServer();
        server.Map("/a", new RecordingEndpoint());
        Assert.Throws<KeyNotFoundException>(() => server.GetEndpointOptions("/b"));
    }

    [Theory]
    [InlineData("permessage-deflate; server_no_context_takeover; client_max_window_bits=10", true)]
    [InlineData("permessage-deflate; client_max_window_bits", false)]            // a response must give the value
    [InlineData(" permessage-deflate ;server_max_window_bits = 12 ", true)]
    [InlineData("permessage-deflate; server_max_window_bits=12; server_max_window_bits=12", false)]
    public void A_response_parses_only_when_valid(string response, bool valid)
    {
        Assert.Equal(valid, DeflateParameters.TryParse(Encoding.ASCII.GetBytes(response), isResponse: true, out _));
    }

    [Theory]
    [InlineData(true, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", null)]
    [InlineData(true, "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10", null)]
    [InlineData(false, "permessage-deflate", "the server accepted an extension that was not offered")]
    [InlineData(true, "permessage-deflate; client_max_window_bits=8", "the server asked for a client window smaller than 9 bits")]
    [InlineData(true, "permessage-deflate; mystery", "the server's permessage-deflate answer is not valid")]
    [InlineData(true, "permessage-deflate, permessage-deflate", "the server's permessage-deflate answer is not valid")]
    [InlineData(true, "x-other", "the server's permessage-deflate answer is not valid")]
    public void The_client_takes_only_a_valid_answer_to_its_offer(bool offered, string answer, string? failure)
    {
        const string key = "dGhlIHNhbXBsZSBub25jZQ==";
        byte[] response = Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n");

        var result = Handshake.ParseServerResponse(response, key, null, out _, offeredDeflate: offered);

        Assert.Equal(failure, result.FailureReason);
        if (failure is null)
            Assert.Equal(answer, result.Deflate.ToString());
    }

    /// <summary>The extension the server answers <paramref name="offer"/> with (null for none), the connection open
    /// either way.</summary>
    private static string? Answer(WebSocketCompression mode, string offer, string engine = TestEngines.Zlib)
    {
        var server = new FakeServer(new RecordingEndpoint(), TestEngines.Options(engine), endpointOptions: new WebSocketEndpointOptions { Compression = mode, CompressionWindowBits = 12 });
        var client = server.Connect();
        client.SendAscii(RawWebSocket.Request("/", $"Sec-WebSocket-Extensions: {offer}\r\n"));
        string head = client.ReadHttpHead();
        Assert.StartsWith("HTTP/1.1 101 ", head);
        const string name = "Sec-WebSocket-Extensions: ";
        int at = head.IndexOf(name, StringComparison.Ordinal);
        return at < 0 ? null : head[(at + name.Length)..head.IndexOf("\r\n", at, StringComparison.Ordinal)];
    }
}
