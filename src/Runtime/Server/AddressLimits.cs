using System.Collections.Concurrent;
using System.Net;
using WsGen.Transport;

namespace WsGen.Server;

/// <summary>
/// The per-address abuse limits (<see cref="WebSocketServerOptions.MaxConnectionsPerAddress"/>,
/// <see cref="WebSocketServerOptions.MaxHandshakesPerSecondPerAddress"/>), one table shared by every loop of a server:
/// per client address (port left out), its admitted connections and a token bucket of handshakes.
/// </summary>
/// <remarks>
/// <para>Touched once per handshake and once when an admitted connection goes, never per message; each entry has its
/// own lock, so loops contend only on the same address. The bucket holds up to one second of handshakes and refills
/// continuously.</para>
/// <para>An entry goes once its address has no connection left and a full bucket: at once when the last connection
/// leaves with the bucket full, or at a later <see cref="Sweep"/> (each loop calls it once a second). A removed entry
/// is marked, and a handshake that found it just before retries with a fresh one, so no count is ever lost.</para>
/// </remarks>
internal sealed class AddressLimits
{
    private readonly ConcurrentDictionary<Key, Entry> _entries = new();
    private readonly int _maxConnections;
    private readonly int _perSecond;

    /// <summary>Limits of <paramref name="maxConnections"/> connections and <paramref name="perSecond"/> handshakes a
    /// second per address; 0 turns either off.</summary>
    internal AddressLimits(int maxConnections, int perSecond)
    {
        _maxConnections = maxConnections;
        _perSecond = perSecond;
    }

    /// <summary>The limits of <paramref name="options"/>, or null when both are off.</summary>
    internal static AddressLimits? Of(WebSocketServerOptions options) =>
        options.MaxConnectionsPerAddress > 0 || options.MaxHandshakesPerSecondPerAddress > 0
            ? new AddressLimits(options.MaxConnectionsPerAddress, options.MaxHandshakesPerSecondPerAddress)
            : null;

    /// <summary>One clock for every loop (the fake loop of the tests keeps its own, which need not advance).</summary>
    private static long Now => Environment.TickCount64;

    /// <summary>Addresses the table holds now (for tests: none once every client left and its bucket refilled).</summary>
    internal int Count => _entries.Count;

    /// <summary>Admits a handshake from <paramref name="address"/>: takes a token and counts a connection in the
    /// address's <paramref name="entry"/>, which the connection gives to <see cref="Release"/> when it goes (an entry
    /// with connections is never removed). False (nothing taken) past either limit. An unknown address is not limited
    /// (true, no entry).</summary>
    internal bool TryAdmit(PeerAddress address, out Entry? entry)
    {
        long now = Now;
        entry = null;
        if (address.IsUnknown)
            return true;
        var key = Key.Of(address);
        while (true)
        {
            var found = _entries.GetOrAdd(key, static (key, limits) => new Entry(key, limits._perSecond, Now), this);
            lock (found)
            {
                if (found.Removed)
                    continue;
                found.Refill(now, _perSecond);
                if (_maxConnections > 0 && found.Connections >= _maxConnections)
                    return false;
                if (_perSecond > 0)
                {
                    if (found.Tokens < 1)
                        return false;
                    found.Tokens--;
                }

                found.Connections++;
                entry = found;
                return true;
            }
        }
    }

    /// <summary>A connection <see cref="TryAdmit"/> counted in <paramref name="entry"/> went away.</summary>
    internal void Release(Entry entry)
    {
        long now = Now;
        lock (entry)
        {
            entry.Connections--;
            TryRemove(entry, now);
        }
    }

    /// <summary>Removes the entries of addresses with no connection and a full bucket.</summary>
    internal void Sweep()
    {
        long now = Now;
        foreach (var entry in _entries.Values)
        {
            lock (entry)
                TryRemove(entry, now);
        }
    }

    /// <summary>Under the entry's lock.</summary>
    private void TryRemove(Entry entry, long now)
    {
        entry.Refill(now, _perSecond);
        if (entry.Removed || entry.Connections > 0 || entry.Tokens < _perSecond)
            return;
        entry.Removed = true;
        _entries.TryRemove(new KeyValuePair<Key, Entry>(entry.Key, entry));
    }

    /// <summary>A client address without its port: IPv4 packed, any other family as its <see cref="IPAddress"/>.</summary>
    internal readonly record struct Key(ulong V4, IPAddress? Other)
    {
        internal static Key Of(PeerAddress address)
        {
            var host = address.WithoutPort();
            return host.PackedV4 != 0 ? new Key(host.PackedV4, null) : new Key(0, host.ToEndPoint()!.Address);
        }
    }

    /// <summary>One address's connections and handshake tokens, under its own lock.</summary>
    internal sealed class Entry(Key key, int perSecond, long now)
    {
        public readonly Key Key = key;
        public int Connections;
        public double Tokens = perSecond;
        public long RefilledAt = now;
        public bool Removed;

        /// <summary>Adds the tokens earned since the last refill, up to one second's worth.</summary>
        public void Refill(long now, int perSecond)
        {
            if (now > RefilledAt)
            {
                Tokens = Math.Min(perSecond, Tokens + ((now - RefilledAt) * perSecond / 1000.0));
                RefilledAt = now;
            }
        }
    }
}
