using WsGen.Protocol;

namespace WsGen.Server;

/// <summary>The loop's share of pub/sub: its connections' subscriptions, and the delivery of published messages to
/// them. Everything here runs on the loop thread, except <see cref="PostPublished"/>.</summary>
internal abstract partial class ServerLoop
{
    private TopicRegistry? _topics;
    private int _topicLoop;
    private Action<object?>? _deliverPosted;
    private PublishEncoding[] _encodings = [];
    private int _encodingCount;

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
    /// of <paramref name="topic"/> except <paramref name="skip"/>. A subscriber with a message transform
    /// (permessage-deflate) that encodes each message alone gets the frame encoded once per publish and
    /// <see cref="IMessageTransform.PublishKey"/> (shared mode: once per loop); one whose encoding keeps context gets
    /// <paramref name="frame"/> as it is.</summary>
    /// <remarks>No endpoint code runs during the loop below (closes are delivered after it), so the subscriber
    /// list does not change under it. The writes are gathered by the connection core, the frame copied there once
    /// for all the subscribers (<see cref="IReactorConn.WriteShared"/>): each subscriber gets what a turn published to
    /// it with one send.</remarks>
    internal void DeliverPublished(Topic topic, ReadOnlySpan<byte> frame, int headerLength, WebSocketOpcode opcode, WebSocketConnection? skip)
    {
        TopicSubscribers? subscribers = topic.Subscribers[_topicLoop];
        if (subscribers is null)
            return;
        _encodingCount = 0;
        SharedBytes shared = default;
        for (int i = 0; i < subscribers.Count; i++)
        {
            WebSocketConnection conn = subscribers[i];
            if (conn == skip || conn.State != WebSocketConnection.Phase.Open)
                continue;
            if (conn.MessageTransform is { } transform && transform.PublishKey != 0
                && Encode(transform, frame, headerLength, opcode) is { Plain: false } encoding)
            {
                conn.WritePublished(encoding.Frame, encoding.HeaderLength, ref encoding.Shared);
            }
            else
            {
                conn.WritePublished(frame, headerLength, ref shared);
            }
        }

        for (int i = 0; i < _encodingCount; i++)
            _encodings[i].Done();
    }

    /// <summary>The frame of the message in <paramref name="frame"/> as <paramref name="transform"/> encodes it: made
    /// by the first subscriber of this publish with its key, reused by the others.</summary>
    private PublishEncoding Encode(IMessageTransform transform, ReadOnlySpan<byte> frame, int headerLength, WebSocketOpcode opcode)
    {
        long key = transform.PublishKey;
        for (int i = 0; i < _encodingCount; i++)
        {
            if (_encodings[i].Key == key)
                return _encodings[i];
        }

        if (_encodingCount == _encodings.Length)
            Array.Resize(ref _encodings, Math.Max(2, _encodingCount * 2));
        PublishEncoding encoding = _encodings[_encodingCount] ??= new PublishEncoding();
        _encodingCount++;
        encoding.Set(key, transform, frame, headerLength, opcode);
        return encoding;
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

/// <summary>A published message as the subscribers of one <see cref="IMessageTransform.PublishKey"/> get it: the
/// encoded frame (RSV1 set), or none when the transform leaves the message as it is (the plain frame goes out then).
/// A loop keeps a few and reuses them publish after publish.</summary>
internal sealed class PublishEncoding
{
    /// <summary>The largest buffer kept after a publish; a larger one is dropped.</summary>
    private const int KeptBufferSize = 64 * 1024;

    private byte[] _buffer = [];
    private int _length;

    public long Key { get; private set; }

    /// <summary>True when the transform left the message as it is.</summary>
    public bool Plain { get; private set; }

    public int HeaderLength { get; private set; }

    /// <summary>Where the loop keeps the encoded frame for this publish's subscribers (see <see cref="IReactorConn.WriteShared"/>).</summary>
    public SharedBytes Shared;

    /// <summary>The encoded frame, until the next <see cref="Set"/>.</summary>
    public ReadOnlySpan<byte> Frame => _buffer.AsSpan(0, _length);

    /// <summary>Encodes the message of <paramref name="frame"/> (a plain frame whose header is
    /// <paramref name="headerLength"/> bytes) with <paramref name="transform"/>, whose key is <paramref name="key"/>.</summary>
    public void Set(long key, IMessageTransform transform, ReadOnlySpan<byte> frame, int headerLength, WebSocketOpcode opcode)
    {
        Key = key;
        Shared = default;
        Plain = !transform.TryEncode(frame[headerLength..], out ReadOnlySpan<byte> encoded);
        if (Plain)
            return;
        HeaderLength = FrameWriter.UnmaskedHeaderSize(encoded.Length);
        _length = HeaderLength + encoded.Length;
        if (_buffer.Length < _length)
            _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(_length, 256));
        FrameWriter.WriteHeader(_buffer, opcode, fin: true, encoded.Length, rsv1: true);
        encoded.CopyTo(_buffer.AsSpan(HeaderLength));
    }

    /// <summary>The publish is delivered: a buffer larger than a message usually needs is not kept.</summary>
    public void Done()
    {
        if (_buffer.Length > KeptBufferSize)
            _buffer = [];
    }
}
