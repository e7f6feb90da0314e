using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using WsGen.Native;

namespace WsGen.Transport;

/// <summary>
/// TLS on one connection of a loop, as a <see cref="IByteTransform"/>: .NET's <see cref="SslStream"/> (OpenSSL on
/// Linux, SChannel on Windows, Network.framework on macOS) over a <see cref="LoopStream"/> that the loop feeds.
/// </summary>
/// <remarks>
/// <para>One asynchronous method per connection (<see cref="RunAsync"/>) runs the handshake and then reads: each
/// of its steps runs on the loop thread, inline in <see cref="Received"/>, and awaits the stream's one reusable
/// source, so after the handshake a message costs no task and no allocation. Between messages it waits in a
/// zero-byte read, so that neither the engine nor the stream holds a read buffer while the connection is idle (and
/// OpenSSL releases its record buffers, see <see cref="ReleaseEngineBuffersWhenIdle"/>); decrypted bytes are handed
/// over from one buffer per loop thread.</para>
/// <para>The handler's writes are encrypted synchronously (the engine's write completes at once, since the stream
/// hands the records to the core's corked output) from one staging buffer per loop thread.</para>
/// <para>A connection whose handshake fails (plain HTTP, a garbage or truncated ClientHello, an unknown name, a
/// refused client certificate) is closed gracefully, so that the alert the engine wrote goes out; so is one that
/// receives close_notify or an alert after the handshake. A connection beyond the listener's cap on concurrent
/// handshakes is aborted at its first bytes.</para>
/// </remarks>
internal sealed class TlsTransform : IByteTransform
{
    /// <summary>The largest plaintext of a TLS record (RFC 8446, 5.1): what one decrypting read can return.</summary>
    private const int RecordSize = 16 * 1024;

    /// <summary>A message larger than this, either way, has the engine's memory BIOs released once it went through
    /// (see <see cref="ReleaseIdleBuffers"/>); smaller ones leave buffers of a few hundred bytes at most, reused by
    /// the next message.</summary>
    private const int KeepBioBuffersUpTo = 256;

    [ThreadStatic]
    private static byte[]? t_plain;

    [ThreadStatic]
    private static byte[]? t_staging;

    private readonly TlsListener _listener;
    private readonly IReactorConn _conn;
    private readonly LoopStream _stream;
    private readonly SslStream _ssl;
    private ITransformHost? _host;
    private SafeHandle? _session;
    private State _state;
    private bool _bioBuffersGrew;

    internal TlsTransform(TlsListener listener, IReactorConn conn)
    {
        _listener = listener;
        _conn = conn;
        _stream = new LoopStream(this);
        _ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
    }

    private enum State : byte
    {
        New,
        Handshaking,
        Open,
        Ended,
        Disposed,
    }

    public void Received(ITransformHost host, IReactorConn conn, Span<byte> data)
    {
        _host = host;
        if (_state == State.New)
        {
            if (!_listener.TryBeginHandshake())
            {
                _state = State.Ended;
                conn.Abort();
                return;
            }

            _state = State.Handshaking;
            _ = RunAsync();
        }

        _stream.Feed(data);
    }

    public bool Write(ITransformHost host, IReactorConn conn, ReadOnlySpan<byte> data)
    {
        if (_state != State.Open)
            return false;
        _host = host;
        byte[] staging = t_staging ??= new byte[RecordSize];
        int written = data.Length;
        try
        {
            while (!data.IsEmpty && _state == State.Open)
            {
                int n = Math.Min(data.Length, staging.Length);
                data[..n].CopyTo(staging);
                _ssl.Write(staging, 0, n);
                data = data[n..];
            }

            if (written > KeepBioBuffersUpTo)
                ReleaseIdleBuffers();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }

        return _state == State.Open;
    }

    public void Closing(ITransformHost host, IReactorConn conn)
    {
        if (_state != State.Open)
            return;
        _host = host;
        _state = State.Ended;
        try
        {
            // close_notify: written synchronously through the stream, before the core shuts down the sending side.
            _ = _ssl.ShutdownAsync();
        }
        catch (Exception)
        {
            // A session that failed (a bad record, an alert) has no close_notify to send; the close goes on.
        }
    }

    public void Dispose()
    {
        if (_state == State.Disposed)
            return;
        _state = State.Disposed;
        // The read that waits returns 0 and the method running the connection ends; then the engine's state goes.
        _stream.End();
        _ssl.Dispose();
    }

    /// <summary>The field of <see cref="SslStream"/> that holds the TLS engine's native session (on Linux a
    /// SafeHandle of OpenSSL's SSL object); kept by the trimmer, null if a runtime names it otherwise.</summary>
    private static readonly FieldInfo? s_securityContext = typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>The engine's native session of <paramref name="ssl"/> (OpenSSL's SSL object), or null on other
    /// platforms or if a runtime keeps it elsewhere (a test watches for that).</summary>
    internal static SafeHandle? SessionOf(SslStream ssl) =>
        LibSsl.IsAvailable && s_securityContext?.GetValue(ssl) is SafeHandle { IsInvalid: false, IsClosed: false } context ? context : null;

    /// <summary>Asks OpenSSL to free the session's record buffers while they are empty (see <see cref="LibSsl"/>):
    /// they would otherwise stay with an idle connection (about 13 KB of its RSS, measured with bench/). True when it
    /// took; false on other platforms, or if a runtime keeps its session elsewhere.</summary>
    internal static bool ReleaseEngineBuffersWhenIdle(SafeHandle? session) =>
        session is { IsClosed: false } && LibSsl.ReleaseBuffersWhenIdle(session.DangerousGetHandle());

    /// <summary>Frees the buffers of the session's memory BIOs while they are empty: the handshake's flights, or the
    /// records of a large message, would otherwise stay allocated with the idle connection (see
    /// bench/tls-idle.sh). Runs on the loop thread, between the engine's calls.</summary>
    private void ReleaseIdleBuffers()
    {
        if (_session is { IsClosed: false } session)
            LibSsl.ReleaseIdleBioBuffers(session.DangerousGetHandle());
    }

    /// <summary>What the engine writes (handshake records, application records, alerts, close_notify) goes to the
    /// socket, behind every byte before it.</summary>
    internal void SendEncoded(ReadOnlySpan<byte> data)
    {
        if (_state != State.Disposed)
            _host?.SendEncoded(_conn, data);
    }

    /// <summary>The handshake, then the reads, for the life of the connection: every step runs inline in
    /// <see cref="Received"/> on the loop thread.</summary>
    private async Task RunAsync()
    {
        bool authenticated = false;
        try
        {
            await _ssl.AuthenticateAsServerAsync(_listener.Options, CancellationToken.None).ConfigureAwait(false);
            authenticated = true;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
        }
        finally
        {
            _listener.EndHandshake();
        }

        if (_state == State.Disposed)
            return;
        if (!authenticated)
        {
            _state = State.Ended;
            _conn.Close();
            return;
        }

        _state = State.Open;
        _session = SessionOf(_ssl);
        ReleaseEngineBuffersWhenIdle(_session);
        _bioBuffersGrew = true; // the handshake's flights
        bool first = true;
        byte[] plain = t_plain ??= new byte[RecordSize];
        while (_state == State.Open)
        {
            int n;
            if (_bioBuffersGrew)
            {
                _bioBuffersGrew = false;
                ReleaseIdleBuffers();
            }

            try
            {
                // Waits without a buffer while the connection is idle; completes once decrypted bytes are ready.
                await _ssl.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                if (_state != State.Open)
                    break;
                // Normally at once (the engine holds decrypted bytes now); if it waits, the loop thread's buffer is
                // filled when it completes and handed over at once, before any other connection of the loop runs.
                n = await _ssl.ReadAsync(plain).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or AuthenticationException or ObjectDisposedException or InvalidOperationException)
            {
                n = 0;
            }

            if (n == 0 || _state != State.Open)
                break;
            // The first bytes are the upgrade request, whose response follows: a connection that stays idle after
            // them holds no buffer from either.
            _bioBuffersGrew |= n > KeepBioBuffersUpTo || first;
            first = false;
            _host!.Deliver(_conn, plain.AsSpan(0, n));
        }

        // close_notify, an alert or an undecryptable record: the peer is done; close_notify goes back (Closing).
        if (_state == State.Open)
            _conn.Close();
    }
}
