namespace WsGen.Reactor;

/// <summary>
/// Connections that ended and wait for <see cref="IConnectionHandler.OnClose"/>, which a loop calls outside any
/// other callback. Connections that end during delivery are delivered in the same pass; a delivery that starts
/// while one runs returns at once.
/// </summary>
internal sealed class PendingCloses(IConnectionHandler handler)
{
    private readonly List<INetConn> _connections = [];
    private bool _delivering;

    /// <summary>True when a connection waits for its OnClose.</summary>
    public bool Any => _connections.Count > 0;

    /// <summary>Queues OnClose for a connection the loop just finished.</summary>
    public void Add(INetConn conn) => _connections.Add(conn);

    /// <summary>Calls OnClose for every queued connection, in the order they ended.</summary>
    public void Deliver()
    {
        if (_delivering || _connections.Count == 0)
            return;
        _delivering = true;
        try
        {
            for (int i = 0; i < _connections.Count; i++)
                handler.OnClose(_connections[i]);
            _connections.Clear();
        }
        finally
        {
            _delivering = false;
        }
    }
}
