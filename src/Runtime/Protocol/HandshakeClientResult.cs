namespace WsGen.Protocol;

/// <summary>The state of the server's answer to a client handshake.</summary>
internal enum ClientHandshakeStatus
{
    /// <summary>The response head has not ended yet: read more.</summary>
    NeedMore,

    /// <summary>The server upgraded the connection.</summary>
    Accepted,

    /// <summary>The server refused, or its answer breaks RFC 6455: the client fails the connection.</summary>
    Failed,
}

/// <summary>The outcome of <see cref="Handshake.ParseServerResponse"/>.</summary>
internal readonly struct ClientHandshakeResult
{
    private ClientHandshakeResult(ClientHandshakeStatus status, string? subProtocol, string? failureReason, int statusCode, DeflateParameters? deflate = null)
    {
        Deflate = deflate;
        Status = status;
        SubProtocol = subProtocol;
        FailureReason = failureReason;
        StatusCode = statusCode;
    }

    public ClientHandshakeStatus Status { get; }

    /// <summary>When accepted, the subprotocol the server chose (one of the offered instances), or null.</summary>
    public string? SubProtocol { get; }

    /// <summary>The permessage-deflate parameters the server agreed, or null when it declined (or none was offered).</summary>
    public DeflateParameters? Deflate { get; }

    /// <summary>When failed, why.</summary>
    public string? FailureReason { get; }

    /// <summary>The status code of the server's response, or 0 when its status line was not read.</summary>
    public int StatusCode { get; }

    public static ClientHandshakeResult NeedMore => default;

    public static ClientHandshakeResult Accepted(string? subProtocol, DeflateParameters? deflate = null) =>
        new(ClientHandshakeStatus.Accepted, subProtocol, null, HttpStatus.SwitchingProtocols, deflate);

    public static ClientHandshakeResult Failed(string reason, int statusCode = 0) =>
        new(ClientHandshakeStatus.Failed, null, reason, statusCode);

    public override string ToString() => Status switch
    {
        ClientHandshakeStatus.Accepted => $"Accepted subprotocol={SubProtocol ?? "(none)"}",
        ClientHandshakeStatus.Failed => $"Failed ({StatusCode}): {FailureReason}",
        _ => "NeedMore",
    };
}
