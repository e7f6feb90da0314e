using System.Text;
using WsGen.Protocol;

namespace WsGen.Fuzz.Targets;

/// <summary>
/// The permessage-deflate negotiation: the server's answer to a request's <c>Sec-WebSocket-Extensions</c> offers
/// (<see cref="DeflateNegotiation.TryAccept(in HttpRequestHead, WebSocketCompression, int, int, out DeflateParameters)"/>,
/// through <see cref="HttpRequestParser"/>) and the client's check of that answer
/// (<see cref="Handshake.ParseServerResponse"/>). Input: a configuration byte (bits 0-1 the mode: off, shared,
/// dedicated; then the dedicated window, 9 to 15 bits), then the header values, one per line. Invariants, with the
/// offers read by <see cref="ReferenceOffer"/> (RFC 7692 section 7 read the plainest way):
/// <list type="bullet">
/// <item>An answer is given exactly when the mode is not off and some offer is valid and asks for a server window
/// of at least 9 bits; it answers the first such offer.</item>
/// <item>The answer keeps that offer's <c>server_no_context_takeover</c>, names no larger window than offered, a client
/// window only when offered, a server window of at least 9 bits, and in shared mode no context takeover either way;
/// as written on the wire it is a valid answer.</item>
/// <item>The client takes the answer as it was written (a client window of 8 bits aside: zlib cannot deflate
/// with it, so the client refuses it, and never offers it).</item>
/// </list>
/// </summary>
internal sealed class DeflateOfferTarget : IFuzzTarget
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string Accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";  // RFC 6455 section 1.3

    public string Name => "deflate-offer";

    public void Run(ReadOnlySpan<byte> input)
    {
        // An empty input is negotiated too, so that every run covers some code (see Program.cs).
        byte config = input.IsEmpty ? (byte)0 : input[0];
        var mode = (config & 3) switch { 0 => WebSocketCompression.Off, 1 => WebSocketCompression.Shared, _ => WebSocketCompression.Dedicated };
        int windowBits = 9 + (config >> 2) % 7;
        string[] values = Encoding.Latin1.GetString(input.IsEmpty ? input : input.Slice(1)).Split('\n');

        var request = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
            .Append($"Sec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n");
        foreach (string value in values)
            request.Append($"Sec-WebSocket-Extensions: {value}\r\n");
        byte[] head = Encoding.Latin1.GetBytes(request.Append("\r\n").ToString());
        if (HttpRequestParser.TryParse(head, HandshakeLimits.Default, out HttpRequestHead parsed, out _) != HttpParseStatus.Complete)
            return;   // a value the HTTP parser refuses (a CR, say) never reaches the negotiation
        // The header values as the HTTP parser gives them (without the whitespace around them).
        values = [.. values.Select(v => v.Trim(' ', '\t'))];

        bool answered = DeflateNegotiation.TryAccept(in parsed, mode, windowBits, DeflateParameters.MinDeflateWindowBits, out DeflateParameters answer);
        ReferenceOffer? offer = mode == WebSocketCompression.Off ? null : values.SelectMany(ReferenceOffer.ReadList)
            .FirstOrDefault(o => o is { } valid && (valid.ServerWindowBits is 0 or >= DeflateParameters.MinDeflateWindowBits));
        Invariant.Check(answered == offer.HasValue, $"mode {mode}: {(answered ? $"answered {answer}" : "no answer")}, the first acceptable offer is {offer?.ToString() ?? "none"}");
        if (!answered)
            return;

        ReferenceOffer o = offer!.Value;
        string what = $"mode {mode}, window {windowBits}: answered {answer} to {o}";
        Invariant.Check(!o.ServerNoContextTakeover || answer.ServerNoContextTakeover, $"{what}: server_no_context_takeover dropped");
        Invariant.Check(answer.ServerWindowBits is 0 or (>= DeflateParameters.MinDeflateWindowBits and <= 15)
            && (o.ServerWindowBits == 0 || (answer.ServerWindowBits != 0 && answer.ServerWindowBits <= o.ServerWindowBits)), $"{what}: server window");
        Invariant.Check(answer.ClientWindowBits == 0 || (o.ClientWindowBits != 0 && answer.ClientWindowBits is >= 8 and <= 15
            && (o.ClientWindowBits < 0 || answer.ClientWindowBits <= o.ClientWindowBits)), $"{what}: client window");
        if (mode == WebSocketCompression.Shared)
            Invariant.Check(answer.ServerNoContextTakeover && answer.ClientNoContextTakeover, $"{what}: shared mode keeps a context");
        else
            Invariant.Check(answer.ServerWindowBits <= windowBits && answer.ClientWindowBits <= windowBits, $"{what}: a window larger than this side's");

        string written = answer.ToString();
        Invariant.Check(ReferenceOffer.ReadList(written) is [ReferenceOffer { ClientWindowBits: >= 0 } read]
            && (read.ServerNoContextTakeover, read.ClientNoContextTakeover, read.ServerWindowBits, read.ClientWindowBits)
                == (answer.ServerNoContextTakeover, answer.ClientNoContextTakeover, answer.ServerWindowBits, answer.ClientWindowBits),
            $"{what}: the answer as written, {written}, is not a valid answer");

        string response = $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {Accept}\r\n"
            + $"Sec-WebSocket-Extensions: {written}\r\n\r\n";
        ClientHandshakeResult result = Handshake.ParseServerResponse(Encoding.Latin1.GetBytes(response), Key, null, out _, offeredDeflate: true);
        if (answer.ClientWindowBits == 8)
            Invariant.Check(result.Status == ClientHandshakeStatus.Failed, $"{what}: the client took a client window of 8 bits");
        else
            Invariant.Check(result.Status == ClientHandshakeStatus.Accepted && result.Deflate == answer, $"{what}: the client read {result}");
    }
}

/// <summary>
/// One permessage-deflate element of a <c>Sec-WebSocket-Extensions</c> list, read as RFC 7692 section 7 and RFC 7230's
/// list and quoted-string grammar say, sharing no code with <see cref="DeflateParameters"/>. Window bits 0 when absent,
/// -1 for <c>client_max_window_bits</c> without a value.
/// </summary>
/// <remarks>One simplification: a quoted window value with a backslash (a quoted-pair, "1\0" for 10) counts as
/// invalid; WsGen does not unescape window values, and no client escapes digits.</remarks>
internal readonly record struct ReferenceOffer(bool ServerNoContextTakeover, bool ClientNoContextTakeover, int ServerWindowBits, int ClientWindowBits)
{
    /// <summary>Every element of <paramref name="list"/>: a valid permessage-deflate element, or null.</summary>
    public static List<ReferenceOffer?> ReadList(string list) => [.. SplitOutsideQuotes(list, ',').Select(Read)];

    private static ReferenceOffer? Read(string element)
    {
        List<string> parts = SplitOutsideQuotes(element, ';');
        if (parts[0].Trim(' ', '\t') != "permessage-deflate")
            return null;
        var seen = new HashSet<string>();
        bool serverNo = false, clientNo = false;
        int serverBits = 0, clientBits = 0;
        foreach (string part in parts.Skip(1))
        {
            int eq = part.IndexOf('=');
            string name = (eq < 0 ? part : part[..eq]).Trim(' ', '\t');
            string? value = eq < 0 ? null : part[(eq + 1)..].Trim(' ', '\t');
            if (!seen.Add(name))
                return null;
            int bits = value is null ? -1 : Bits(value);
            switch (name)
            {
                case "server_no_context_takeover" when value is null: serverNo = true; break;
                case "client_no_context_takeover" when value is null: clientNo = true; break;
                case "server_max_window_bits" when bits > 0: serverBits = bits; break;
                case "client_max_window_bits" when bits != 0: clientBits = bits; break;
                default: return null;
            }
        }

        return new ReferenceOffer(serverNo, clientNo, serverBits, clientBits);
    }

    /// <summary>8 to 15 written as 1*DIGIT without a leading zero, as a token or a quoted string; else 0.</summary>
    private static int Bits(string value)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            value = value[1..^1];
        return value is "8" or "9" or "10" or "11" or "12" or "13" or "14" or "15" ? int.Parse(value) : 0;
    }

    /// <summary>Splits at <paramref name="separator"/> outside quoted strings (a backslash inside one escapes the next
    /// character); an unterminated quoted string runs to the end.</summary>
    private static List<string> SplitOutsideQuotes(string text, char separator)
    {
        var parts = new List<string>();
        bool quoted = false;
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (quoted && text[i] == '\\')
                i++;
            else if (text[i] == '"')
                quoted = !quoted;
            else if (text[i] == separator && !quoted)
            {
                parts.Add(text[start..i]);
                start = i + 1;
            }
        }

        parts.Add(text[start..]);
        return parts;
    }
}
