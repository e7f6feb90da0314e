using System.Buffers.Binary;
using System.Text.Unicode;
using WsGen.Protocol;

namespace WsGen.Fuzz.Targets;

/// <summary>What a frame reader delivered: a message (its opcode's name, prefixed "Rsv1 " when a message transform
/// owns it), "Ping", "Pong" or "Close" with its code; the payload (the reason of a close) copied.</summary>
internal readonly record struct FrameEvent(string Kind, byte[] Payload, ushort Code)
{
    public bool SameAs(FrameEvent other) => Kind == other.Kind && Code == other.Code && Payload.AsSpan().SequenceEqual(other.Payload);

    public override string ToString() => $"{Kind}({Payload.Length} bytes{(Code != 0 ? $", code {Code}" : "")})";
}

/// <summary>
/// The frame reader's oracle: RFC 6455 sections 5 and 7 read the plainest way, over the whole stream at once, with
/// no buffers to manage and no fast path. It shares no code with <see cref="WebSocketReader"/> (only the opcode
/// enum): frames are taken apart byte by byte here, and UTF-8 is judged by the BCL alone.
/// </summary>
internal static class ReferenceReader
{
    /// <summary>Reads <paramref name="stream"/>: the events, and the close code the connection must be failed with
    /// (null when the stream is valid so far, ends inside a frame, or after a close frame).</summary>
    public static (List<FrameEvent> Events, WebSocketCloseCode? Failure) Read(ReadOnlySpan<byte> stream, bool expectMasked, long maxMessageSize, bool allowRsv1)
    {
        var events = new List<FrameEvent>();
        var message = new List<byte>();
        WebSocketOpcode messageOpcode = 0;  // 0: no message open
        bool messageRsv1 = false;
        int position = 0;

        while (position < stream.Length)
        {
            ReadOnlySpan<byte> rest = stream.Slice(position);
            if (rest.Length < 2)
                return (events, null);

            bool fin = (rest[0] & 0x80) != 0;
            int rsv = (rest[0] >> 4) & 7;
            var opcode = (WebSocketOpcode)(rest[0] & 0x0F);
            bool masked = (rest[1] & 0x80) != 0;
            long length = rest[1] & 0x7F;
            int headerLength = 2;
            if (length == 126)
            {
                if (rest.Length < 4)
                    return (events, null);
                length = BinaryPrimitives.ReadUInt16BigEndian(rest.Slice(2));
                if (length < 126)
                    return (events, WebSocketCloseCode.ProtocolError);  // not the minimal encoding (section 5.2)
                headerLength = 4;
            }
            else if (length == 127)
            {
                if (rest.Length < 10)
                    return (events, null);
                ulong wide = BinaryPrimitives.ReadUInt64BigEndian(rest.Slice(2));
                if (wide > long.MaxValue || wide < 65536)
                    return (events, WebSocketCloseCode.ProtocolError);  // the top bit set, or not minimal
                length = (long)wide;
                headerLength = 10;
            }

            byte[] key = [0, 0, 0, 0];
            if (masked)
            {
                if (rest.Length < headerLength + 4)
                    return (events, null);
                rest.Slice(headerLength, 4).CopyTo(key);
                headerLength += 4;
            }

            // The frame's header is whole: judge it.
            bool control = opcode is WebSocketOpcode.Close or WebSocketOpcode.Ping or WebSocketOpcode.Pong;
            bool data = opcode is WebSocketOpcode.Text or WebSocketOpcode.Binary;
            if (rsv != 0 && !(rsv == 4 && allowRsv1 && data))
                return (events, WebSocketCloseCode.ProtocolError);
            if (masked != expectMasked)
                return (events, WebSocketCloseCode.ProtocolError);
            if (!control && !data && opcode != WebSocketOpcode.Continuation)
                return (events, WebSocketCloseCode.ProtocolError);
            if (opcode == WebSocketOpcode.Continuation && messageOpcode == 0)
                return (events, WebSocketCloseCode.ProtocolError);
            if (data && messageOpcode != 0)
                return (events, WebSocketCloseCode.ProtocolError);
            if (control && (!fin || length > 125))
                return (events, WebSocketCloseCode.ProtocolError);
            long messageSoFar = opcode == WebSocketOpcode.Continuation ? message.Count : 0;
            if (!control && messageSoFar + length > maxMessageSize)
                return (events, WebSocketCloseCode.MessageTooBig);

            rest = rest.Slice(headerLength);
            int available = (int)Math.Min(length, rest.Length);
            byte[] payload = rest.Slice(0, available).ToArray();
            for (int i = 0; i < payload.Length; i++)
                payload[i] ^= key[i % 4];
            bool whole = available == length;

            if (control)
            {
                if (!whole)
                    return (events, null);
                if (opcode != WebSocketOpcode.Close)
                {
                    events.Add(new FrameEvent(opcode.ToString(), payload, 0));
                }
                else
                {
                    if (payload.Length == 1)
                        return (events, WebSocketCloseCode.ProtocolError);
                    ushort code = payload.Length == 0 ? (ushort)1005 : BinaryPrimitives.ReadUInt16BigEndian(payload);
                    if (payload.Length > 0 && !MayBeReceived(code))
                        return (events, WebSocketCloseCode.ProtocolError);
                    byte[] reason = payload.Length == 0 ? [] : payload[2..];
                    if (!Utf8.IsValid(reason))
                        return (events, WebSocketCloseCode.InvalidPayloadData);
                    events.Add(new FrameEvent("Close", reason, code));
                    return (events, null);  // nothing is read after a close
                }
            }
            else
            {
                if (data)
                {
                    messageOpcode = opcode;
                    messageRsv1 = rsv != 0;
                    message.Clear();
                }

                message.AddRange(payload);
                bool text = messageOpcode == WebSocketOpcode.Text && !messageRsv1;
                // Text fails as soon as its bytes cannot begin valid UTF-8 (section 8.1).
                if (text && !Utf8Oracle.CanBegin(message.ToArray()))
                    return (events, WebSocketCloseCode.InvalidPayloadData);
                if (!whole)
                    return (events, null);
                if (fin)
                {
                    if (text && !Utf8.IsValid(message.ToArray()))
                        return (events, WebSocketCloseCode.InvalidPayloadData);
                    events.Add(new FrameEvent((messageRsv1 ? "Rsv1 " : "") + messageOpcode, [.. message], 0));
                    messageOpcode = 0;
                    message.Clear();
                }
            }

            position += headerLength + available;
        }

        return (events, null);
    }

    /// <summary>Close codes a peer may send (section 7.4 and the IANA registry): 1000-1003, 1007-1014, 3000-4999.</summary>
    private static bool MayBeReceived(ushort code) => code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
}
