using Microsoft.CodeAnalysis;

namespace WsGen.Analyzers.Flow;

/// <summary>Whether a frame has been released, at one program point.</summary>
internal enum ReleaseState : byte
{
    /// <summary>The frame is null here: nothing can be read from it, so this path does not count.</summary>
    Null,

    /// <summary>Not released on any path reaching this point.</summary>
    NotReleased,

    /// <summary>Released on every path reaching this point.</summary>
    Released,

    /// <summary>Released on some paths only.</summary>
    Maybe,
}

/// <summary>What a tracked variable holds: a frame, or a Memory/Span derived from a frame's payload.</summary>
internal enum EntryKind : byte
{
    Frame,
    Derived,
}

/// <summary>
/// The identity of one frame object. Variables with equal groups hold the same frame (aliases), so a
/// Release() through one updates all. A group is either a site (the operation or parameter that produced
/// the frame) or a merge: made where paths with different frames join, and known to alias nothing else.
/// </summary>
internal sealed class Group : IEquatable<Group>
{
    private Group(object anchor, object? key, bool merged)
    {
        Anchor = anchor;
        Key = key;
        IsMerged = merged;
    }

    public object Anchor { get; }

    public object? Key { get; }

    /// <summary>True when the group stands for "one of several frames": what happens to it says nothing
    /// certain about any other variable.</summary>
    public bool IsMerged { get; }

    public static Group Site(object site) => new(site, null, merged: false);

    public static Group Merge(object anchor, object key) => new(anchor, key, merged: true);

    public bool Equals(Group? other) =>
        other is not null && IsMerged == other.IsMerged && SymbolAwareEquals(Anchor, other.Anchor) && SymbolAwareEquals(Key, other.Key);

    public override bool Equals(object? obj) => Equals(obj as Group);

    public override int GetHashCode() => (KeyComparer.Instance.GetHashCode(Anchor) * 31) ^ (Key is null ? 0 : KeyComparer.Instance.GetHashCode(Key));

    private static bool SymbolAwareEquals(object? a, object? b) =>
        a is null ? b is null : b is not null && KeyComparer.Instance.Equals(a, b);
}

/// <summary>What the analysis knows about one variable (local, parameter or flow capture).</summary>
internal readonly struct Entry : IEquatable<Entry>
{
    public Entry(EntryKind kind, Group group, ReleaseState state, IOperation? releaseSite, object? origin, bool unsettled)
    {
        Kind = kind;
        Group = group;
        State = state;
        ReleaseSite = releaseSite;
        Origin = origin;
        Unsettled = unsettled;
    }

    public EntryKind Kind { get; }

    public Group Group { get; }

    public ReleaseState State { get; }

    /// <summary>The Release() invocation that released the frame, when exactly one can have.</summary>
    public IOperation? ReleaseSite { get; }

    /// <summary>For a frame the analyzed method owns: the ReadFrame() invocation or the OnMessage parameter.</summary>
    public object? Origin { get; }

    /// <summary>True when, on some path, the owned frame has been neither released nor handed on.</summary>
    public bool Unsettled { get; }

    public Entry With(ReleaseState state, IOperation? releaseSite, bool unsettled) => new(Kind, Group, state, releaseSite, Origin, unsettled);

    public Entry WithUnsettled(bool unsettled) => new(Kind, Group, State, ReleaseSite, Origin, unsettled);

    public Entry AsDerived() => new(EntryKind.Derived, Group, State, ReleaseSite, null, false);

    public Entry Detached(object anchor, object key) => new(Kind, Group.Merge(anchor, key), State, ReleaseSite, null, false);

    public bool Equals(Entry other) =>
        Kind == other.Kind && State == other.State && Unsettled == other.Unsettled && Group.Equals(other.Group)
        && ReferenceEquals(ReleaseSite, other.ReleaseSite) && Equals(Origin, other.Origin);

    public override bool Equals(object? obj) => obj is Entry other && Equals(other);

    public override int GetHashCode() => Group.GetHashCode() ^ ((int)State << 2);

    /// <summary>The entry at a join point of two paths. Null when the variable cannot be tracked further.</summary>
    public static Entry? Join(Entry a, Entry b, object anchor, object key)
    {
        if (a.Kind != b.Kind)
            return null;
        if (a.Equals(b))
            return a;
        var group = a.Group.Equals(b.Group) ? a.Group : Group.Merge(anchor, key);
        ReleaseState state;
        IOperation? site;
        if (a.State == ReleaseState.Null)
            (state, site) = (b.State, b.ReleaseSite);
        else if (b.State == ReleaseState.Null)
            (state, site) = (a.State, a.ReleaseSite);
        else
        {
            state = a.State == b.State ? a.State : ReleaseState.Maybe;
            site = ReferenceEquals(a.ReleaseSite, b.ReleaseSite) ? a.ReleaseSite : null;
        }
        // A null frame owns nothing: the other path decides what the method owns.
        var (origin, unsettled) = a.State == ReleaseState.Null ? (b.Origin, b.Unsettled)
            : b.State == ReleaseState.Null ? (a.Origin, a.Unsettled)
            : Equals(a.Origin, b.Origin) ? (a.Origin, a.Unsettled || b.Unsettled)
            : (null, false);
        return new Entry(a.Kind, group, state, site, origin, origin is not null && unsettled);
    }
}

/// <summary>The state key of one element of a container the method holds in a local: a tuple element (by its
/// ItemN name) or an element of an array the method created (by its constant index).</summary>
internal sealed class ElementKey : IEquatable<ElementKey>
{
    public ElementKey(ILocalSymbol container, object index)
    {
        Container = container;
        Index = index;
    }

    public ILocalSymbol Container { get; }

    public object Index { get; }

    public bool Equals(ElementKey? other) =>
        other is not null && SymbolEqualityComparer.Default.Equals(Container, other.Container) && Index.Equals(other.Index);

    public override bool Equals(object? obj) => Equals(obj as ElementKey);

    public override int GetHashCode() => (SymbolEqualityComparer.Default.GetHashCode(Container) * 31) ^ Index.GetHashCode();
}

/// <summary>Compares state keys: symbols by symbol equality, flow captures and operations by value.</summary>
internal sealed class KeyComparer : IEqualityComparer<object>
{
    public static readonly KeyComparer Instance = new();

    public new bool Equals(object? x, object? y) =>
        x is ISymbol sx ? y is ISymbol sy && SymbolEqualityComparer.Default.Equals(sx, sy) : object.Equals(x, y);

    public int GetHashCode(object obj) => obj is ISymbol symbol ? SymbolEqualityComparer.Default.GetHashCode(symbol) : obj.GetHashCode();
}

/// <summary>The analysis state at one program point: what is known about each tracked variable.</summary>
internal sealed class FlowState : IEquatable<FlowState>
{
    private readonly Dictionary<object, Entry> _entries;

    public FlowState() => _entries = new Dictionary<object, Entry>(KeyComparer.Instance);

    private FlowState(Dictionary<object, Entry> entries) => _entries = new Dictionary<object, Entry>(entries, KeyComparer.Instance);

    public IEnumerable<KeyValuePair<object, Entry>> Entries => _entries;

    public FlowState Clone() => new(_entries);

    public bool TryGet(object key, out Entry entry) => _entries.TryGetValue(key, out entry);

    public void Set(object key, Entry entry) => _entries[key] = entry;

    public void Remove(object key) => _entries.Remove(key);

    /// <summary>Applies <paramref name="update"/> to every entry of <paramref name="group"/>.</summary>
    public void UpdateGroup(Group group, Func<Entry, Entry> update)
    {
        List<object>? keys = null;
        foreach (var pair in _entries)
        {
            if (pair.Value.Group.Equals(group))
                (keys ??= new List<object>()).Add(pair.Key);
        }
        if (keys is null)
            return;
        foreach (var key in keys)
            _entries[key] = update(_entries[key]);
    }

    /// <summary>Applies <paramref name="update"/> to every entry.</summary>
    public void UpdateAll(Func<Entry, Entry> update)
    {
        foreach (var key in _entries.Keys.ToList())
            _entries[key] = update(_entries[key]);
    }

    /// <summary>Forgets every variable whose key matches <paramref name="predicate"/>.</summary>
    public void RemoveWhere(Func<object, bool> predicate)
    {
        List<object>? keys = null;
        foreach (var key in _entries.Keys)
        {
            if (predicate(key))
                (keys ??= new List<object>()).Add(key);
        }
        if (keys is null)
            return;
        foreach (var key in keys)
            _entries.Remove(key);
    }

    /// <summary>Forgets every variable of <paramref name="group"/>: from here on the analysis stays silent about it.</summary>
    public void RemoveGroup(Group group)
    {
        foreach (var key in _entries.Where(p => p.Value.Group.Equals(group)).Select(p => p.Key).ToList())
            _entries.Remove(key);
    }

    /// <summary>Joins <paramref name="other"/> into this state (the paths meet at <paramref name="anchor"/>).
    /// A variable known on only one side is dropped.</summary>
    public static FlowState Join(FlowState a, FlowState b, object anchor)
    {
        var result = new FlowState();
        foreach (var pair in a._entries)
        {
            if (b._entries.TryGetValue(pair.Key, out var other) && Entry.Join(pair.Value, other, anchor, pair.Key) is { } joined)
                result._entries[pair.Key] = joined;
        }
        return result;
    }

    public bool Equals(FlowState? other)
    {
        if (other is null || other._entries.Count != _entries.Count)
            return false;
        foreach (var pair in _entries)
        {
            if (!other._entries.TryGetValue(pair.Key, out var entry) || !entry.Equals(pair.Value))
                return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as FlowState);

    public override int GetHashCode() => _entries.Count;
}
