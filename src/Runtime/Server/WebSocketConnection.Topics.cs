using WsGen.Protocol;
using WsGen.Server;

namespace WsGen;

/// <summary>Pub/sub: the topics of a connection, and publishing from it.</summary>
public sealed partial class WebSocketConnection
{
    /// <summary>The connection's subscriptions, created at its first subscribe (on the loop thread).</summary>
    internal Subscriptions Subscriptions => Cold.Subscriptions ??= new Subscriptions();

    /// <summary>
    /// Subscribes this connection to <paramref name="topic"/>: from now on it receives what is published there (see
    /// <see cref="WebSocketServer.Publish"/>), until <see cref="Unsubscribe"/> or the end of the connection. Nothing
    /// when it is subscribed already or not open. From another thread than the connection's loop the subscription
    /// is applied there, and a publish made after this call, from the same thread, reaches it.
    /// </summary>
    /// <remarks>A subscription costs a few tens of bytes; a connection that never subscribes pays nothing.</remarks>
    public void Subscribe(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (_loop.IsLoopThread)
        {
            _loop.Subscribe(this, topic, reserved: null);
            return;
        }

        _loop.Post(new CrossThreadSubscribe(this, topic, _loop.ReserveSubscription(topic)));
    }

    /// <summary>Ends this connection's subscription to <paramref name="topic"/> (nothing when it has none). From
    /// another thread it is applied on the connection's loop, before anything published after this call.</summary>
    public void Unsubscribe(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!_loop.IsLoopThread)
        {
            _loop.Post(new CrossThreadUnsubscribe(this, topic));
            return;
        }

        if (_cold?.Subscriptions is { } subscriptions)
            _loop.Unsubscribe(subscriptions, topic);
    }

    /// <summary>True when this connection is subscribed to <paramref name="topic"/>. Exact on the connection's loop
    /// thread (in its handlers); from another thread, subscriptions still on their way may not show yet.</summary>
    public bool IsSubscribed(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return _cold?.Subscriptions is { } subscriptions && subscriptions.Find(topic) >= 0;
    }

    /// <summary>The topics this connection is subscribed to (a copy; see <see cref="IsSubscribed"/> for threads).</summary>
    public IReadOnlyList<string> Topics
    {
        get
        {
            if (_cold?.Subscriptions is not { Count: > 0 } subscriptions)
                return [];
            var topics = new string[subscriptions.Count];
            for (int i = 0; i < topics.Length; i++)
                topics[i] = subscriptions.TopicAt(i).Name;
            return topics;
        }
    }

    /// <summary>Published messages this connection did not get because more bytes waited for it than its endpoint's
    /// <see cref="WebSocketEndpointOptions.PublishLimit"/> (see <see cref="SlowSubscriberPolicy"/>).</summary>
    public long DroppedMessages => _cold?.Subscriptions is { } subscriptions ? Volatile.Read(ref subscriptions.Dropped) : 0;

    /// <summary>
    /// Sends a message to every subscriber of <paramref name="topic"/> except this connection, on every loop, as
    /// <see cref="WebSocketServer.Publish"/> does (from any thread, framed once per loop). Returns false when the topic
    /// has no subscriber.
    /// </summary>
    public bool Publish(string topic, ReadOnlySpan<byte> payload, WebSocketOpcode opcode = WebSocketOpcode.Binary) =>
        _loop.Topics.Publish(topic, payload, opcode, skip: this);

    /// <summary>A published frame for this subscriber, on the loop thread, ready to go (encoded once per loop for
    /// the subscribers that share its encoding, see <see cref="ServerLoop.DeliverPublished"/>): written unless too
    /// many bytes wait for it already, then the endpoint's <see cref="SlowSubscriberPolicy"/> applies.
    /// <paramref name="shared"/> is where the loop keeps the frame's one copy for all the subscribers of this publish
    /// (see <see cref="IReactorConn.WriteShared"/>).</summary>
    internal void WritePublished(ReadOnlySpan<byte> frame, int headerLength, ref SharedBytes shared)
    {
        WebSocketEndpointOptions options = Endpoint!.Options;
        IReactorConn? reactorConn = Net as IReactorConn;
        if (reactorConn is not null && reactorConn.WaitingBytes + frame.Length > options.PublishLimit)
        {
            Interlocked.Increment(ref Subscriptions.Dropped);
            _loop.Counters.PublishDropped();
            if (options.SlowSubscribers == SlowSubscriberPolicy.Close)
                Close(WebSocketCloseCode.TryAgainLater, "slow subscriber");
            return;
        }

        _loop.Counters.PublishDelivered();
        _loop.Counters.Sent(frame.Length - headerLength, final: true);
        if (reactorConn is not null)
            reactorConn.WriteShared(frame, ref shared);
        else
            Net.Write(frame);
    }

    private sealed class CrossThreadSubscribe(WebSocketConnection conn, string topic, Topic reserved) : ILoopWork
    {
        public void Run() => conn._loop.Subscribe(conn, topic, reserved);
    }

    private sealed class CrossThreadUnsubscribe(WebSocketConnection conn, string topic) : ILoopWork
    {
        public void Run() => conn.Unsubscribe(topic);
    }
}
