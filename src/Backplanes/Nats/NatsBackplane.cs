using System.Text;
using NATS.Client.Core;

namespace WsGen.Nats;

/// <summary>
/// A <see cref="WebSocketBackplane"/> over NATS core pub/sub (NATS.Net): each topic is a subject behind a prefix
/// (<c>wsgen.</c> then the topic, its bytes other than letters, digits, '-' and '_' written as %XX, since '.', '*',
/// '&gt;' and spaces mean something in a subject), which a node subscribes to while it has subscribers of the topic.
/// Every node of a cluster points at the same NATS server or cluster.
/// </summary>
/// <remarks>
/// Delivery is at most once (see <see cref="WebSocketBackplane"/>): a message published while NATS is unreachable is
/// dropped and counted, not buffered by the client for later. The client reconnects by itself with a delay of 250 ms
/// growing up to 5 s, for ever, and restores the node's subscriptions; each subject's messages are handled in order,
/// one at a time. A node whose messages arrive faster than it delivers them loses the newest past the client's pending
/// limit (NATS's slow-consumer rule).
/// </remarks>
/// <example>
/// <code>
/// var options = new WebSocketServerOptions { Backplane = new NatsBackplane("nats://127.0.0.1:4222") };
/// </code>
/// </example>
public sealed class NatsBackplane : WebSocketBackplane
{
    private readonly NatsOpts _options;
    private readonly string _prefix;
    private readonly Dictionary<string, INatsSub<NatsMemoryOwner<byte>>> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _subjects = new(StringComparer.Ordinal);
    private NatsConnection? _nats;

    /// <summary>A backplane through the NATS server at <paramref name="url"/> (<c>nats://host:port</c>, or several
    /// separated by commas), on subjects named <paramref name="subjectPrefix"/>, a dot, then the topic.</summary>
    public NatsBackplane(string url, string subjectPrefix = "wsgen")
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrEmpty(subjectPrefix);
        _options = NatsOpts.Default with
        {
            Url = url,
            Name = "wsgen",
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(250),
            ReconnectWaitMax = TimeSpan.FromSeconds(5),
        };
        _prefix = subjectPrefix + ".";
    }

    /// <inheritdoc/>
    protected override bool IsConnected => _nats?.ConnectionState == NatsConnectionState.Open;

    /// <inheritdoc/>
    protected override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var nats = new NatsConnection(_options);
        try
        {
            await nats.ConnectAsync().ConfigureAwait(false);
        }
        catch
        {
            await nats.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        nats.ConnectionOpened += (_, _) =>
        {
            OnReconnected();
            return ValueTask.CompletedTask;
        };
        _nats = nats;
    }

    /// <inheritdoc/>
    protected override async Task DisconnectAsync()
    {
        if (_nats is { } nats)
            await nats.DisposeAsync().ConfigureAwait(false);
        _nats = null;
    }

    /// <inheritdoc/>
    protected override async Task SubscribeAsync(string topic)
    {
        if (_subscriptions.ContainsKey(topic))
            return;
        INatsSub<NatsMemoryOwner<byte>> subscription = await _nats!.SubscribeCoreAsync<NatsMemoryOwner<byte>>(Subject(topic)).ConfigureAwait(false);
        _subscriptions.Add(topic, subscription);
        _ = ReadAsync(topic, subscription);
    }

    /// <summary>Hands the subscription's messages to the node, in order, until it ends.</summary>
    private async Task ReadAsync(string topic, INatsSub<NatsMemoryOwner<byte>> subscription)
    {
        await foreach (NatsMsg<NatsMemoryOwner<byte>> message in subscription.Msgs.ReadAllAsync().ConfigureAwait(false))
        {
            using NatsMemoryOwner<byte> data = message.Data;
            Receive(topic, data.Span);
        }
    }

    /// <inheritdoc/>
    protected override async Task UnsubscribeAsync(string topic)
    {
        if (_subscriptions.Remove(topic, out INatsSub<NatsMemoryOwner<byte>>? subscription))
            await subscription.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> message) =>
        _nats!.PublishAsync(Subject(topic), message);

    /// <summary>The subject of <paramref name="topic"/>, made once per topic (a few thousand kept).</summary>
    private string Subject(string topic)
    {
        if (_subjects.TryGetValue(topic, out string? subject))
            return subject;
        if (_subjects.Count >= 4096)
            _subjects.Clear();
        var builder = new StringBuilder(_prefix);
        foreach (byte b in Encoding.UTF8.GetBytes(topic))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_')
                builder.Append((char)b);
            else
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        subject = builder.ToString();
        _subjects.Add(topic, subject);
        return subject;
    }
}
