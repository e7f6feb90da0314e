using WsGen.Protocol;

namespace WsGen.Server;

/// <summary>The loop's share of pub/sub: its connections' subscriptions, and the delivery of published messages to
/// them. Everything here runs on the loop thread, except <see cref="PostPublished"/>.</summary>
internal abstract partial class ServerLoop
{
    private TopicRegistry? _topics;
    private int _topicLoop;
    private Action<object?>? _deliverPosted;

    /// <summary>The server's topics; a loop that no server joined (the fake server of tests) has topics of its own.</summary>
    internal TopicRegistry Topics => _topics ??= new TopicRegistry([this]);

    /// <summary>Makes this loop number <paramref name="index"/> of <paramref name="registry"/> (before it runs).</summary>
    internal void JoinTopics(TopicRegistry registry, int index)
    {
        _topics = registry;
        _topicLoop = index;
        _deliverPosted = state =>
        {
            var posted = (PublishedMessage)state!;
            DeliverPublished(posted.Topic!, posted.Frame, posted.HeaderLength, posted.Opcode, posted.Skip);
            posted.Done();
        };
    }

    /// <summary>Hands <paramref name="message"/> to this loop, from another thread: one posted item per publish.</summary>
    internal void PostPublished(PublishedMessage message)
    {
        if (_eventLoop is null)
            throw new InvalidOperationException("The server is not running.");
        _eventLoop.Post(_deliverPosted!, message);
    }

    /// <summary>Writes <paramref name="frame"/> (built once for every subscriber) to each of this loop's subscribers
    /// of <paramref name="topic"/> except <paramref name="skip"/>.</summary>
    /// <remarks>No endpoint code runs during the loop below (closes are delivered after it), so the subscriber
    /// list does not change under it.</remarks>
    internal void DeliverPublished(Topic topic, ReadOnlySpan<byte> frame, int headerLength, WebSocketOpcode opcode, WebSocketConnection? skip)
    {
        TopicSubscribers? subscribers = topic.Subscribers[_topicLoop];
        if (subscribers is null)
            return;
        for (int i = 0; i < subscribers.Count; i++)
        {
            WebSocketConnection conn = subscribers[i];
            if (conn != skip && conn.State == WebSocketConnection.Phase.Open)
                conn.WritePublished(frame, headerLength, opcode);
        }
    }

    /// <summary>Subscribes <paramref name="conn"/> (of this loop, open) to <paramref name="name"/>.
    /// <paramref name="reserved"/> is the topic an off-loop call counted already, or null.</summary>
    internal void Subscribe(WebSocketConnection conn, string name, Topic? reserved)
    {
        Subscriptions subscriptions = conn.Subscriptions;
        if (conn.State != WebSocketConnection.Phase.Open || subscriptions.Find(name) >= 0)
        {
            if (reserved is not null)
                Topics.Release(reserved, _topicLoop);
            return;
        }

        Topic topic = reserved ?? Topics.Reserve(name, _topicLoop);
        TopicSubscribers subscribers = topic.Subscribers[_topicLoop] ??= new TopicSubscribers();
        subscriptions.Add(topic, subscribers.Add(conn));
    }

    /// <summary>Counts a subscription that <see cref="Subscribe"/> will apply on this loop later.</summary>
    internal Topic ReserveSubscription(string name) => Topics.Reserve(name, _topicLoop);

    /// <summary>Ends the subscription to <paramref name="name"/> in <paramref name="subscriptions"/>; false when there was none.</summary>
    internal bool Unsubscribe(Subscriptions subscriptions, string name)
    {
        int i = subscriptions.Find(name);
        if (i < 0)
            return false;
        Remove(subscriptions, i);
        return true;
    }

    /// <summary>Unsubscribes a connection that ended from all its topics.</summary>
    internal void UnsubscribeAll(Subscriptions subscriptions)
    {
        while (subscriptions.Count > 0)
            Remove(subscriptions, subscriptions.Count - 1);
    }

    private void Remove(Subscriptions subscriptions, int i)
    {
        Topic topic = subscriptions.TopicAt(i);
        int index = subscriptions.IndexAt(i);
        WebSocketConnection? moved = topic.Subscribers[_topicLoop]!.RemoveAt(index);
        moved?.Subscriptions.SetIndex(topic, index);
        subscriptions.RemoveAt(i);
        Topics.Release(topic, _topicLoop);
    }
}
