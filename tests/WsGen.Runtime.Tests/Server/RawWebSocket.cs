using System.Net;
using System.Net.Sockets;
using System.Text;
using WsGen.Protocol;

namespace WsGen.Tests.Server;

/// <summary>
/// A deliberately dumb WebSocket peer over a plain socket: it writes whatever bytes a test gives it, so hostile
/// input can be put on the wire, and reads the server's answers frame by frame.
/// </summary>
internal sealed class RawWebSocket : IDisposable
{
    private readonly Socket _socket;
    private readonly List<byte> _pending = [];

    private RawWebSocket(Socket socket) => _socket = socket;

    /// <summary>A TCP connection to <paramref name="endPoint"/>, from the local address <paramref name="from"/> when given
    /// (another loopback address such as 127.0.0.2: the server sees a different client address). A
    /// <paramref name="receiveBufferSize"/> above 0 fixes the socket's receive buffer (the kernel then does not grow it),
    /// for a peer that must fall behind soon.</summary>
    public static RawWebSocket ConnectTcp(IPEndPoint endPoint, IPAddress? from = null, int receiveBufferSize = 0)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 15000 };
        if (receiveBufferSize > 0)
            socket.ReceiveBufferSize = receiveBufferSize;
        if (from is not null)
            socket.Bind(new IPEndPoint(from, 0));
        socket.Connect(endPoint);
        return new RawWebSocket(socket);
    }

    /// <summary>The local end of the connection.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Connects and completes a valid opening handshake.</summary>
    public static RawWebSocket Open(IPEndPoint endPoint, string path = "/", IPAddress? from = null, int receiveBufferSize = 0)
    {
        var raw = ConnectTcp(endPoint, from, receiveBufferSize);
        raw.SendText(Request(path));
        var head = raw.ReadHttpHead();
        Assert.StartsWith("HTTP/1.1 101 ", head);
        return raw;
    }

    public static string Request(string path = "/", string extraHeaders = "", string version = "13") =>
        $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: {version}\r\n{extraHeaders}\r\n";

    public void SendText(string ascii) => Send(Encoding.ASCII.GetBytes(ascii));

    public void Send(ReadOnlySpan<byte> bytes) => _socket.Send(bytes);

    /// <summary>Sends one masked frame with exactly the given first byte (FIN, RSV, opcode).</summary>
    public void SendFrame(byte firstByte, ReadOnlySpan<byte> payload, bool masked = true)
    {
        var frame = new byte[14 + payload.Length];
        int n = FrameWriter.WriteFrame(frame, (WebSocketOpcode)(firstByte & 0x0F), (firstByte & 0x80) != 0, payload, masked ? 0x12345678u : null);
        frame[0] = firstByte;
        Send(frame.AsSpan(0, n));
    }

    /// <summary>Reads up to the blank line that ends an HTTP response head.</summary>
    public string ReadHttpHead()
    {
        while (true)
        {
            var text = Encoding.ASCII.GetString(_pending.ToArray());
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.RemoveRange(0, end + 4);
                return text[..(end + 4)];
            }
            if (!Fill())
                return text;
        }
    }

    /// <summary>Reads the next whole server frame: (first byte, payload). Server frames are never masked.</summary>
    public (byte First, byte[] Payload)? ReadFrame()
    {
        while (true)
        {
            if (_pending.Count >= 2)
            {
                var bytes = _pending.ToArray();
                Assert.True((bytes[1] & 0x80) == 0, "a server frame must not be masked");
                int len = bytes[1] & 0x7F, header = 2;
                long length = len;
                if (len == 126) { header = 4; length = bytes.Length >= 4 ? (bytes[2] << 8) | bytes[3] : -1; }
                if (len == 127) { header = 10; length = bytes.Length >= 10 ? (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(2)) : -1; }
                if (length >= 0 && bytes.Length >= header + length)
                {
                    _pending.RemoveRange(0, header + (int)length);
                    return (bytes[0], bytes.AsSpan(header, (int)length).ToArray());
                }
            }
            if (!Fill())
                return null;
        }
    }

    /// <summary>Reads frames until the server's close frame; returns its code (1005 when it had no body).</summary>
    public int ReadCloseCode()
    {
        while (ReadFrame() is { } frame)
        {
            if ((frame.First & 0x0F) == (int)WebSocketOpcode.Close)
                return frame.Payload.Length >= 2 ? (frame.Payload[0] << 8) | frame.Payload[1] : 1005;
        }
        throw new Xunit.Sdk.XunitException("The server closed TCP without sending a close frame.");
    }

    /// <summary>True when the server closed its side (FIN) with nothing more to read.</summary>
    public bool ReadsEndOfStream()
    {
        while (true)
        {
            _pending.Clear();
            if (!Fill())
                return true;
        }
    }

    private bool Fill()
    {
        var buffer = new byte[65536];
        int n;
        try
        {
            n = _socket.Receive(buffer);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            throw new Xunit.Sdk.XunitException("The server reset the connection (RST) instead of closing it cleanly.");
        }
        if (n == 0)
            return false;
        _pending.AddRange(buffer.AsSpan(0, n).ToArray());
        return true;
    }

    public void Dispose() => _socket.Dispose();
}
