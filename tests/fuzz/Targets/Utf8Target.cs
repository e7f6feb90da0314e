using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Unicode;
using WsGen.Protocol;

namespace WsGen.Fuzz.Targets;

/// <summary>
/// The UTF-8 validator, differentially against <see cref="Utf8.IsValid"/>. Input: a seed for the cuts, then the
/// bytes. Invariants: <see cref="Utf8Validator.IsValid"/> agrees with the BCL; the short-ASCII fast path says yes
/// exactly for all-ASCII text of at most 64 bytes; fed in pieces (each ending at a guard page),
/// <see cref="Utf8Validator.Append"/> fails exactly when the bytes so far can no longer begin valid UTF-8,
/// <see cref="Utf8Validator.IsInsideCodePoint"/> tells a cut sequence, and <see cref="Utf8Validator.Complete"/>
/// agrees with the BCL on the whole.
/// </summary>
internal sealed class Utf8Target : IFuzzTarget
{
    private readonly GuardedBuffer _guarded = new(1 << 20);

    public string Name => "utf8";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > _guarded.Capacity)
            return;

        // An empty input is validated too, so that every run covers some code (see Program.cs).
        var cuts = new Random(input.IsEmpty ? 0 : input[0]);
        ReadOnlySpan<byte> text = input.IsEmpty ? input : input.Slice(1);

        bool valid = Utf8.IsValid(text);
        Invariant.Check(Utf8Validator.IsValid(_guarded.Place(text)) == valid, $"IsValid disagrees with the BCL ({valid})");
        bool shortAscii = Utf8Validator.IsShortAscii(_guarded.Place(text));
        if (shortAscii)
            Invariant.Check(text.Length <= Utf8Validator.ShortAsciiLimit && Ascii.IsValid(text), "IsShortAscii said yes to non-ASCII or long text");
        else if (Vector128.IsHardwareAccelerated)
            Invariant.Check(text.Length > Utf8Validator.ShortAsciiLimit || !Ascii.IsValid(text), "IsShortAscii said no to short ASCII text");

        var validator = new Utf8Validator();
        bool ok = true;
        int position = 0;
        while (position < text.Length)
        {
            int length = Math.Min(text.Length - position, cuts.Next(4) switch { 0 => 1, 1 => cuts.Next(2, 5), 2 => cuts.Next(5, 40), _ => cuts.Next(40, 2000) });
            bool appended = validator.Append(_guarded.Place(text.Slice(position, length)));
            position += length;
            ReadOnlySpan<byte> soFar = text.Slice(0, position);
            bool canBegin = ok && Utf8Oracle.CanBegin(soFar);
            Invariant.Check(appended == canBegin, $"Append returned {appended} after {position} bytes; the bytes so far {(canBegin ? "can" : "cannot")} begin UTF-8");
            if (appended)
                Invariant.Check(validator.IsInsideCodePoint == !Utf8.IsValid(soFar), "IsInsideCodePoint is wrong");
            ok = appended;
        }

        Invariant.Check(validator.Complete() == valid, $"Complete returned {validator.Complete()}, the BCL says {valid}");
    }
}
