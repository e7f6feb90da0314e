namespace WsGen;

/// <summary>What a published message does to a subscriber that has more bytes waiting than its endpoint's
/// <see cref="WebSocketEndpointOptions.PublishLimit"/> (a peer that reads slower than the topic publishes).</summary>
public enum SlowSubscriberPolicy
{
    /// <summary>The message is not sent to that subscriber, and counted in its
    /// <see cref="WebSocketConnection.DroppedMessages"/>; the subscriber stays, and gets the next messages once its
    /// socket has taken enough of what waits.</summary>
    Drop,

    /// <summary>The message is not sent (and counted), and the subscriber is closed with 1013 (Try Again Later, "slow
    /// subscriber"): its close frame follows the bytes already waiting.</summary>
    Close,
}
