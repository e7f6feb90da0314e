using System.Security.Cryptography;
using System.Text;
using WsGen.Protocol;

namespace WsGen.Fuzz.Targets;

/// <summary>
/// The HTTP request head parser and the server's handshake decision. Input: a configuration byte (default or small
/// limits; no subprotocol, a supported list, or a selection hook; an origin check), then the request bytes.
/// Invariants:
/// <list type="bullet">
/// <item>Incremental: a head complete at n bytes is NeedMore on every shorter prefix and the same head on every
/// longer buffer; once a prefix is an error, every longer one is the same error; NeedMore only below the size limit.</item>
/// <item>A complete head ends in CRLF CRLF within the limits, and every view lies inside it.</item>
/// <item>An accepted handshake had GET, HTTP/1.1+, version 13 and a key that is base64 of 16 bytes; its 101 response
/// is exactly as long as measured, carries base64(SHA-1(key + GUID)) (computed here), and the client's parser accepts
/// it with the same subprotocol. A refusal has a status RFC 6455 and HTTP allow here, and the client reads that status.</item>
/// <item>Every buffer the parser sees ends at a guard page.</item>
/// </list>
/// </summary>
internal sealed class ServerHandshakeTarget : IFuzzTarget
{
    private static readonly HandshakeLimits Small = new() { MaxHeaderBytes = 300, MaxHeaderCount = 5, MaxRequestTargetLength = 40 };
    private static readonly string[] Supported = ["chat", "superchat"];
    private static readonly int[] Refusals = [400, 403, 405, 414, 426, 431, 505];
    private readonly GuardedBuffer _guarded = new(64 * 1024);

    public string Name => "http-request";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > _guarded.Capacity)
            return;

        // An empty input is parsed too, so that every run covers some code (see Program.cs).
        byte config = input.IsEmpty ? (byte)0 : input[0];
        HandshakeLimits limits = (config & 1) != 0 ? Small : HandshakeLimits.Default;
        var options = new HandshakeOptions
        {
            Limits = limits,
            SupportedSubProtocols = (config & 6) == 2 ? Supported : null,
            SelectSubProtocol = (config & 6) == 4 ? offered => offered[^1] : null,
            CheckOrigin = (config & 8) != 0 ? origin => origin != "http://evil.example" : null,
        };
        ReadOnlySpan<byte> request = input.IsEmpty ? input : input.Slice(1);

        HttpParseStatus status = HttpRequestParser.TryParse(_guarded.Place(request), limits, out HttpRequestHead head, out int consumed);
        int errorStatus = status == HttpParseStatus.Error ? head.Error.StatusCode : 0;
        CheckPrefixes(request, limits, status, consumed, errorStatus, input.Length);

        switch (status)
        {
            case HttpParseStatus.NeedMore:
                Invariant.Check(request.Length < limits.MaxHeaderBytes, $"NeedMore after {request.Length} bytes, past the {limits.MaxHeaderBytes}-byte limit");
                return;
            case HttpParseStatus.Error:
                Invariant.Check(errorStatus is 400 or 414 or 431 or 505, $"the parser refused with {errorStatus}");
                CheckRefusal(Handshake.Validate(in head, options), errorStatus);
                return;
        }

        // Complete: re-parse in the guarded buffer so that the views are checked against where they lie.
        Span<byte> placed = _guarded.Place(request);
        HttpRequestParser.TryParse(placed, limits, out head, out consumed);
        Invariant.Check(consumed >= 4 && consumed <= request.Length && consumed <= limits.MaxHeaderBytes, $"consumed {consumed} of {request.Length}");
        ReadOnlySpan<byte> bytes = placed.Slice(0, consumed);
        Invariant.Check(bytes.EndsWith("\r\n\r\n"u8), "a complete head does not end in CRLF CRLF");
        Invariant.Check(head.HeaderCount <= limits.MaxHeaderCount, "more header lines than the limit");
        Invariant.Check(head.PathBytes.Length > 0 && head.PathBytes[0] == (byte)'/', "the path does not start with '/'");
        CheckInside(bytes, head.MethodBytes, "method");
        CheckInside(bytes, head.PathBytes, "path");
        CheckInside(bytes, head.QueryBytes, "query");
        CheckInside(bytes, head.HostBytes, "Host");
        CheckInside(bytes, head.SecWebSocketKeyBytes, "Sec-WebSocket-Key");
        CheckInside(bytes, head.SecWebSocketVersionBytes, "Sec-WebSocket-Version");
        CheckInside(bytes, head.OriginBytes, "Origin");

        HandshakeDecision decision = Handshake.Validate(in head, options);
        if (!decision.IsAccepted)
        {
            CheckRefusal(decision, 0);
            return;
        }

        string key = Encoding.Latin1.GetString(head.SecWebSocketKeyBytes);
        Invariant.Check(head.MethodBytes.SequenceEqual("GET"u8) && head.VersionMajor == 1 && head.VersionMinor >= 1
            && head.SecWebSocketVersionBytes.SequenceEqual("13"u8), "accepted without GET, HTTP/1.1 or version 13");
        Invariant.Check(key.Length == 24 && Convert.TryFromBase64String(key, new byte[18], out int keyBytes) && keyBytes == 16,
            $"accepted the key '{key}', not base64 of 16 bytes");
        Invariant.Check(decision.SubProtocol is null || head.OffersSubProtocol(decision.SubProtocol), "chose a subprotocol the client did not offer");

        byte[] response = new byte[Handshake.GetAcceptLength(decision.SubProtocol)];
        Invariant.Check(Handshake.WriteAccept(response, in decision) == response.Length, "the 101 response is not as long as measured");
        string expectedAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        Invariant.Check(Encoding.ASCII.GetString(response).Contains($"\r\nSec-WebSocket-Accept: {expectedAccept}\r\n", StringComparison.Ordinal),
            "the 101 response lacks the accept value RFC 6455 computes");
        string[] offered = [.. head.SubProtocols];
        ClientHandshakeResult client = Handshake.ParseServerResponse(response, key, offered, out int clientConsumed);
        Invariant.Check(client.Status == ClientHandshakeStatus.Accepted && clientConsumed == response.Length
            && client.SubProtocol == decision.SubProtocol, $"the client reads the 101 response as {client}");
    }

    /// <summary>A refusal's status is one WsGen sends, its response is as long as measured, and the client reads it.</summary>
    private static void CheckRefusal(in HandshakeDecision decision, int parserStatus)
    {
        Invariant.Check(!decision.IsAccepted && Array.IndexOf(Refusals, decision.StatusCode) >= 0, $"refused with {decision.StatusCode}");
        Invariant.Check(parserStatus == 0 || decision.StatusCode == parserStatus, "the decision changed the parser's status");
        byte[] response = new byte[Handshake.GetRejectLength(decision.StatusCode, decision.Detail)];
        Invariant.Check(Handshake.WriteReject(response, in decision) == response.Length, "the refusal is not as long as measured");
        ClientHandshakeResult client = Handshake.ParseServerResponse(response, "dGhlIHNhbXBsZSBub25jZQ==", null, out _);
        Invariant.Check(client.Status == ClientHandshakeStatus.Failed && client.StatusCode == decision.StatusCode,
            $"the client reads the {decision.StatusCode} refusal as {client}");
    }

    private static void CheckInside(ReadOnlySpan<byte> head, ReadOnlySpan<byte> view, string what)
    {
        if (view.IsEmpty)
            return;
        Invariant.Check(head.Overlaps(view, out int offset) && offset >= 0 && offset + view.Length <= head.Length, $"the {what} lies outside the head");
    }

    /// <summary>The incremental invariants, on every prefix of a short input and on about 40 of a longer one (those
    /// around where the head ends among them), shortest first.</summary>
    private void CheckPrefixes(ReadOnlySpan<byte> request, HandshakeLimits limits, HttpParseStatus full, int consumed, int errorStatus, int seed)
    {
        var lengths = new SortedSet<int>();
        var random = new Random(seed);
        for (int i = 0; i < Math.Min(request.Length, 40); i++)
            lengths.Add(request.Length <= 40 ? i : random.Next(request.Length));
        if (full == HttpParseStatus.Complete)
            lengths.UnionWith([consumed - 1, consumed]);

        bool failed = false;
        foreach (int length in lengths)
        {
            HttpParseStatus status = HttpRequestParser.TryParse(_guarded.Place(request.Slice(0, length)), limits, out HttpRequestHead head, out int used);
            switch (full)
            {
                case HttpParseStatus.Complete:
                    Invariant.Check(length < consumed ? status == HttpParseStatus.NeedMore : status == HttpParseStatus.Complete && used == consumed,
                        $"the head completes at {consumed} bytes, but {length} bytes give {status} ({used})");
                    break;
                case HttpParseStatus.NeedMore:
                    Invariant.Check(status == HttpParseStatus.NeedMore, $"{request.Length} bytes need more, but {length} bytes give {status}");
                    break;
                default:
                    Invariant.Check(status != HttpParseStatus.Complete, $"a prefix of {length} bytes completes a head that fails");
                    Invariant.Check(!failed || status == HttpParseStatus.Error, $"a shorter prefix failed, but {length} bytes need more");
                    if (status == HttpParseStatus.Error)
                        Invariant.Check(head.Error.StatusCode == errorStatus, $"{length} bytes fail with {head.Error}, all {request.Length} with {errorStatus}");
                    failed |= status == HttpParseStatus.Error;
                    break;
            }
        }
    }
}
