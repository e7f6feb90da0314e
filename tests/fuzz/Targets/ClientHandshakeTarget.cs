using System.Text;
using WsGen.Protocol;

namespace WsGen.Fuzz.Targets;

/// <summary>
/// The client's parser of the server's handshake response (<see cref="Handshake.ParseServerResponse"/>), with the key
/// of RFC 6455's example. Input: a byte choosing the subprotocols offered (none, one, two), then the response bytes.
/// Invariants: it never throws; an accepted response starts with an HTTP/1.x 101 status line, ends its head in CRLF
/// CRLF, carries the accept value of the RFC's example, and names an offered subprotocol (the offered instance) or
/// none; every shorter prefix of an accepted head needs more, every longer buffer gives the same answer; a failure
/// stays a failure as bytes are added; NeedMore only below the 8 KiB limit; every buffer ends
/// at a guard page.
/// </summary>
internal sealed class ClientHandshakeTarget : IFuzzTarget
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string Accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";  // RFC 6455 section 1.3
    private static readonly string[][] Offers = [[], ["chat"], ["chat", "superchat"]];
    private readonly GuardedBuffer _guarded = new(64 * 1024);

    public string Name => "http-response";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > _guarded.Capacity)
            return;

        // An empty input is parsed too, so that every run covers some code (see Program.cs).
        string[]? offered = Offers[input.IsEmpty ? 0 : input[0] % 3] is { Length: > 0 } offer ? offer : null;
        ReadOnlySpan<byte> response = input.IsEmpty ? input : input.Slice(1);
        ClientHandshakeResult result = Handshake.ParseServerResponse(_guarded.Place(response), Key, offered, out int consumed);

        if (result.Status == ClientHandshakeStatus.Accepted)
        {
            Invariant.Check(consumed >= 4 && consumed <= response.Length, $"consumed {consumed} of {response.Length}");
            ReadOnlySpan<byte> head = response.Slice(0, consumed);
            Invariant.Check(head.StartsWith("HTTP/1."u8) && head.Slice(8).StartsWith(" 101"u8) && head.EndsWith("\r\n\r\n"u8),
                "accepted a head that is not an HTTP/1.x 101 ending in CRLF CRLF");
            Invariant.Check(Encoding.Latin1.GetString(head).Contains(Accept, StringComparison.Ordinal), "accepted without the expected accept value");
            Invariant.Check(result.SubProtocol is null || (offered is not null && offered.Any(o => ReferenceEquals(o, result.SubProtocol))),
                $"accepted the subprotocol {result.SubProtocol}, not an offered instance");
        }
        else if (result.Status == ClientHandshakeStatus.NeedMore)
        {
            Invariant.Check(response.Length < HandshakeLimits.Default.MaxHeaderBytes, $"NeedMore after {response.Length} bytes");
        }
        else
        {
            Invariant.Check(!string.IsNullOrEmpty(result.FailureReason), "a failure without a reason");
        }

        var lengths = new SortedSet<int>();
        var random = new Random(input.Length);
        for (int i = 0; i < Math.Min(response.Length, 40); i++)
            lengths.Add(response.Length <= 40 ? i : random.Next(response.Length));
        if (result.Status == ClientHandshakeStatus.Accepted)
            lengths.UnionWith([consumed - 1, consumed]);

        bool failed = false;
        foreach (int length in lengths)
        {
            ClientHandshakeResult prefix = Handshake.ParseServerResponse(_guarded.Place(response.Slice(0, length)), Key, offered, out int used);
            string what = $"{length} bytes give {prefix}, all {response.Length} give {result}";
            switch (result.Status)
            {
                case ClientHandshakeStatus.Accepted:
                    Invariant.Check(length < consumed
                        ? prefix.Status == ClientHandshakeStatus.NeedMore
                        : prefix.Status == ClientHandshakeStatus.Accepted && used == consumed && ReferenceEquals(prefix.SubProtocol, result.SubProtocol), what);
                    break;
                case ClientHandshakeStatus.NeedMore:
                    Invariant.Check(prefix.Status == ClientHandshakeStatus.NeedMore, what);
                    break;
                default:
                    Invariant.Check(prefix.Status != ClientHandshakeStatus.Accepted && (!failed || prefix.Status == ClientHandshakeStatus.Failed), what);
                    failed |= prefix.Status == ClientHandshakeStatus.Failed;
                    break;
            }
        }
    }
}
