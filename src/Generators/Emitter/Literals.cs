using System.Globalization;
using Microsoft.CodeAnalysis.CSharp;

namespace WsGen.Generators;

/// <summary>C# literals for generated code.</summary>
internal static class Literals
{
    public static string String(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

    public static string Int(long value) => value.ToString("N0", CultureInfo.InvariantCulture).Replace(",", "_");
}
