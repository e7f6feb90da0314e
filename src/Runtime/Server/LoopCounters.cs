namespace WsGen.Server;

/// <summary>
/// What one loop counts for the metrics, in plain fields of its own: the loop thread writes them, a metrics listener
/// reads them through the observable instruments of <see cref="ServerTelemetry"/> (so that a message costs two
/// additions and nothing is measured per message). Counts keyed by a close code or an HTTP status change only when a
/// connection closes or a handshake is refused, under a lock that the reader takes too.
/// </summary>
internal sealed class LoopCounters
{
    private long _messagesReceived;
    private long _bytesReceived;
    private long _messagesSent;
    private long _bytesSent;
    private long _publishDeliveries;
    private long _publishDrops;
    private readonly Dictionary<int, long> _closes = [];
    private readonly Dictionary<int, long> _rejections = [];

    /// <summary>Data messages delivered to the endpoints.</summary>
    public long MessagesReceived => Volatile.Read(ref _messagesReceived);

    /// <summary>Payload bytes of the messages delivered to the endpoints.</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>Data messages the endpoints sent.</summary>
    public long MessagesSent => Volatile.Read(ref _messagesSent);

    /// <summary>Payload bytes of the data frames the endpoints sent.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>Published messages written to subscribers (each subscriber's copy counts).</summary>
    public long PublishDeliveries => Volatile.Read(ref _publishDeliveries);

    /// <summary>Published messages not written to a subscriber past its endpoint's publish limit.</summary>
    public long PublishDrops => Volatile.Read(ref _publishDrops);

    /// <summary>A published message was written to a subscriber. On the loop thread.</summary>
    public void PublishDelivered() => Volatile.Write(ref _publishDeliveries, _publishDeliveries + 1);

    /// <summary>A published message was dropped for a slow subscriber. On the loop thread.</summary>
    public void PublishDropped() => Volatile.Write(ref _publishDrops, _publishDrops + 1);

    /// <summary>A message of <paramref name="length"/> bytes was delivered. On the loop thread.</summary>
    public void Received(int length)
    {
        Volatile.Write(ref _messagesReceived, _messagesReceived + 1);
        Volatile.Write(ref _bytesReceived, _bytesReceived + length);
    }

    /// <summary>A data frame of <paramref name="length"/> bytes was sent; <paramref name="final"/> when it ends its
    /// message. On the loop thread.</summary>
    public void Sent(int length, bool final)
    {
        if (final)
            Volatile.Write(ref _messagesSent, _messagesSent + 1);
        Volatile.Write(ref _bytesSent, _bytesSent + length);
    }

    /// <summary>A connection closed with <paramref name="code"/> (what its endpoint's OnClose was told).</summary>
    public void Closed(int code) => Increment(_closes, code);

    /// <summary>A handshake was refused with HTTP <paramref name="status"/>.</summary>
    public void Rejected(int status) => Increment(_rejections, status);

    /// <summary>Adds the closes so far, by code, to <paramref name="totals"/>.</summary>
    public void AddClosesTo(Dictionary<int, long> totals) => AddTo(_closes, totals);

    /// <summary>Adds the refused handshakes so far, by status, to <paramref name="totals"/>.</summary>
    public void AddRejectionsTo(Dictionary<int, long> totals) => AddTo(_rejections, totals);

    private static void Increment(Dictionary<int, long> counts, int key)
    {
        lock (counts)
        {
            counts.TryGetValue(key, out long n);
            counts[key] = n + 1;
        }
    }

    private static void AddTo(Dictionary<int, long> counts, Dictionary<int, long> totals)
    {
        lock (counts)
        {
            foreach (var (key, n) in counts)
            {
                totals.TryGetValue(key, out long sum);
                totals[key] = sum + n;
            }
        }
    }
}
