namespace WsGen.Protocol;

/// <summary>Why a <see cref="WebSocketReader"/> failed the connection.</summary>
internal enum ReadError : byte
{
    None,
    ReservedBitsSet,
    UnknownOpcode,
    ControlFrameTooLong,
    ControlFrameFragmented,
    UnexpectedContinuation,
    ExpectedContinuation,
    UnmaskedFrame,
    MaskedFrame,
    InvalidLength,
    NonMinimalLength,
    MessageTooBig,
    InvalidCloseLength,
    InvalidCloseCode,
    InvalidUtf8Text,
    InvalidUtf8CloseReason,
}

/// <summary>
/// The outcome of <see cref="WebSocketReader.Read"/>: success, or the close code and a constant reason to fail the
/// connection with (RFC 6455 section 7.1.7). One byte; nothing is allocated.
/// </summary>
internal readonly struct ReadResult
{
    public ReadResult(ReadError error) => Error = error;

    /// <summary>What went wrong, or <see cref="ReadError.None"/>.</summary>
    public ReadError Error { get; }

    /// <summary>True when the connection must be failed with <see cref="Code"/>.</summary>
    public bool IsError => Error != ReadError.None;

    /// <summary>The close code to send: 1002, 1007 or 1009; 1000 when there is no error.</summary>
    public WebSocketCloseCode Code => Error switch
    {
        ReadError.None => WebSocketCloseCode.NormalClosure,
        ReadError.MessageTooBig => WebSocketCloseCode.MessageTooBig,
        ReadError.InvalidUtf8Text or ReadError.InvalidUtf8CloseReason => WebSocketCloseCode.InvalidPayloadData,
        _ => WebSocketCloseCode.ProtocolError,
    };

    /// <summary>A short constant reason for the close frame (ASCII, well under 123 bytes).</summary>
    public string Reason => Error switch
    {
        ReadError.None => "",
        ReadError.ReservedBitsSet => "reserved bits set without an extension",
        ReadError.UnknownOpcode => "unknown opcode",
        ReadError.ControlFrameTooLong => "control frame longer than 125 bytes",
        ReadError.ControlFrameFragmented => "fragmented control frame",
        ReadError.UnexpectedContinuation => "continuation frame without a message to continue",
        ReadError.ExpectedContinuation => "new message before the previous one ended",
        ReadError.UnmaskedFrame => "client frame not masked",
        ReadError.MaskedFrame => "server frame masked",
        ReadError.InvalidLength => "invalid payload length",
        ReadError.NonMinimalLength => "payload length not minimally encoded",
        ReadError.MessageTooBig => "message too big",
        ReadError.InvalidCloseLength => "close frame with a 1-byte body",
        ReadError.InvalidCloseCode => "invalid close code",
        ReadError.InvalidUtf8Text => "invalid UTF-8 in text message",
        ReadError.InvalidUtf8CloseReason => "invalid UTF-8 in close reason",
        _ => "protocol error",
    };

    /// <summary>The result as the status the server reports for a connection it failed.</summary>
    public CloseStatus ToCloseStatus() => new(Code, Reason);

    public override string ToString() => IsError ? $"{(ushort)Code} {Reason}" : "Ok";
}
