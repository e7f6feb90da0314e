using WsGen.Protocol;

namespace WsGen.Fuzz.Targets;

/// <summary>
/// The permessage-deflate decode path (<see cref="PerMessageDeflate.TryDecode"/>) in shared mode (one transform of a
/// <see cref="DeflateContext"/> kept across runs, every message on its own) or dedicated mode (a connection's own
/// transform with context takeover, several messages in a row, window 9 to 15 bits). Input: a configuration byte
/// (bit 0 dedicated, bits 1-3 the window), a byte for the message limit (1 byte to 512 KiB), then the messages, each
/// after a 2-byte big-endian length (the last one takes what is left). Invariants:
/// <list type="bullet">
/// <item>Each result equals what <see cref="ReferenceInflater"/> (the BCL's <see cref="System.IO.Compression.DeflateStream"/>)
/// gives, or a failure with the reference's verdict: 1007 for bytes that do not inflate, 1009 past the limit. Two
/// leeways: a message past the limit whose bytes also fail just after it may get either code (zlib may decode the
/// next code in the call that reached the limit); a window below 15 bits may refuse a distance the reference's
/// 15-bit window reads (1007).</item>
/// <item>A failure closes the connection: no later message is decoded. A success is at most the limit long; a failure
/// held at most the limit plus one chunk of output.</item>
/// <item>The message (ending at a guard page, a canary before it) is never written to, nor read past.</item>
/// <item>Deflating each message's bytes and inflating the result (a sender and a receiver of the mode and window, the
/// limit exactly the message's length) gives them back.</item>
/// </list>
/// </summary>
internal sealed class InflateTarget : IFuzzTarget
{
    /// <summary>Small chunks, so that messages of a few hundred bytes already span several; not a power of two, so
    /// that the pool's arrays are longer than a chunk.</summary>
    private const int ChunkSize = 300;

    private readonly GuardedBuffer _guarded = new(1 << 20);
    // The loop's context and its shared transform, made on the first run and not with the target: instrumented code
    // may run only inside SharpFuzz's Fuzzer.Run.
    private DeflateContext? _loop;
    private PerMessageDeflate? _shared;

    public string Name => "inflate";

    public void Run(ReadOnlySpan<byte> input)
    {
        // A short input is decoded too, so that every run covers some code (see Program.cs).
        if (input.Length < 2)
            input = input.IsEmpty ? new byte[2] : new byte[] { input[0], 0 };

        bool dedicated = (input[0] & 1) != 0;
        int windowBits = 9 + ((input[0] >> 1) & 7) % 7;
        long limit = ((input[1] & 0x1F) + 1L) << ((input[1] >> 5) * 2);
        List<byte[]> messages = Split(input.Slice(2));

        _loop ??= new DeflateContext(DeflateEngine.Zlib, ChunkSize);
        var connection = new DeflateContext(DeflateEngine.Zlib, ChunkSize);
        PerMessageDeflate transform = dedicated
            ? connection.Dedicated(windowBits, windowBits, resetDeflater: false, resetInflater: false, threshold: 1)
            : _shared ??= _loop.Shared(new DeflateParameters(true, true, 0, 0), threshold: 1);
        DeflateBuffer output = dedicated ? connection.Inflated : _loop.Inflated;
        var reference = new ReferenceInflater(ChunkSize, contextTakeover: dedicated);
        try
        {
            foreach (byte[] message in messages)
            {
                Span<byte> placed = _guarded.Place(message);
                bool decodedOk = transform.TryDecode(placed, limit, out Span<byte> decoded, out WebSocketCloseCode failure);
                Invariant.Check(placed.SequenceEqual(message) && _guarded.CanaryIntact(), "the transform wrote into the message or before it");
                (byte[]? expected, WebSocketCloseCode verdict, bool alsoBad) = reference.Inflate(message, limit);
                string what = $"message of {message.Length} bytes, limit {limit}, {(dedicated ? $"dedicated, window {windowBits}" : "shared")}";
                if (decodedOk)
                {
                    Invariant.Check(decoded.Length <= limit, $"{what}: decoded {decoded.Length} bytes, past the limit");
                    Invariant.Check(verdict == 0 && decoded.SequenceEqual(expected), $"{what}: decoded {decoded.Length} bytes, the reference gives {(verdict == 0 ? $"{expected!.Length} bytes" : verdict)}");
                    continue;
                }

                Invariant.Check(failure is WebSocketCloseCode.InvalidPayloadData or WebSocketCloseCode.MessageTooBig, $"{what}: failed with {failure}");
                Invariant.Check(failure == verdict || (failure == WebSocketCloseCode.InvalidPayloadData && (alsoBad || (verdict == 0 && dedicated && windowBits < 15))),
                    $"{what}: failed with {failure}, the reference gives {(verdict == 0 ? $"{expected!.Length} bytes" : verdict)}");
                Invariant.Check(output.HeldChunkBytes <= limit + ChunkSize, $"{what}: {output.HeldChunkBytes} bytes of output held");
                break;   // the connection is closed
            }
        }
        finally
        {
            if (dedicated)
                transform.Dispose();
        }

        RoundTrip(messages, dedicated, windowBits);
    }

    /// <summary>Each message's bytes through a sender's deflater and a receiver's inflater come back whole.</summary>
    private static void RoundTrip(List<byte[]> messages, bool dedicated, int windowBits)
    {
        var context = new DeflateContext(DeflateEngine.Zlib, ChunkSize);
        PerMessageDeflate sender = context.Dedicated(windowBits, windowBits, resetDeflater: !dedicated, resetInflater: !dedicated, threshold: 1);
        PerMessageDeflate receiver = context.Dedicated(windowBits, windowBits, resetDeflater: !dedicated, resetInflater: !dedicated, threshold: 1);
        try
        {
            foreach (byte[] message in messages)
            {
                if (!sender.TryEncode(message, out ReadOnlySpan<byte> encoded))
                {
                    // Sent as it is: only when compressing would not shorten a message of its own (or an empty one).
                    Invariant.Check(message.Length == 0 || !dedicated, "a dedicated sender declined to compress a message");
                    continue;
                }

                byte[] wire = encoded.ToArray();
                Invariant.Check(receiver.TryDecode(wire, message.Length, out Span<byte> decoded, out WebSocketCloseCode failure) && decoded.SequenceEqual(message),
                    $"round trip of {message.Length} bytes ({(dedicated ? $"dedicated, window {windowBits}" : "shared")}) gave {(failure == 0 ? $"{decoded.Length} other bytes" : failure)}");
            }
        }
        finally
        {
            sender.Dispose();
            receiver.Dispose();
        }
    }

    /// <summary>The messages of the input: each after a 2-byte big-endian length; the last takes what is left.</summary>
    private static List<byte[]> Split(ReadOnlySpan<byte> rest)
    {
        var messages = new List<byte[]>();
        while (rest.Length >= 2)
        {
            int length = Math.Min((rest[0] << 8) | rest[1], rest.Length - 2);
            messages.Add(rest.Slice(2, length).ToArray());
            rest = rest.Slice(2 + length);
        }

        if (messages.Count == 0)
            messages.Add(rest.ToArray());
        return messages;
    }
}
