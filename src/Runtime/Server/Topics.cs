using System.Collections.Concurrent;
using WsGen.Protocol;

namespace WsGen.Server;

/// <summary>
/// The pub/sub topics of one server, shared by all its loops: which topics exist, how many subscriptions each has on
/// each loop, and the fan-out of a publish to the loops that have subscribers.
/// </summary>
/// <remarks>
/// <para>A topic's subscribers on loop i live in <see cref="Topic.Subscribers"/>[i], which only loop i touches. A
/// publish hands one <see cref="PublishedMessage"/> (the frame, built once) to each other loop with subscribers,
/// through the loop's posted work, and delivers to its own loop's subscribers at once when it runs on a loop thread.
/// Posted work runs in order, so a publisher's messages, and its sends and publishes to one connection, keep their
/// order.</para>
/// <para>The counts are changed under a lock, by subscribe and unsubscribe (per connection and topic, never per
/// message); a publish reads them without one. A subscribe made off the connection's loop counts at once and is
/// applied by the loop later, so that a publish made after it is posted to that loop, behind it.</para>
/// </remarks>
internal sealed class TopicRegistry
{
    private readonly ConcurrentDictionary<string, Topic> _topics = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<PublishedMessage> _spare = new();
    private readonly Lock _gate = new();

    /// <param name="loops">The server's loops; loop i is told its index here.</param>
    /// <param name="backplane">Where publishes also go, and which hears of the topics this node has subscribers of.</param>
    public TopicRegistry(ServerLoop[] loops, WebSocketBackplane? backplane = null)
    {
        Loops = loops;
        Backplane = backplane;
        for (int i = 0; i < loops.Length; i++)
            loops[i].JoinTopics(this, i);
    }

    public ServerLoop[] Loops { get; }

    /// <summary>The server's backplane to other nodes, or null.</summary>
    public WebSocketBackplane? Backplane { get; }

    /// <summary>Frames kept by a spare <see cref="PublishedMessage"/> at most; a larger one's buffer is not kept.</summary>
    private const int KeptBufferSize = 64 * 1024;

    /// <summary>The most spare <see cref="PublishedMessage"/>s kept for reuse.</summary>
    private const int MaxSpare = 1024;

    /// <summary>Subscriptions to <paramref name="topic"/> over every loop.</summary>
    public int SubscriberCount(string topic)
    {
        if (!_topics.TryGetValue(topic, out Topic? t))
            return 0;
        int total = 0;
        for (int i = 0; i < t.Counts.Length; i++)
            total += Volatile.Read(ref t.Counts[i]);
        return total;
    }

    /// <summary>Counts one more subscription to <paramref name="name"/> on <paramref name="loop"/> (creating the
    /// topic) and returns the topic.</summary>
    public Topic Reserve(string name, int loop)
    {
        lock (_gate)
        {
            if (!_topics.TryGetValue(name, out Topic? topic))
            {
                topic = new Topic(name, Loops.Length);
                _topics[name] = topic;
                Backplane?.TopicAdded(name);
            }

            topic.Counts[loop]++;
            return topic;
        }
    }

    /// <summary>Counts one subscription less to <paramref name="topic"/> on <paramref name="loop"/>; a topic left
    /// without any is forgotten.</summary>
    public void Release(Topic topic, int loop)
    {
        lock (_gate)
        {
            topic.Counts[loop]--;
            foreach (int count in topic.Counts)
            {
                if (count != 0)
                    return;
            }

            _topics.TryRemove(new KeyValuePair<string, Topic>(topic.Name, topic));
            Backplane?.TopicRemoved(topic.Name);
        }
    }

    /// <summary>Sends a message to every subscriber of <paramref name="topic"/> but <paramref name="skip"/>, from any
    /// thread, and to the other nodes through the backplane. Returns false when the topic has no subscriber on this
    /// node.</summary>
    public bool Publish(string topic, ReadOnlySpan<byte> payload, WebSocketOpcode opcode, WebSocketConnection? skip)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (opcode == WebSocketOpcode.Text ? !Utf8Validator.IsValid(payload) : opcode != WebSocketOpcode.Binary)
        {
            throw new ArgumentException(opcode == WebSocketOpcode.Text
                ? "A text message must be valid UTF-8." : "Only Text and Binary messages are published.", nameof(payload));
        }

        Backplane?.Forward(topic, payload, opcode);
        return DeliverOnThisNode(topic, payload, opcode, skip);
    }

    /// <summary>Delivers a message, valid already, to this node's subscribers of <paramref name="topic"/> but
    /// <paramref name="skip"/>, and not to other nodes (a publish here, or another node's message from the
    /// backplane). Returns false when the topic has no subscriber on this node.</summary>
    public bool DeliverOnThisNode(string topic, ReadOnlySpan<byte> payload, WebSocketOpcode opcode, WebSocketConnection? skip = null)
    {
        if (!_topics.TryGetValue(topic, out Topic? t))
            return false;

        // The loops to hand the message to, and whether the calling thread runs one of those with subscribers.
        ServerLoop[] loops = Loops;
        Span<int> others = loops.Length <= 256 ? stackalloc int[loops.Length] : new int[loops.Length];
        int otherCount = 0;
        ServerLoop? local = null;
        for (int i = 0; i < loops.Length; i++)
        {
            if (Volatile.Read(ref t.Counts[i]) == 0)
                continue;
            if (loops[i].IsLoopThread)
                local = loops[i];
            else
                others[otherCount++] = i;
        }

        if (otherCount == 0)
        {
            if (local is null)
                return false;
            DeliverLocal(local, t, payload, opcode, skip);
            return true;
        }

        PublishedMessage message = Rent();
        message.Set(t, payload, opcode, skip, otherCount + (local is null ? 0 : 1));
        foreach (int i in others[..otherCount])
            loops[i].PostPublished(message);
        if (local is not null)
        {
            local.DeliverPublished(message.Topic!, message.Frame, message.HeaderLength, opcode, skip);
            message.Done();
        }

        return true;
    }

    /// <summary>A publish whose subscribers are all on the calling loop: framed on the stack when small.</summary>
    private void DeliverLocal(ServerLoop loop, Topic topic, ReadOnlySpan<byte> payload, WebSocketOpcode opcode, WebSocketConnection? skip)
    {
        const int SmallFrame = 512;
        int headerLength = FrameWriter.UnmaskedHeaderSize(payload.Length);
        if (payload.Length <= SmallFrame)
        {
            Span<byte> buffer = stackalloc byte[SmallFrame + 14];
            Span<byte> frame = buffer[..(headerLength + payload.Length)];
            FrameWriter.WriteUnmaskedFrame(frame, opcode, true, payload);
            loop.DeliverPublished(topic, frame, headerLength, opcode, skip);
            return;
        }

        PublishedMessage message = Rent();
        message.Set(topic, payload, opcode, skip, references: 1);
        loop.DeliverPublished(topic, message.Frame, headerLength, opcode, skip);
        message.Done();
    }

    private PublishedMessage Rent() => _spare.TryDequeue(out PublishedMessage? message) ? message : new PublishedMessage(this);

    /// <summary>Keeps <paramref name="message"/>, delivered by every loop, for the next publish.</summary>
    internal void Return(PublishedMessage message)
    {
        if (message.BufferSize > KeptBufferSize)
            message.DropBuffer();
        if (_spare.Count < MaxSpare)
            _spare.Enqueue(message);
    }
}

/// <summary>One topic: its name, its subscriptions per loop (counted under the registry's lock, read by publishers
/// without it) and each loop's subscribers.</summary>
internal sealed class Topic(string name, int loops)
{
    public string Name { get; } = name;

    /// <summary>Subscriptions per loop, those a loop has yet to apply included.</summary>
    public readonly int[] Counts = new int[loops];

    /// <summary>Per loop, its connections subscribed; element i belongs to loop i's thread.</summary>
    public readonly TopicSubscribers?[] Subscribers = new TopicSubscribers?[loops];
}

/// <summary>The subscribers of one topic on one loop: an array in which a connection leaves by swapping the last one
/// into its place (each connection keeps its index, in its <see cref="Subscriptions"/>).</summary>
internal sealed class TopicSubscribers
{
    private WebSocketConnection[] _items = new WebSocketConnection[4];

    public int Count { get; private set; }

    public WebSocketConnection this[int index] => _items[index];

    /// <summary>Adds <paramref name="conn"/>; returns its index.</summary>
    public int Add(WebSocketConnection conn)
    {
        if (Count == _items.Length)
            Array.Resize(ref _items, Count * 2);
        _items[Count] = conn;
        return Count++;
    }

    /// <summary>Removes the connection at <paramref name="index"/>; returns the one moved there, or null.</summary>
    public WebSocketConnection? RemoveAt(int index)
    {
        int last = --Count;
        WebSocketConnection? moved = null;
        if (index != last)
        {
            moved = _items[last];
            _items[index] = moved;
        }

        _items[last] = null!;
        if (Count == 0 && _items.Length > 64)
            _items = new WebSocketConnection[4];
        return moved;
    }
}

/// <summary>The topics one connection is subscribed to, with its index in each topic's subscribers on its loop; and
/// the published messages dropped for it. Allocated at its first subscribe: a connection that never subscribes has
/// none.</summary>
internal sealed class Subscriptions
{
    private Topic[] _topics = new Topic[2];
    private int[] _indexes = new int[2];

    public int Count { get; private set; }

    /// <summary>Published messages not sent to this connection because too many bytes waited for it.</summary>
    public long Dropped;

    public Topic TopicAt(int i) => _topics[i];

    /// <summary>The position of <paramref name="name"/> in this set, or -1.</summary>
    public int Find(string name)
    {
        for (int i = 0; i < Count; i++)
        {
            if (string.Equals(_topics[i].Name, name, StringComparison.Ordinal))
                return i;
        }

        return -1;
    }

    /// <summary>The position of <paramref name="topic"/> in this set, or -1.</summary>
    public int Find(Topic topic) => Array.IndexOf(_topics, topic, 0, Count);

    public void Add(Topic topic, int index)
    {
        if (Count == _topics.Length)
        {
            Array.Resize(ref _topics, Count * 2);
            Array.Resize(ref _indexes, Count * 2);
        }

        _topics[Count] = topic;
        _indexes[Count++] = index;
    }

    public int IndexAt(int i) => _indexes[i];

    public void SetIndex(Topic topic, int index) => _indexes[Find(topic)] = index;

    /// <summary>Forgets the topic at position <paramref name="i"/> (the last one takes its place).</summary>
    public void RemoveAt(int i)
    {
        int last = --Count;
        _topics[i] = _topics[last];
        _indexes[i] = _indexes[last];
        _topics[last] = null!;
    }
}

/// <summary>
/// A message published to the connections of other loops: the frame, built once (header and payload in one buffer),
/// the topic, the connection it skips, and how many loops still have to deliver it. Reused: after the last loop is
/// done with it, it goes back to the registry.
/// </summary>
internal sealed class PublishedMessage(TopicRegistry owner)
{
    private byte[] _buffer = [];
    private int _length;
    private int _references;

    public Topic? Topic { get; private set; }
    public WebSocketConnection? Skip { get; private set; }
    public WebSocketOpcode Opcode { get; private set; }
    public int HeaderLength { get; private set; }

    /// <summary>The whole frame, header first.</summary>
    public ReadOnlySpan<byte> Frame => _buffer.AsSpan(0, _length);

    public int BufferSize => _buffer.Length;

    /// <summary>Builds the frame of <paramref name="payload"/> for <paramref name="references"/> loops.</summary>
    public void Set(Topic topic, ReadOnlySpan<byte> payload, WebSocketOpcode opcode, WebSocketConnection? skip, int references)
    {
        HeaderLength = FrameWriter.UnmaskedHeaderSize(payload.Length);
        _length = HeaderLength + payload.Length;
        if (_buffer.Length < _length)
            _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(_length, 256));
        FrameWriter.WriteUnmaskedFrame(_buffer.AsSpan(0, _length), opcode, true, payload);
        Topic = topic;
        Opcode = opcode;
        Skip = skip;
        Volatile.Write(ref _references, references);
    }

    /// <summary>A loop delivered it; the last one gives it back.</summary>
    public void Done()
    {
        if (Interlocked.Decrement(ref _references) != 0)
            return;
        Topic = null;
        Skip = null;
        owner.Return(this);
    }

    public void DropBuffer() => _buffer = [];
}
