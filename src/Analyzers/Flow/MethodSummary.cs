namespace WsGen.Analyzers.Flow;

/// <summary>What a method does to the frame one of its parameters receives, on the paths that return normally.</summary>
internal sealed class ParameterSummary
{
    public ParameterSummary(ReleaseState release, bool readsPayload, bool settles)
    {
        Release = release;
        ReadsPayload = readsPayload;
        Settles = settles;
    }

    /// <summary><see cref="ReleaseState.NotReleased"/> (never), <see cref="ReleaseState.Maybe"/> (on some path)
    /// or <see cref="ReleaseState.Released"/> (on every path).</summary>
    public ReleaseState Release { get; }

    /// <summary>True when the method reads the payload (itself, or a Memory/Span taken from it) on some path.</summary>
    public bool ReadsPayload { get; }

    /// <summary>True when, on every path, the frame is released, stored, returned or handed on: the caller no
    /// longer has to release it.</summary>
    public bool Settles { get; }
}

/// <summary>
/// What a method of the compilation does to the frames it receives, one <see cref="ParameterSummary"/> per
/// frame parameter. A parameter without one is unknown: the frame is assumed handed on and not released, as
/// for a call into metadata.
/// </summary>
internal sealed class MethodSummary
{
    /// <summary>Nothing is known: every frame passed is handed on, never released.</summary>
    public static readonly MethodSummary Unknown = new(Array.Empty<ParameterSummary?>());

    /// <summary>Unknown because the method is recursive or calls (through summarized methods) a recursive one.</summary>
    public static readonly MethodSummary Recursive = new(Array.Empty<ParameterSummary?>());

    private readonly ParameterSummary?[] _parameters;

    public MethodSummary(ParameterSummary?[] parameters) => _parameters = parameters;

    /// <summary>The summary of the parameter at <paramref name="ordinal"/>, or null when it is unknown.</summary>
    public ParameterSummary? For(int ordinal) => ordinal < _parameters.Length ? _parameters[ordinal] : null;
}
