using System.Runtime.InteropServices;

namespace WsGen.Fuzz;

/// <summary>
/// Memory whose last readable byte is followed by a page mapped with no access (Linux and macOS), so that a read or
/// write one byte past the data a parser is given faults at once instead of passing unnoticed. Bytes just before the
/// data are a canary that <see cref="Place"/>'s caller checks with <see cref="CanaryIntact"/>: a write before the start.
/// </summary>
internal sealed unsafe partial class GuardedBuffer
{
    private const int ProtRead = 1, ProtWrite = 2, ProtNone = 0;
    private const int MapPrivate = 0x02;
    private const int CanaryLength = 64;
    private const byte Canary = 0xA5;

    private readonly byte* _start;
    private readonly int _capacity;
    private int _placedLength;

    /// <summary>Maps <paramref name="capacity"/> bytes (rounded up to pages) and the guard page after them.</summary>
    public GuardedBuffer(int capacity)
    {
        int page = Environment.SystemPageSize;
        int data = (capacity + CanaryLength + page - 1) / page * page;
        nint mapAnonymous = OperatingSystem.IsMacOS() ? 0x1000 : 0x20;
        byte* region = (byte*)Mmap(0, (nuint)(data + page), ProtRead | ProtWrite, MapPrivate | (int)mapAnonymous, -1, 0);
        if (region == (byte*)-1)
            throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
        if (Mprotect((nint)(region + data), (nuint)page, ProtNone) != 0)
            throw new InvalidOperationException($"mprotect failed: errno {Marshal.GetLastPInvokeError()}");
        _start = region;
        _capacity = data - CanaryLength;
    }

    /// <summary>The most bytes <see cref="Place"/> takes.</summary>
    public int Capacity => _capacity;

    /// <summary>Copies <paramref name="data"/> so that its last byte is the last byte before the guard page, fills the
    /// canary in front of it, and returns the copy.</summary>
    public Span<byte> Place(ReadOnlySpan<byte> data)
    {
        if (data.Length > _capacity)
            throw new ArgumentException("More data than the guarded buffer holds.", nameof(data));
        byte* end = _start + _capacity + CanaryLength;
        new Span<byte>(end - data.Length - CanaryLength, CanaryLength).Fill(Canary);
        var placed = new Span<byte>(end - data.Length, data.Length);
        data.CopyTo(placed);
        _placedLength = data.Length;
        return placed;
    }

    /// <summary>True when nothing wrote into the bytes just before the data last placed.</summary>
    public bool CanaryIntact()
    {
        byte* end = _start + _capacity + CanaryLength;
        return !new ReadOnlySpan<byte>(end - _placedLength - CanaryLength, CanaryLength).ContainsAnyExcept(Canary);
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int protection);
}
