using System.Text;

namespace WsGen.Generators;

/// <summary>Writes source text line by line with four-space indentation and '\n' line ends (deterministic on every OS).</summary>
internal sealed class IndentedWriter
{
    private readonly StringBuilder _text = new();
    private int _depth;

    public void Line(string line = "")
    {
        if (line.Length > 0)
            _text.Append(' ', _depth * 4).Append(line);
        _text.Append('\n');
    }

    /// <summary>Writes <c>{</c> and indents.</summary>
    public void Open()
    {
        Line("{");
        _depth++;
    }

    /// <summary>Unindents and writes <c>}</c> followed by <paramref name="suffix"/>.</summary>
    public void Close(string suffix = "")
    {
        _depth--;
        Line("}" + suffix);
    }

    public void Indent() => _depth++;

    public void Unindent() => _depth--;

    public override string ToString() => _text.ToString();
}
