using WsGen.Protocol;

namespace WsGen.Server;

/// <summary>The endpoints' upgrade hooks: a decision made at once finishes the handshake in the same call; a pending
/// one parks the connection (<see cref="WebSocketConnection.Phase.Upgrading"/>) in a bounded set with its own deadline.</summary>
internal abstract partial class ServerLoop
{
    private int _pendingUpgrades;

    /// <summary>Handshakes of this loop waiting for an asynchronous hook (for tests and diagnostics).</summary>
    public int PendingUpgrades => _pendingUpgrades;

    /// <summary>Runs <paramref name="hook"/> on a request the protocol accepted and whose endpoint place is taken.
    /// Returns true when the connection opened now (its trailing bytes are frames to read).</summary>
    private bool RunUpgradeHook(WebSocketConnection conn, Endpoint endpoint, WebSocketUpgradeHandler hook, in HttpRequestHead request, in HandshakeDecision handshake,
        DeflateParameters? deflate)
    {
        if (_pendingUpgrades >= _options.MaxPendingUpgrades)
            return RefuseReserved(conn, endpoint, HttpStatus.ServiceUnavailable);

        ValueTask<WebSocketUpgradeDecision> task;
        try
        {
            task = hook(new WebSocketUpgradeRequest(in request, conn));
            if (task.IsCompleted)
            {
                var decision = task.GetAwaiter().GetResult();
                bool offered = decision.SubProtocol is not { } chosen || request.OffersSubProtocol(chosen);
                return Decide(conn, endpoint, in handshake, deflate, in decision, offered);
            }
        }
        catch (Exception)
        {
            return RefuseReserved(conn, endpoint, HttpStatus.InternalServerError);
        }

        var pending = new PendingUpgrade(this, conn, endpoint, in handshake, deflate, request.SubProtocols, task);
        conn.State = WebSocketConnection.Phase.Upgrading;
        conn.DropPartialHead();
        conn.Deadline = Now + (long)_options.UpgradeTimeout.TotalMilliseconds;
        conn.PendingUpgrade = pending;
        _pendingUpgrades++;
        pending.Start();
        return false;
    }

    /// <summary>An asynchronous hook decided (on the loop thread): finishes the handshake, unless the connection left
    /// or timed out meanwhile.</summary>
    internal void CompleteUpgrade(PendingUpgrade pending)
    {
        var conn = pending.Conn;
        if (conn.PendingUpgrade != pending)
            return;
        conn.PendingUpgrade = null;
        _pendingUpgrades--;
        if (pending.Failure is not null)
        {
            RefuseReserved(conn, pending.Endpoint, HttpStatus.InternalServerError);
            return;
        }

        var decision = pending.Decision;
        bool offered = decision.SubProtocol is not { } chosen || pending.Offered.Contains(chosen);
        var handshake = pending.Handshake;
        Decide(conn, pending.Endpoint, in handshake, pending.Deflate, in decision, offered);
    }

    /// <summary>Drops the pending hook of a connection that is going away (left, timed out, or shutdown), giving
    /// back its endpoint place; the hook's decision, when it comes, finds nothing to do.</summary>
    private void AbandonUpgrade(WebSocketConnection conn)
    {
        if (conn.PendingUpgrade is not { } pending)
            return;
        conn.PendingUpgrade = null;
        _pendingUpgrades--;
        pending.Endpoint.Release();
    }

    private bool Decide(WebSocketConnection conn, Endpoint endpoint, in HandshakeDecision handshake, DeflateParameters? deflate,
        in WebSocketUpgradeDecision decision, bool subProtocolOffered)
    {
        if (!decision.IsAccepted)
        {
            endpoint.Release();
            conn.State = WebSocketConnection.Phase.Closed;
            conn.DropPartialHead();
            int length = WsGen.Protocol.Handshake.GetHookRefusalLength(decision.StatusCode, decision.Headers, decision.Body);
            Span<byte> refusal = length <= 2048 ? stackalloc byte[length] : new byte[length];
            conn.Net.Write(refusal[..WsGen.Protocol.Handshake.WriteHookRefusal(refusal, decision.StatusCode, decision.Headers, decision.Body)]);
            conn.Net.Close();
            return false;
        }

        if (!subProtocolOffered)
            return RefuseReserved(conn, endpoint, HttpStatus.InternalServerError);

        var accepted = decision.SubProtocol is null ? handshake : handshake with { SubProtocol = decision.SubProtocol };
        return Accept(conn, endpoint, in accepted, deflate, decision.Headers, decision.State);
    }

    private bool RefuseReserved(WebSocketConnection conn, Endpoint endpoint, int status)
    {
        endpoint.Release();
        Refuse(conn, status);
        return false;
    }
}
