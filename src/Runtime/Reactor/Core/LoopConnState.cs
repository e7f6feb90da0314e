namespace WsGen.Reactor;

/// <summary>Life cycle of a loop connection (<see cref="LoopConnection{TBackend}"/>).</summary>
internal enum LoopConnState : byte
{
    Open,

    /// <summary><see cref="INetConn.Close"/> was called; waiting bytes are being flushed.</summary>
    Closing,

    /// <summary>The sending side is shut down; input is discarded until the peer's end of stream.</summary>
    Lingering,

    Closed,
}
