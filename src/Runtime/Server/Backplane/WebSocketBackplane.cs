using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;
using WsGen.Protocol;
using WsGen.Server;

namespace WsGen;

/// <summary>
/// Joins the pub/sub topics of one server (a node) to those of other nodes through a message broker, so that a
/// message published on any node reaches the subscribers of its topic on every node. Set it in
/// <see cref="WebSocketServerOptions.Backplane"/>; the server starts it with itself and stops it with itself. The
/// packages WsGen.Redis (<c>RedisBackplane</c>) and WsGen.Nats (<c>NatsBackplane</c>) derive from it.
/// </summary>
/// <remarks>
/// <para><b>What the server does with it.</b> A publish (<see cref="WebSocketServer.Publish"/>,
/// <see cref="WebSocketConnection.Publish"/>) is delivered to the node's own subscribers at once, as without a
/// backplane, and is also copied into this backplane's queue (a buffer the queue reuses: nothing is allocated in steady
/// state), which
/// one sender task per node drains to the broker: consecutive messages of one topic go as one broker message (up to
/// <see cref="MaxBatchBytes"/>), and several broker messages are in flight at once. The node subscribes at the broker to a
/// topic when the topic gets its first subscriber on the node, and unsubscribes when its last one leaves. A message
/// from the broker is delivered to the node's subscribers only, never published again; a node's own messages coming
/// back from the broker are recognised by the node id they carry and ignored, so nothing is delivered twice.</para>
/// <para><b>Delivery: at most once across nodes.</b> Messages of one publisher (one thread) on one topic arrive in
/// the order they were published, on every node. A message is dropped, never retried, when the broker is unreachable
/// (the connection is down, or the broker refused it) or when <see cref="QueueCapacity"/> messages wait for the
/// sender already; each drop is counted (<c>wsgen.backplane.dropped</c> in the <c>WsGen</c> meter, beside
/// <c>wsgen.backplane.sent</c> and <c>wsgen.backplane.received</c>). Subscribers on the publishing node get every message
/// whatever the broker does: local delivery keeps working during an outage. While the connection is down the
/// client reconnects with a growing delay (a quarter of a second, doubling up to five seconds) and restores the
/// node's broker subscriptions when it is back; messages other nodes published meanwhile are not delivered here.</para>
/// <para><b>For implementers.</b> The base class owns the queue, the batching, the message format (a version byte, the
/// node id, then records of opcode, length and payload), the counters and the order of the broker calls: every
/// protected method is called from the one sender task, one at a time, except <see cref="Receive"/>, which the
/// implementation calls from the client's thread with every message of a subscribed topic, in the broker's order.</para>
/// </remarks>
public abstract class WebSocketBackplane
{
    private const byte FormatVersion = 1;
    private const int NodeIdSize = 16;
    private const int HeaderSize = 1 + NodeIdSize;
    private const int RecordHeaderSize = 5;
    private const int MaxInFlight = 64;

    /// <summary>The size of the queue's own buffers, kept for reuse (a larger message takes one from the shared
    /// <see cref="ArrayPool{T}"/>), and how many spare ones are kept at most (1 MiB).</summary>
    private const int SmallBuffer = 1024, MaxSpare = 1024;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250), LastRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PendingRetry = TimeSpan.FromMilliseconds(500);

    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly byte[] _nodeId = Guid.NewGuid().ToByteArray();
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentQueue<byte[]> _spare = new();
    private TopicRegistry? _topics;
    private CancellationTokenSource? _stop;
    private Task? _sender;
    private Task? _connecting;
    private int _queued;
    private int _retryScheduled;
    private long _sent, _received, _dropped;
    private int _queueCapacity = 64 * 1024;
    private int _maxBatchBytes = 64 * 1024;

    /// <summary>Messages that may wait for the sender (65,536); a publish beyond them is not sent to the broker
    /// (dropped and counted). Set before the server starts.</summary>
    public int QueueCapacity
    {
        get => _queueCapacity;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _queueCapacity = value;
        }
    }

    /// <summary>The largest broker message that several published messages of one topic are gathered into (64 KiB);
    /// a larger published message goes alone. Set before the server starts.</summary>
    public int MaxBatchBytes
    {
        get => _maxBatchBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1024);
            _maxBatchBytes = value;
        }
    }

    /// <summary>Messages published on this node that reached the broker (<c>wsgen.backplane.sent</c>).</summary>
    internal long Sent => Volatile.Read(ref _sent);

    /// <summary>Messages of other nodes delivered here from the broker (<c>wsgen.backplane.received</c>).</summary>
    internal long Received => Volatile.Read(ref _received);

    /// <summary>Messages published on this node that were not sent to the broker (<c>wsgen.backplane.dropped</c>).</summary>
    internal long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Whether the connection to the broker is up (for tests).</summary>
    internal bool Connected => IsConnected;

    /// <summary>Connects to the broker (once; the client reconnects by itself after that). Throwing means the broker
    /// is unreachable now: it is called again after a delay.</summary>
    protected abstract Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>Closes the connection to the broker (the server stops).</summary>
    protected abstract Task DisconnectAsync();

    /// <summary>True while the connection to the broker is up: messages are sent, subscriptions made.</summary>
    protected abstract bool IsConnected { get; }

    /// <summary>Subscribes at the broker to <paramref name="topic"/>: from now on, call <see cref="Receive"/> with its
    /// messages. Not called for a topic subscribed already.</summary>
    protected abstract Task SubscribeAsync(string topic);

    /// <summary>Ends the broker subscription to <paramref name="topic"/>.</summary>
    protected abstract Task UnsubscribeAsync(string topic);

    /// <summary>Sends <paramref name="message"/> (this class's format) to the broker under <paramref name="topic"/>.
    /// <paramref name="message"/> is valid until the returned task completes; several may be in flight and must
    /// reach the broker in call order.</summary>
    protected abstract ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> message);

    /// <summary>The connection came back after an outage: subscriptions that failed meanwhile are made again (the
    /// client restores the others itself). Call it from the client's reconnect event.</summary>
    protected void OnReconnected() => _work.Writer.TryWrite(new Work(WorkKind.Reconnected, "", null, 0, default));

    /// <summary>Hands a broker message of <paramref name="topic"/> to this node's subscribers: every record of another
    /// node's message is delivered (never published again); the node's own messages and messages not in this
    /// class's format are ignored.</summary>
    protected void Receive(string topic, ReadOnlySpan<byte> message)
    {
        TopicRegistry? topics = _topics;
        if (topics is null || message.Length < HeaderSize || message[0] != FormatVersion || message.Slice(1, NodeIdSize).SequenceEqual(_nodeId))
            return;
        ReadOnlySpan<byte> records = message[HeaderSize..];
        while (records.Length >= RecordHeaderSize)
        {
            var opcode = (WebSocketOpcode)records[0];
            int length = BinaryPrimitives.ReadInt32LittleEndian(records[1..]);
            if (length < 0 || length > records.Length - RecordHeaderSize)
                return;
            ReadOnlySpan<byte> payload = records.Slice(RecordHeaderSize, length);
            if (opcode == WebSocketOpcode.Binary || (opcode == WebSocketOpcode.Text && Utf8Validator.IsValid(payload)))
            {
                Interlocked.Increment(ref _received);
                topics.DeliverOnThisNode(topic, payload, opcode);
            }

            records = records[(RecordHeaderSize + length)..];
        }
    }

    /// <summary>Starts the sender for the topics of a server that starts.</summary>
    internal void Start(TopicRegistry topics)
    {
        if (Interlocked.CompareExchange(ref _topics, topics, null) is not null)
            throw new InvalidOperationException("This backplane serves another server already.");
        _stop = new CancellationTokenSource();
        _sender = Task.Run(() => RunAsync(_stop.Token));
        _connecting = ConnectWithRetriesAsync(_stop.Token);
    }

    /// <summary>Stops the sender (what waits is dropped) and disconnects; the server stops.</summary>
    internal void Stop()
    {
        if (_stop is null)
            return;
        _stop.Cancel();
        try
        {
            // A connection still being made is waited for, so that it is closed too.
            _sender!.GetAwaiter().GetResult();
            _connecting!.GetAwaiter().GetResult();
            DisconnectAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The broker connection failed as it closed: nothing is left to do with it.
        }

        while (_work.Reader.TryRead(out Work work))
        {
            if (work.Buffer is not null)
                Interlocked.Increment(ref _dropped);
            Discard(work);
        }
        _stop.Dispose();
        _stop = null;
    }

    /// <summary>A topic got its first subscriber on this node (under the registry's lock, so in order with
    /// <see cref="TopicRemoved"/>).</summary>
    internal void TopicAdded(string topic) => _work.Writer.TryWrite(new Work(WorkKind.Subscribe, topic, null, 0, default));

    /// <summary>A topic lost its last subscriber on this node.</summary>
    internal void TopicRemoved(string topic) => _work.Writer.TryWrite(new Work(WorkKind.Unsubscribe, topic, null, 0, default));

    /// <summary>Queues a message published on this node for the broker, on the publisher's thread: a copy in a reused
    /// buffer, or a drop when the queue is full (the sender drops what it takes while the broker is unreachable).</summary>
    internal void Forward(string topic, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        if (Interlocked.Increment(ref _queued) > _queueCapacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }

        byte[] buffer = payload.Length > SmallBuffer ? ArrayPool<byte>.Shared.Rent(payload.Length)
            : _spare.TryDequeue(out byte[]? spare) ? spare : new byte[SmallBuffer];
        payload.CopyTo(buffer);
        _work.Writer.TryWrite(new Work(WorkKind.Publish, topic, buffer, payload.Length, opcode));
    }

    /// <summary>Connects, trying again after a growing delay while the broker is unreachable.</summary>
    private async Task ConnectWithRetriesAsync(CancellationToken stop)
    {
        for (TimeSpan delay = FirstRetry; !stop.IsCancellationRequested; delay = delay * 2 < LastRetry ? delay * 2 : LastRetry)
        {
            try
            {
                await ConnectAsync(stop).ConfigureAwait(false);
                OnReconnected();
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Unreachable now: try again after the delay.
            }

            try
            {
                await Task.Delay(delay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The one sender: applies subscriptions and sends queued messages, in queue order.</summary>
    private async Task RunAsync(CancellationToken stop)
    {
        ChannelReader<Work> reader = _work.Reader;
        var inFlight = new InFlight[MaxInFlight];
        int count = 0;
        try
        {
            while (await reader.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                while (reader.TryRead(out Work work))
                {
                    switch (work.Kind)
                    {
                        case WorkKind.Publish:
                            if (count == MaxInFlight)
                                count = await CompleteAsync(inFlight, count).ConfigureAwait(false);
                            Send(work, reader, inFlight, ref count);
                            break;
                        case WorkKind.Subscribe:
                            _pending.Add(work.Topic);
                            await TrySubscribeAsync(work.Topic).ConfigureAwait(false);
                            RetryPendingLater(stop);
                            break;
                        case WorkKind.Unsubscribe:
                            if (!_pending.Remove(work.Topic))
                                await TryAsync(UnsubscribeAsync, work.Topic).ConfigureAwait(false);
                            break;
                        case WorkKind.Reconnected:
                            foreach (string topic in _pending.ToArray())
                                await TrySubscribeAsync(topic).ConfigureAwait(false);
                            RetryPendingLater(stop);
                            break;
                    }
                }

                count = await CompleteAsync(inFlight, count).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await CompleteAsync(inFlight, count).ConfigureAwait(false);
        }
    }

    /// <summary>While subscriptions are pending, tries them again after a while (besides on the client's reconnect
    /// event, which may come before the client takes subscriptions again): one timer at a time, not one per topic.</summary>
    private void RetryPendingLater(CancellationToken stop)
    {
        if (_pending.Count == 0 || Interlocked.Exchange(ref _retryScheduled, 1) == 1)
            return;
        _ = RetryAsync();

        async Task RetryAsync()
        {
            try
            {
                await Task.Delay(PendingRetry, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Volatile.Write(ref _retryScheduled, 0);
            OnReconnected();
        }
    }

    /// <summary>A subscription that fails (the broker is unreachable) stays pending until the connection is back.</summary>
    private async Task TrySubscribeAsync(string topic)
    {
        if (IsConnected && await TryAsync(SubscribeAsync, topic).ConfigureAwait(false))
            _pending.Remove(topic);
    }

    private static async Task<bool> TryAsync(Func<string, Task> call, string topic)
    {
        try
        {
            await call(topic).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="first"/> with the messages of its topic right behind it in the queue, as one broker
    /// message.</summary>
    private void Send(Work first, ChannelReader<Work> reader, InFlight[] inFlight, ref int count)
    {
        int size = HeaderSize + RecordHeaderSize + first.Length;
        byte[] batch = ArrayPool<byte>.Shared.Rent(Math.Max(size, _maxBatchBytes));
        batch[0] = FormatVersion;
        _nodeId.CopyTo(batch, 1);
        int length = HeaderSize, records = 0;
        Work work = first;
        while (true)
        {
            batch[length] = (byte)work.Opcode;
            BinaryPrimitives.WriteInt32LittleEndian(batch.AsSpan(length + 1), work.Length);
            work.Buffer.AsSpan(0, work.Length).CopyTo(batch.AsSpan(length + RecordHeaderSize));
            length += RecordHeaderSize + work.Length;
            records++;
            Discard(work);
            if (!reader.TryPeek(out Work next) || next.Kind != WorkKind.Publish || !string.Equals(next.Topic, first.Topic, StringComparison.Ordinal)
                || length + RecordHeaderSize + next.Length > batch.Length || !reader.TryRead(out work))
                break;
        }

        if (!IsConnected)
        {
            Lost(batch, records);
            return;
        }

        ValueTask sent;
        try
        {
            sent = PublishAsync(first.Topic, batch.AsMemory(0, length));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Lost(batch, records);
            return;
        }

        if (sent.IsCompletedSuccessfully)
        {
            Interlocked.Add(ref _sent, records);
            ArrayPool<byte>.Shared.Return(batch);
            return;
        }

        inFlight[count++] = new InFlight(sent, batch, records);
    }

    /// <summary>Waits for the broker messages in flight, in order; returns 0.</summary>
    private async ValueTask<int> CompleteAsync(InFlight[] inFlight, int count)
    {
        for (int i = 0; i < count; i++)
        {
            InFlight sent = inFlight[i];
            inFlight[i] = default;
            try
            {
                await sent.Task.ConfigureAwait(false);
                Interlocked.Add(ref _sent, sent.Records);
                ArrayPool<byte>.Shared.Return(sent.Batch);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Lost(sent.Batch, sent.Records);
            }
        }

        return 0;
    }

    private void Lost(byte[] batch, int records)
    {
        Interlocked.Add(ref _dropped, records);
        ArrayPool<byte>.Shared.Return(batch);
    }

    /// <summary>Gives back a queued message's buffer and its place in the queue.</summary>
    private void Discard(Work work)
    {
        if (work.Buffer is not { } buffer)
            return;
        if (buffer.Length != SmallBuffer)
            ArrayPool<byte>.Shared.Return(buffer);
        else if (_spare.Count < MaxSpare)
            _spare.Enqueue(buffer);
        Interlocked.Decrement(ref _queued);
    }

    private enum WorkKind : byte { Publish, Subscribe, Unsubscribe, Reconnected }

    private readonly record struct Work(WorkKind Kind, string Topic, byte[]? Buffer, int Length, WebSocketOpcode Opcode);

    private readonly record struct InFlight(ValueTask Task, byte[] Batch, int Records);
}
