namespace WsGen.Fuzz;

/// <summary>Thrown when a target's invariant does not hold: SharpFuzz reports the input to afl-fuzz as a crash.</summary>
internal sealed class InvariantException(string message) : Exception(message);

internal static class Invariant
{
    /// <summary>Throws <see cref="InvariantException"/> with <paramref name="what"/> unless <paramref name="holds"/>.</summary>
    public static void Check(bool holds, string what)
    {
        if (!holds)
            throw new InvariantException(what);
    }
}
