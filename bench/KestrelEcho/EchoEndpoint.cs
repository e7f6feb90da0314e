using System.Buffers;
using System.Net.WebSockets;

namespace KestrelEcho;

/// <summary>
/// Accepts a WebSocket on any path and echoes each message back whole, with its type, until the
/// client closes. A message is gathered in a buffer rented from <see cref="ArrayPool{T}.Shared"/>
/// (4 KiB to start, doubled as needed up to <see cref="MaxMessageSize"/>; a connection keeps its
/// grown buffer for later messages and returns it when it ends).
/// </summary>
internal static class EchoEndpoint
{
    /// <summary>The largest message echoed; a larger one is refused with close code 1009.</summary>
    public const int MaxMessageSize = 64 * 1024 * 1024;

    private const int InitialBufferSize = 4 * 1024;

    /// <summary>Accept permessage-deflate when the client offers it (<c>--deflate</c>): every reply is then compressed.</summary>
    public static bool Deflate { get; set; }

    /// <summary>The terminal request delegate: upgrades WebSocket requests, answers 400 to others.</summary>
    public static async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { DangerousEnableCompression = Deflate });
        try
        {
            await EchoAsync(socket);
        }
        catch (WebSocketException)
        {
            // The peer went away without a close handshake, or broke the protocol (in which case
            // the WebSocket has already sent the matching close frame). Either way this connection is done.
        }
    }

    private static async Task EchoAsync(WebSocket socket)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        try
        {
            while (true)
            {
                int length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (length >= MaxMessageSize)
                        {
                            await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", CancellationToken.None);
                            return;
                        }

                        buffer = Grow(buffer, length);
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Complete the close handshake by echoing the client's status code.
                    await socket.CloseOutputAsync(
                        socket.CloseStatus ?? WebSocketCloseStatus.Empty,
                        socket.CloseStatusDescription,
                        CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, length), result.MessageType, endOfMessage: true, CancellationToken.None);
                EchoStats.OnMessageEchoed();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Moves the first <paramref name="length"/> bytes into a rented buffer twice as large (capped).</summary>
    private static byte[] Grow(byte[] buffer, int length)
    {
        byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, MaxMessageSize));
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }
}
