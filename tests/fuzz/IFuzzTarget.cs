namespace WsGen.Fuzz;

/// <summary>One fuzz target: a parser fed one input, its invariants checked (a broken one throws).</summary>
internal interface IFuzzTarget
{
    /// <summary>The name run.sh and the corpus folder use.</summary>
    string Name { get; }

    /// <summary>Runs the parser on <paramref name="input"/>; throws <see cref="InvariantException"/> (or whatever the
    /// parser threw) when something is wrong.</summary>
    void Run(ReadOnlySpan<byte> input);
}
