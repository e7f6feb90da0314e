namespace WsGen;

/// <summary>The close codes of RFC 6455 section 7.4.1 that WsGen sends or reports.</summary>
public enum WebSocketCloseCode : ushort
{
    NormalClosure = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    UnsupportedData = 1003,
    /// <summary>Reported when a close frame had no body; never sent.</summary>
    NoStatusReceived = 1005,
    /// <summary>Reported when the connection dropped without a close frame; never sent.</summary>
    AbnormalClosure = 1006,
    InvalidPayloadData = 1007,
    PolicyViolation = 1008,
    MessageTooBig = 1009,
    MandatoryExtension = 1010,
    InternalServerError = 1011,
    TryAgainLater = 1013,
}

/// <summary>How a connection ended: the close code and reason (received, or sent when WsGen failed the connection).</summary>
public readonly record struct CloseStatus(WebSocketCloseCode Code, string Reason = "")
{
    public override string ToString() => Reason.Length == 0 ? $"{(ushort)Code}" : $"{(ushort)Code} {Reason}";
}
