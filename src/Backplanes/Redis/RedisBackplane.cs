using StackExchange.Redis;

namespace WsGen.Redis;

/// <summary>
/// A <see cref="WebSocketBackplane"/> over Redis pub/sub (StackExchange.Redis): each topic is the Redis channel of
/// its name behind a prefix (<c>wsgen:</c> by default), which a node subscribes to while it has subscribers of the
/// topic. Every node of a cluster points at the same Redis server.
/// </summary>
/// <remarks>
/// Delivery is at most once (see <see cref="WebSocketBackplane"/>): a message published while Redis is unreachable
/// is dropped and counted, not queued for later (the client runs with <see cref="BacklogPolicy.FailFast"/>). The
/// client reconnects by itself with an exponential delay (250 ms doubling up to 5 s) and resubscribes the node's
/// channels; each channel's messages are handled in order, one at a time.
/// </remarks>
/// <example>
/// <code>
/// var options = new WebSocketServerOptions { Backplane = new RedisBackplane("127.0.0.1:6379") };
/// </code>
/// </example>
public sealed class RedisBackplane : WebSocketBackplane
{
    private readonly ConfigurationOptions _configuration;
    private readonly string _prefix;
    private readonly Dictionary<string, ChannelMessageQueue> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RedisChannel> _channels = new(StringComparer.Ordinal);
    private ConnectionMultiplexer? _redis;
    private ISubscriber? _subscriber;

    /// <summary>A backplane through the Redis server(s) of <paramref name="configuration"/> (StackExchange.Redis's
    /// configuration string: <c>host:port</c>, with options such as <c>password=...</c> or <c>ssl=true</c>), on channels
    /// named <paramref name="channelPrefix"/> followed by the topic.</summary>
    public RedisBackplane(string configuration, string channelPrefix = "wsgen:")
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(channelPrefix);
        _configuration = ConfigurationOptions.Parse(configuration);
        _configuration.AbortOnConnectFail = false;
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
        _configuration.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
        _configuration.ClientName ??= "wsgen";
        _prefix = channelPrefix;
    }

    /// <inheritdoc/>
    protected override bool IsConnected => _subscriber?.IsConnected() == true;

    /// <inheritdoc/>
    protected override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        // Without AbortOnConnectFail this returns even when Redis is down; the multiplexer keeps trying.
        var redis = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
        redis.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
                OnReconnected();
        };
        _subscriber = redis.GetSubscriber();
        _redis = redis;
    }

    /// <inheritdoc/>
    protected override async Task DisconnectAsync()
    {
        if (_redis is { } redis)
            await redis.DisposeAsync().ConfigureAwait(false);
        _redis = null;
        _subscriber = null;
    }

    /// <inheritdoc/>
    protected override async Task SubscribeAsync(string topic)
    {
        if (_subscriptions.ContainsKey(topic))
            return;
        RedisChannel channel = Channel(topic);
        ChannelMessageQueue queue;
        try
        {
            queue = await _subscriber!.SubscribeAsync(channel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The client registers a queue before it asks the server: forget it, or the client would restore it by
            // itself after a reconnect beside the one the next attempt makes, and every message would arrive twice.
            await ForgetAsync(channel).ConfigureAwait(false);
            throw;
        }

        queue.OnMessage(message => Receive(topic, ((ReadOnlyMemory<byte>)message.Message).Span));
        _subscriptions.Add(topic, queue);
    }

    private async Task ForgetAsync(RedisChannel channel)
    {
        try
        {
            await _subscriber!.UnsubscribeAsync(channel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Unreachable still: the client forgot the channel before it asked the server.
        }
    }

    /// <inheritdoc/>
    protected override async Task UnsubscribeAsync(string topic)
    {
        if (_subscriptions.Remove(topic, out ChannelMessageQueue? queue))
            await queue.UnsubscribeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> message) =>
        new(_subscriber!.PublishAsync(Channel(topic), message));

    /// <summary>The channel of <paramref name="topic"/>, made once per topic (a few thousand kept).</summary>
    private RedisChannel Channel(string topic)
    {
        if (_channels.TryGetValue(topic, out RedisChannel channel))
            return channel;
        if (_channels.Count >= 4096)
            _channels.Clear();
        channel = RedisChannel.Literal(_prefix + topic);
        _channels.Add(topic, channel);
        return channel;
    }
}
