using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using WsGen.Protocol;

namespace WsGen;

/// <summary>
/// The client side of a WebSocket connection (ws:// or wss://) over a blocking socket. One thread may read
/// (<see cref="ReadFrame"/>) while others send; sends are serialized.
/// </summary>
/// <remarks>
/// <see cref="ReadFrame"/> returns each message as one final frame (fragments are reassembled), pongs, and the
/// close frame last. Pings are answered by the reader before it returns. Every returned frame must be released.
/// </remarks>
public sealed partial class WebSocketClient : IWebSocketConn, IDisposable
{
    private const int ReceiveBufferSize = 64 * 1024;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly WebSocketClientOptions _options;
    private readonly ReaderOptions _readerOptions;
    private readonly BytePool _framePool = new(4096, buffersPerSlab: 16);
    private readonly Queue<WebSocketFrame> _ready = new();
    private readonly Lock _sendLock = new();
    private readonly byte[] _receive = new byte[ReceiveBufferSize];
    private WebSocketReader _reader;
    private byte[] _send = ArrayPool<byte>.Shared.Rent(4096);
    private bool _closeSent;
    private bool _closeReceived;
    private bool _disposed;
    private WebSocketProtocolException? _failure;
    private PerMessageDeflate? _deflate;     // permessage-deflate, when the server agreed it

    private WebSocketClient(Socket socket, Stream stream, WebSocketClientOptions options, string? subProtocol)
    {
        _socket = socket;
        _stream = stream;
        _options = options;
        SubProtocol = subProtocol;
        _readerOptions = new ReaderOptions { MaxMessageSize = options.MaxMessageSize, ExpectMasked = false };
    }

    public string? SubProtocol { get; }

    /// <summary>True when the server agreed permessage-deflate (see <see cref="WebSocketClientOptions.Compression"/>):
    /// whole messages of 64 bytes and more are sent compressed, compressed ones received are inflated.</summary>
    public bool IsCompressed => _deflate is not null;

    public bool IsOpen => !_closeSent && !_closeReceived && _failure is null && !_disposed;

    public object? UserState { get; set; }

    /// <summary>Connects to a ws:// or wss:// address and completes the opening handshake (after the TLS handshake for
    /// wss://, see <see cref="WebSocketClientOptions.TrustedRootCertificates"/>).</summary>
    /// <exception cref="WebSocketProtocolException">The server refused or botched the handshake.</exception>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The TLS handshake failed (for
    /// example, the server's certificate was not trusted).</exception>
    public static WebSocketClient Connect(Uri uri, WebSocketClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new WebSocketClientOptions();
        if (uri.Scheme is not ("ws" or "wss"))
            throw new ArgumentException("A WebSocket address starts with ws:// or wss://.", nameof(uri));

        var address = IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : Dns.GetHostAddresses(uri.DnsSafeHost)[0];
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            int timeout = (int)options.ConnectTimeout.TotalMilliseconds;
            if (!socket.ConnectAsync(address, uri.Port).Wait(timeout))
                throw new TimeoutException($"Could not connect to {uri} within {options.ConnectTimeout}.");
            socket.ReceiveTimeout = timeout;
            socket.SendTimeout = timeout;
            stream = uri.Scheme == "wss" ? AuthenticateTls(socket, uri, options) : new NetworkStream(socket, ownsSocket: false);

            string key = Handshake.CreateClientKey();
            var keyBytes = Encoding.ASCII.GetBytes(key);
            string host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
            Span<byte> offer = stackalloc byte[DeflateParameters.MaxLength];
            offer = offer[..DeflateOffer(options.Compression, options.DeflateEngine, offer)];
            var request = new byte[Handshake.GetClientRequestLength(host, uri.PathAndQuery, keyBytes, options.SubProtocols, options.Origin, offer)];
            Handshake.WriteClientRequest(request, host, uri.PathAndQuery, keyBytes, options.SubProtocols, options.Origin, offer);
            stream.Write(request);

            var buffer = new byte[16 * 1024];
            int length = 0;
            while (true)
            {
                int n = stream.Read(buffer, length, buffer.Length - length);
                if (n == 0)
                    throw new WebSocketProtocolException(WebSocketCloseCode.AbnormalClosure, "The server closed the connection during the handshake.");
                length += n;
                var result = Handshake.ParseServerResponse(buffer.AsSpan(0, length), key, options.SubProtocols, out int consumed, offeredDeflate: !offer.IsEmpty);
                if (result.Status == ClientHandshakeStatus.NeedMore)
                {
                    if (length == buffer.Length)
                        throw new WebSocketProtocolException(WebSocketCloseCode.ProtocolError, "The server's handshake response is too large.");
                    continue;
                }
                if (result.Status == ClientHandshakeStatus.Failed)
                    throw new WebSocketProtocolException(WebSocketCloseCode.ProtocolError, $"Handshake refused: {result.FailureReason}");

                // Without client_max_window_bits in the offer (an engine that cannot limit its window) the server
                // may not name one (RFC 7692 section 7.1.2.2).
                if (result.Deflate is { ClientWindowBits: > 0 and < 15 } limited && limited.ClientWindowBits < options.DeflateEngine.MinWindowBits())
                    throw new WebSocketProtocolException(WebSocketCloseCode.ProtocolError, "Handshake refused: the server asked for a client window that was not offered");

                socket.ReceiveTimeout = 0;
                socket.SendTimeout = 0;
                var client = new WebSocketClient(socket, stream, options, result.SubProtocol);
                if (result.Deflate is { } agreed)
                    client.UseDeflate(in agreed, options.DeflateEngine);
                if (consumed < length)
                    client.Consume(buffer.AsSpan(consumed, length - consumed));
                return client;
            }
        }
        catch
        {
            stream?.Dispose();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The permessage-deflate offer of <paramref name="mode"/> (none for Off): the client can limit its
    /// window when asked (<c>client_max_window_bits</c>) when its <paramref name="engine"/> can; Shared also asks for
    /// no context takeover both ways.</summary>
    private static int DeflateOffer(WebSocketCompression mode, DeflateEngine engine, Span<byte> dest)
    {
        if (mode == WebSocketCompression.Off)
            return 0;
        bool shared = mode == WebSocketCompression.Shared;
        return new DeflateParameters(shared, shared, 0, engine.MinWindowBits() < 15 ? -1 : 0).Write(dest);
    }

    /// <summary>Runs permessage-deflate as agreed: this side compresses with the client window and context, and
    /// inflates with the server's.</summary>
    private void UseDeflate(in DeflateParameters agreed, DeflateEngine engine)
    {
        var context = new DeflateContext(engine, baseBufferSize: 16 * 1024);
        _deflate = context.Dedicated(
            sendWindowBits: agreed.ClientWindowBits > 0 ? agreed.ClientWindowBits : 15,
            receiveWindowBits: agreed.ServerWindowBits > 0 ? agreed.ServerWindowBits : 15,
            resetDeflater: agreed.ClientNoContextTakeover, resetInflater: agreed.ServerNoContextTakeover, threshold: 64);
        _reader.AllowRsv1();
    }

    public WebSocketFrame ReadFrame()
    {
        while (true)
        {
            if (_ready.TryDequeue(out var frame))
                return frame;
            if (_failure is not null)
                throw _failure;
            if (_closeReceived || _disposed)
                throw new InvalidOperationException("The connection is closed; the close frame was already returned.");

            int n;
            try
            {
                n = _stream.Read(_receive);
            }
            catch (SocketException e)
            {
                _failure = new WebSocketProtocolException(WebSocketCloseCode.AbnormalClosure, $"The connection dropped: {e.SocketErrorCode}.");
                continue;
            }
            catch (IOException e)
            {
                string why = e.InnerException is SocketException s ? s.SocketErrorCode.ToString() : e.Message;
                _failure = new WebSocketProtocolException(WebSocketCloseCode.AbnormalClosure, $"The connection dropped: {why}.");
                continue;
            }
            if (n == 0)
            {
                _failure = new WebSocketProtocolException(WebSocketCloseCode.AbnormalClosure, "The server closed TCP without a close frame.");
                continue;
            }
            Consume(_receive.AsSpan(0, n));
        }
    }

    public void WriteFrame(WebSocketFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.IsReleased)
            throw new InvalidOperationException("The frame was released; its payload is no longer yours to send.");
        SendFrame(frame.Opcode, frame.IsFinal, frame.Payload.Span);
    }

    public void Send(ReadOnlySpan<byte> payload, WebSocketOpcode opcode = WebSocketOpcode.Binary) => SendFrame(opcode, true, payload);

    /// <summary>Sends a UTF-8 text message.</summary>
    public void SendText(string text) => SendFrame(WebSocketOpcode.Text, true, Encoding.UTF8.GetBytes(text));

    /// <summary>Sends one frame as given, fragments included (FIN clear, then continuations).</summary>
    public void SendFrame(WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload)
    {
        lock (_sendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_closeSent && opcode != WebSocketOpcode.Pong)
                throw new InvalidOperationException("The close frame was sent; nothing may follow it.");
            if (_deflate is not null && fin && opcode is WebSocketOpcode.Text or WebSocketOpcode.Binary
                && _deflate.TryEncode(payload, out var encoded))
                WriteLocked(opcode, fin, encoded, rsv1: true);
            else
                WriteLocked(opcode, fin, payload);
        }
    }

    /// <summary>Sends raw bytes as they are: for tests that must put malformed frames on the wire.</summary>
    internal void SendRaw(ReadOnlySpan<byte> bytes)
    {
        lock (_sendLock)
            _stream.Write(bytes);
    }

    public void Close() => Close(WebSocketCloseCode.NormalClosure);

    /// <summary>Sends a close frame, waits (up to CloseTimeout) for the server's and for its FIN, then closes the socket.
    /// Messages that arrive meanwhile are released unread.</summary>
    public void Close(WebSocketCloseCode code, string reason = "")
    {
        lock (_sendLock)
        {
            if (!_closeSent && _failure is null && !_disposed)
            {
                Span<byte> frame = stackalloc byte[2 + 4 + 125];
                int n = FrameWriter.WriteClose(frame, (ushort)code, reason, NewMask());
                TrySend(frame[..n]);
                _closeSent = true;
            }
        }
        _socket.ReceiveTimeout = (int)_options.CloseTimeout.TotalMilliseconds;
        try
        {
            while (!_closeReceived && _failure is null && !_disposed)
                ReadFrame().Release();
            WaitForFin();
        }
        catch (Exception e) when (e is WebSocketProtocolException or SocketException or IOException or InvalidOperationException)
        {
            // The server did not finish the close handshake in time; the socket is closed below regardless.
        }
        Dispose();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _stream.Dispose();
        _socket.Dispose();
        lock (_sendLock)
        {
            ArrayPool<byte>.Shared.Return(_send);
            _send = [];
        }
        while (_ready.TryDequeue(out var frame))
            frame.Release();
        _reader.Dispose();
        _deflate?.Dispose();
    }

    private void Consume(Span<byte> data)
    {
        if (_closeReceived || _failure is not null)
            return;
        var sink = new Sink(this);
        var result = _reader.Read(data, _readerOptions, ref sink);
        if (result.IsError)
            Fail(result.Code, result.Reason);
    }

    /// <summary>The server broke the protocol: sends the close frame with <paramref name="code"/>, and the next read
    /// throws.</summary>
    private void Fail(WebSocketCloseCode code, string reason)
    {
        if (_failure is not null)
            return;
        _failure = new WebSocketProtocolException(code, reason);
        lock (_sendLock)
        {
            if (!_closeSent)
            {
                Span<byte> frame = stackalloc byte[2 + 4 + 125];
                int n = FrameWriter.WriteClose(frame, (ushort)code, reason, NewMask());
                TrySend(frame[..n]);
                _closeSent = true;
            }
        }
    }

    /// <summary>A compressed message (RSV1): inflated, its text validated, then queued as any other.</summary>
    private void EnqueueCompressed(WebSocketOpcode opcode, Span<byte> payload)
    {
        if (_failure is not null)
            return;
        if (!_deflate!.TryDecode(payload, _readerOptions.MaxMessageSize, out var message, out var failure))
            Fail(failure, failure == WebSocketCloseCode.MessageTooBig ? "message too big once inflated" : "the message does not inflate");
        else if (opcode == WebSocketOpcode.Text && !Utf8Validator.IsValid(message))
            Fail(WebSocketCloseCode.InvalidPayloadData, "invalid UTF-8 in a text message");
        else
            Enqueue(opcode, message);
    }

    private void Enqueue(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        int headerLength = FrameWriter.HeaderSize(payload.Length, masked: false);
        int total = headerLength + payload.Length;
        IBytePool? pool = total <= _framePool.BufferSize ? _framePool : null;
        Memory<byte> buffer = pool is not null ? _framePool.Get() : new byte[total];
        FrameWriter.WriteHeader(buffer.Span, opcode, true, payload.Length);
        payload.CopyTo(buffer.Span[headerLength..]);
        _ready.Enqueue(new WebSocketFrame(buffer[..headerLength], buffer.Slice(headerLength, payload.Length), pool, pool is null ? default : buffer));
    }

    private void OnPeerClose(ushort code, ReadOnlySpan<byte> reason)
    {
        _closeReceived = true;
        lock (_sendLock)
        {
            if (!_closeSent)
            {
                Span<byte> frame = stackalloc byte[2 + 4 + 2];
                int n = code == (ushort)WebSocketCloseCode.NoStatusReceived
                    ? FrameWriter.WriteHeader(frame, WebSocketOpcode.Close, true, 0, NewMask())
                    : FrameWriter.WriteClose(frame, code, default, NewMask());
                TrySend(frame[..n]);
                _closeSent = true;
            }
        }
        Span<byte> body = stackalloc byte[2 + 123];
        int length = 0;
        if (code != (ushort)WebSocketCloseCode.NoStatusReceived)
        {
            body[0] = (byte)(code >> 8);
            body[1] = (byte)code;
            reason.CopyTo(body[2..]);
            length = 2 + reason.Length;
        }
        Enqueue(WebSocketOpcode.Close, body[..length]);
    }

    private void WaitForFin()
    {
        Span<byte> scratch = stackalloc byte[256];
        while (_stream.Read(scratch) > 0)
        {
        }
    }

    private void WriteLocked(WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload, bool rsv1 = false)
    {
        uint mask = NewMask();
        int total = FrameWriter.HeaderSize(payload.Length, masked: true) + payload.Length;
        if (_send.Length < total)
        {
            ArrayPool<byte>.Shared.Return(_send);
            _send = ArrayPool<byte>.Shared.Rent(total);
        }
        int n = FrameWriter.WriteFrame(_send, opcode, fin, payload, mask, rsv1);
        _stream.Write(_send, 0, n);
    }

    private void TrySend(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _stream.Write(bytes);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // The peer is gone; the failure is reported by the next read.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static uint NewMask()
    {
        Span<byte> mask = stackalloc byte[4];
        RandomNumberGenerator.Fill(mask);
        return BitConverter.ToUInt32(mask);
    }

    private readonly struct Sink(WebSocketClient client) : IFrameSink
    {
        public void OnMessage(WebSocketOpcode opcode, Span<byte> payload) => client.Enqueue(opcode, payload);

        /// <summary>Called only when permessage-deflate was agreed (the reader refuses RSV1 otherwise).</summary>
        public void OnTransformedMessage(WebSocketOpcode opcode, Span<byte> payload) => client.EnqueueCompressed(opcode, payload);

        public void OnPing(Span<byte> payload)
        {
            lock (client._sendLock)
            {
                if (!client._closeSent && !client._disposed)
                    client.WriteLocked(WebSocketOpcode.Pong, true, payload);
            }
        }

        public void OnPong(Span<byte> payload) => client.Enqueue(WebSocketOpcode.Pong, payload);

        public void OnClose(ushort code, ReadOnlySpan<byte> reason) => client.OnPeerClose(code, reason);
    }
}
