using WsGen.Native;
using WsGen.Transport;

namespace WsGen.Reactor;

/// <summary>
/// The remote addresses of a loop's connections by slot, beside the connections rather than in them: 8 bytes per
/// slot in pages (as <see cref="ConnectionTable{T}"/>), plus a dictionary for the few addresses that are not IPv4.
/// The idle connection object stays as small as it was.
/// </summary>
/// <remarks>Used on the loop thread. A slot's entry is written at every accept into it, so it needs no clearing.</remarks>
internal sealed class PeerAddresses
{
    private const int PageBits = ConnectionTable<object>.PageBits;
    private const int PageSize = 1 << PageBits;

    private ulong[]?[] _pages = new ulong[]?[8];
    private Dictionary<int, PeerAddress>? _others;

    /// <summary>Records the address of the connection accepted into <paramref name="slot"/>.</summary>
    internal void Set(int slot, PeerAddress address)
    {
        int page = slot >> PageBits;
        if (page >= _pages.Length)
            Array.Resize(ref _pages, Math.Max(page + 1, _pages.Length * 2));
        ulong[] items = _pages[page] ??= new ulong[PageSize];
        items[slot & (PageSize - 1)] = address.PackedV4;
        if (address.PackedV4 == 0 && !address.IsUnknown)
            (_others ??= [])[slot] = address;
        else
            _others?.Remove(slot);
    }

    /// <summary>The address recorded for <paramref name="slot"/>.</summary>
    internal PeerAddress Get(int slot)
    {
        ulong[]?[] pages = _pages;
        uint page = (uint)slot >> PageBits;
        if (page < (uint)pages.Length && pages[page] is { } items && items[slot & (PageSize - 1)] is var v4 and not 0)
            return PeerAddress.FromPacked(v4);
        return _others is not null && _others.TryGetValue(slot, out PeerAddress other) ? other : default;
    }

}

/// <summary>A connection that knows its remote address (a reactor loop's connection).</summary>
internal interface IPeerConn
{
    /// <summary>A new endpoint for the remote address, or null when it is unknown.</summary>
    System.Net.IPEndPoint? RemoteEndPoint { get; }

    /// <summary>The endpoint of the listener that accepted the connection, as bound, or null when unknown.</summary>
    System.Net.IPEndPoint? LocalEndPoint { get; }

    /// <summary>The remote address in its compact form.</summary>
    PeerAddress RemoteAddress { get; }
}
