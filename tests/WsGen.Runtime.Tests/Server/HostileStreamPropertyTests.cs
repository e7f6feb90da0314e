using CsCheck;
using WsGen.Protocol;
using WsGen.Tests.Protocol;

namespace WsGen.Tests.Server;

/// <summary>
/// The frame reader's verdicts, through the server: any byte stream on one connection (generated frames of every
/// opcode, bad bits, lengths, masks and text, cut or corrupted) gets exactly the echoes, pongs and close that the
/// reader's reading of it calls for, and is closed with the reader's close code when bad, while another connection
/// on the same server keeps echoing after every piece. Runs on the fake loop (same connection core), so a failing
/// case replays exactly from its seed.
/// </summary>
public sealed class HostileStreamPropertyTests
{
    [Fact]
    public void AnyStreamGetsTheReadersVerdictWhileAnotherConnectionKeepsEchoing()
    {
        Gen.Select(Gen.Int, Gen.Int[1, 10], Gen.Int[0, 3], Gen.Int).Sample((seed, frames, corruption, cutSeed) =>
        {
            byte[] stream = ReaderPropertyTests.RandomStream(new Random(seed), frames, server: true, corruption);
            var (expected, closes) = Expected(stream);

            var server = new FakeServer(new RecordingEndpoint());
            FakeClient healthy = server.Open();
            FakeClient hostile = server.Open();
            var received = new List<(WebSocketOpcode Opcode, byte[] Payload)>();
            var cuts = new Random(cutSeed);
            bool closed = false;
            for (int position = 0; position < stream.Length && !closed;)
            {
                int length = Math.Min(stream.Length - position, cuts.Next(1, 3000));
                hostile.SendBytes(stream.AsSpan(position, length));
                position += length;
                received.AddRange(hostile.ReadFrames());
                closed = hostile.ServerClosed;

                healthy.SendFrame(WebSocketOpcode.Text, "still here"u8);
                var echo = Assert.Single(healthy.ReadFrames());
                Assert.Equal("still here"u8.ToArray(), echo.Payload);
            }

            Assert.Equal(closes, closed);
            Assert.Equal(expected.Count, received.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Opcode, received[i].Opcode);
                Assert.True(expected[i].Payload.AsSpan().SequenceEqual(received[i].Payload), $"frame {i} ({expected[i].Opcode})");
            }
        }, iter: 150, threads: 1);
    }

    /// <summary>What the server must send back for <paramref name="stream"/>: the echo of every message, a pong for
    /// every ping, and the peer's close code echoed, or the reader's error code; and whether it closes.</summary>
    private static (List<(WebSocketOpcode Opcode, byte[] Payload)> Frames, bool Closes) Expected(byte[] stream)
    {
        var sink = new RecordingSink();
        var reader = new WebSocketReader();
        ReadResult result = reader.Read((byte[])stream.Clone(), new ReaderOptions { ExpectMasked = true }, ref sink);
        bool closeReceived = reader.IsCloseReceived;
        reader.Dispose();

        var frames = new List<(WebSocketOpcode, byte[])>();
        foreach (SinkEvent e in sink.Events)
        {
            switch (e.Kind)
            {
                case "Text":
                case "Binary":
                    frames.Add((Enum.Parse<WebSocketOpcode>(e.Kind), e.Payload));
                    break;
                case "Ping":
                    frames.Add((WebSocketOpcode.Pong, e.Payload));
                    break;
                case "Close":
                    frames.Add((WebSocketOpcode.Close, [(byte)(e.Code >> 8), (byte)e.Code]));  // echoed without the reason
                    break;
            }
        }

        if (result.IsError)
        {
            ushort code = (ushort)result.Code;
            frames.Add((WebSocketOpcode.Close, [(byte)(code >> 8), (byte)code, .. System.Text.Encoding.UTF8.GetBytes(result.Reason)]));
        }

        return (frames, result.IsError || closeReceived);
    }
}
