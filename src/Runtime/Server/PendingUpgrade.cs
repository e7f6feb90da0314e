using System.Runtime.CompilerServices;
using WsGen.Protocol;

namespace WsGen.Server;

/// <summary>
/// A handshake waiting for an asynchronous upgrade hook. The hook's task completes on any thread; its result is taken
/// there and this is posted to the connection's loop, which finishes the handshake unless the connection left or timed
/// out meanwhile (then <see cref="WebSocketConnection.PendingUpgrade"/> no longer points here and nothing happens).
/// </summary>
internal sealed class PendingUpgrade : ILoopWork
{
    private readonly ServerLoop _loop;
    private readonly ConfiguredValueTaskAwaitable<WebSocketUpgradeDecision>.ConfiguredValueTaskAwaiter _awaiter;

    public PendingUpgrade(ServerLoop loop, WebSocketConnection conn, Endpoint endpoint, in HandshakeDecision handshake,
        DeflateParameters? deflate, IReadOnlyList<string> offered, ValueTask<WebSocketUpgradeDecision> task)
    {
        _loop = loop;
        Conn = conn;
        Endpoint = endpoint;
        Handshake = handshake;
        Deflate = deflate;
        Offered = offered;
        _awaiter = task.ConfigureAwait(false).GetAwaiter();
    }

    public WebSocketConnection Conn { get; }

    /// <summary>The endpoint whose place the connection holds while it waits.</summary>
    public Endpoint Endpoint { get; }

    /// <summary>The protocol's acceptance, computed before the hook ran (the request head is gone by now).</summary>
    public HandshakeDecision Handshake { get; }

    /// <summary>The permessage-deflate parameters agreed before the hook ran, if any.</summary>
    public DeflateParameters? Deflate { get; }

    /// <summary>The subprotocols the client offered, to check the hook's choice against.</summary>
    public IReadOnlyList<string> Offered { get; }

    /// <summary>The hook's decision, once its task completed without fault.</summary>
    public WebSocketUpgradeDecision Decision { get; private set; }

    /// <summary>The hook's failure, when its task faulted.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Waits for the hook's task (without blocking: a continuation).</summary>
    public void Start() => _awaiter.UnsafeOnCompleted(OnCompleted);

    private void OnCompleted()
    {
        try
        {
            Decision = _awaiter.GetResult();
        }
        catch (Exception e)
        {
            Failure = e;
        }

        try
        {
            _loop.Post(this);
        }
        catch (InvalidOperationException)
        {
            // The server stopped meanwhile: the connection was closed with it.
        }
    }

    public void Run() => _loop.CompleteUpgrade(this);
}
