using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace WsGen.Tests.Architecture;

/// <summary>
/// The layers of src/Runtime (design.md, "Layers and folders"): a folder uses only folders below it, never one at its
/// own level or above. Checked from the source files by type usage, since many types share the namespace WsGen
/// whatever their folder: every top-level type is attributed to the folder that declares it, and a file that names a
/// type (or a namespace <c>WsGen.Folder</c>) of a folder it may not use is a violation.
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>The order, top to bottom: a folder may use the folders with a lower level. Folders on one level (Client
    /// and Server; Transport and Pools; Native and Api) do not use each other.</summary>
    public static readonly IReadOnlyDictionary<string, int> Levels = new Dictionary<string, int>
    {
        ["Client"] = 5,
        ["Server"] = 5,
        ["Reactor"] = 4,
        ["Transport"] = 3,
        ["Pools"] = 3,
        ["Protocol"] = 2,
        ["Native"] = 1,
        ["Api"] = 1,
    };

    /// <summary>
    /// Known violations, each a file (relative to src/Runtime) and the folder it may reach against the order, with the
    /// reason. An entry that no longer matches anything fails the test as well: remove it with the fix.
    /// </summary>
    public static readonly IReadOnlyList<(string File, string Folder, string Reason)> Allowed =
    [
    ];

    [Fact]
    public void Every_folder_of_the_runtime_uses_only_folders_below_it()
    {
        string runtime = Path.Combine(RepositoryRoot(), "src", "Runtime");
        var folders = new Dictionary<string, IReadOnlyList<SourceFile>>();
        foreach (string dir in Directory.GetDirectories(runtime).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir);
            var files = Directory.GetFiles(dir, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(path => new SourceFile(Path.GetRelativePath(runtime, path).Replace('\\', '/'), File.ReadAllText(path)))
                .ToList();
            if (name is "bin" or "obj" || files.Count == 0)
                continue;
            Assert.True(Levels.ContainsKey(name), $"src/Runtime/{name} is not in the layer order: add it to {nameof(Levels)} (and to design.md).");
            folders[name] = files;
        }
        Assert.Equal(Levels.Keys.Order(StringComparer.Ordinal), folders.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(runtime, "*.cs"));   // every source file is in a layer

        var violations = Check(folders);
        var unexplained = violations.Where(v => !Allowed.Any(a => a.File == v.File && a.Folder == v.Folder)).ToList();
        var stale = Allowed.Where(a => !violations.Any(v => v.File == a.File && v.Folder == a.Folder)).ToList();

        var report = new StringBuilder();
        foreach (var v in unexplained)
            report.AppendLine($"src/Runtime/{v.File} ({v.FromFolder}) uses {v.Name} of {v.Folder}/");
        foreach (var a in stale)
            report.AppendLine($"allowed but no longer used: src/Runtime/{a.File} -> {a.Folder}/ ({a.Reason}); remove the entry");
        Assert.True(report.Length == 0, "Layering (design.md: Client, Server > Reactor > Transport, Pools > Protocol > Native, Api):\n" + report);
    }

    [Fact]
    public void The_check_finds_types_and_namespaces_of_higher_and_sibling_folders_and_ignores_comments_strings_and_members()
    {
        var folders = new Dictionary<string, IReadOnlyList<SourceFile>>
        {
            ["Server"] = [new("Server/Host.cs", "namespace WsGen;\npublic sealed class Host { }\n")],
            ["Client"] = [new("Client/Peer.cs", "namespace WsGen;\ninternal sealed class Peer { Host? _host; }\n")],
            ["Reactor"] = [new("Reactor/Loop.cs", "namespace WsGen.Reactor;\ninternal sealed class Loop { private enum Phase { A } }\n")],
            ["Pools"] = [new("Pools/Pool.cs", "namespace WsGen;\ninternal readonly record struct Pool(int Size);\n")],
            ["Transport"] = [new("Transport/Conn.cs", "namespace WsGen;\ninternal struct Conn { Pool P; }\n")],
            ["Protocol"] =
            [
                new("Protocol/Reader.cs", """
                    using WsGen.Reactor;
                    namespace WsGen.Protocol;
                    /// <summary>Not a use: <see cref="Host"/>.</summary>
                    internal sealed class Reader
                    {
                        // Host in a comment, and "Loop" in a string, are not uses; neither are members named like types.
                        private readonly string _name = "Loop Host";
                        public int Phase;
                        public object Make() => new WsGen.Host();
                        public int Size(Reader r) => r.Phase;
                    }
                    """),
            ],
            ["Native"] = [],
            ["Api"] = [],
        };

        var found = Check(folders).Select(v => $"{v.File}: {v.Name} ({v.Folder})").Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(
        [
            "Client/Peer.cs: Host (Server)",
            "Protocol/Reader.cs: Host (Server)",
            "Protocol/Reader.cs: WsGen.Reactor (Reactor)",
            "Transport/Conn.cs: Pool (Pools)",
        ], found);
    }

    public sealed record SourceFile(string Path, string Text);

    public sealed record Violation(string File, string FromFolder, string Name, string Folder);

    /// <summary>Every use, in <paramref name="folders"/>' files, of a type or namespace that a folder may not use.</summary>
    public static List<Violation> Check(IReadOnlyDictionary<string, IReadOnlyList<SourceFile>> folders)
    {
        // The folder of every top-level type (nested types are reached through their outer type, which is checked).
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        var code = new Dictionary<SourceFile, string>();
        foreach (var (folder, files) in folders)
        {
            foreach (var file in files)
            {
                string text = StripCommentsAndLiterals(file.Text);
                code[file] = text;
                foreach (string type in TopLevelTypes(text))
                {
                    if (owner.TryGetValue(type, out var other) && other != folder)
                        throw new InvalidOperationException($"The type {type} is declared in {other}/ and in {folder}/.");
                    owner[type] = folder;
                }
            }
        }

        var violations = new List<Violation>();
        foreach (var (folder, files) in folders)
        {
            foreach (var file in files)
            {
                var reported = new HashSet<string>(StringComparer.Ordinal);
                foreach (Match chain in NameChain().Matches(code[file]))
                {
                    var parts = Regex.Split(chain.Value, @"\s*\.\s*");
                    // A chain qualified by WsGen names a namespace (WsGen.Reactor) and then possibly a type; any other
                    // chain starts with a type, a variable or a member, and only its first name can be a type here.
                    var candidates = new List<(string Name, string Folder)>();
                    if (parts[0] == "WsGen")
                    {
                        if (parts.Length > 1 && Levels.ContainsKey(parts[1]))
                            candidates.Add(("WsGen." + parts[1], parts[1]));
                        foreach (string part in parts.Skip(1))
                        {
                            if (owner.TryGetValue(part, out var typeFolder))
                            {
                                candidates.Add((part, typeFolder));
                                break;
                            }
                        }
                    }
                    else if (owner.TryGetValue(parts[0], out var typeFolder))
                    {
                        candidates.Add((parts[0], typeFolder));
                    }

                    foreach (var (name, target) in candidates)
                    {
                        if (target == folder || Levels[target] < Levels[folder] || !reported.Add(name))
                            continue;
                        violations.Add(new Violation(file.Path, folder, name, target));
                    }
                }
            }
        }
        return violations;
    }

    /// <summary>Names of types declared outside any other type (inside a namespace block, or under a file-scoped one).</summary>
    private static IEnumerable<string> TopLevelTypes(string code)
    {
        var declarations = TypeDeclaration().Matches(code).Where(m => m.Groups[1].Value is not ("where" or "new")).ToList();
        var openedByNamespace = new Stack<bool>();
        int statementStart = 0, next = 0;
        for (int i = 0; i < code.Length; i++)
        {
            while (next < declarations.Count && declarations[next].Index == i)
            {
                if (openedByNamespace.All(isNamespace => isNamespace))
                    yield return declarations[next].Groups[1].Value;
                next++;
            }
            switch (code[i])
            {
                case '{':
                    openedByNamespace.Push(code[statementStart..i].TrimStart().StartsWith("namespace", StringComparison.Ordinal));
                    statementStart = i + 1;
                    break;
                case '}':
                    if (openedByNamespace.Count > 0)
                        openedByNamespace.Pop();
                    statementStart = i + 1;
                    break;
                case ';':
                    statementStart = i + 1;
                    break;
            }
        }
    }

    /// <summary>The code with comments (doc comments too: a cref is not a dependency) and the contents of string and
    /// character literals removed.</summary>
    public static string StripCommentsAndLiterals(string s)
    {
        var output = new StringBuilder(s.Length);
        int i = 0;
        while (i < s.Length)
        {
            if (At(s, i, "//"))
            {
                while (i < s.Length && s[i] != '\n')
                    i++;
            }
            else if (At(s, i, "/*"))
            {
                int end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? s.Length : end + 2;
            }
            else if (At(s, i, "\"\"\""))
            {
                int quotes = 0;
                while (i + quotes < s.Length && s[i + quotes] == '"')
                    quotes++;
                string fence = new('"', quotes);
                int end = s.IndexOf(fence, i + quotes, StringComparison.Ordinal);
                i = end < 0 ? s.Length : end + quotes;
                output.Append("\"\"");
            }
            else if (At(s, i, "@\"") || At(s, i, "$@\"") || At(s, i, "@$\""))
            {
                i = s.IndexOf('"', i) + 1;
                while (i < s.Length && !(s[i] == '"' && !At(s, i, "\"\"")))
                    i += At(s, i, "\"\"") ? 2 : 1;
                i++;
                output.Append("\"\"");
            }
            else if (s[i] == '"')
            {
                i++;
                while (i < s.Length && s[i] != '"' && s[i] != '\n')
                    i += s[i] == '\\' ? 2 : 1;
                i++;
                output.Append("\"\"");
            }
            else if (s[i] == '\'' && CharLiteral().Match(s, i) is { Success: true } literal && literal.Index == i)
            {
                i += literal.Length;
                output.Append("' '");
            }
            else
            {
                output.Append(s[i]);
                i++;
            }
        }
        return output.ToString();
    }

    private static bool At(string s, int i, string token) => string.CompareOrdinal(s, i, token, 0, token.Length) == 0;

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record(?:\s+(?:struct|class))?)\s+([A-Za-z_]\w*)")]
    private static partial Regex TypeDeclaration();

    /// <summary>A name not preceded by a dot (so not a member access), with the names dotted onto it.</summary>
    [GeneratedRegex(@"(?<![\w.@])[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*")]
    private static partial Regex NameChain();

    [GeneratedRegex(@"'(?:\\[^']+|[^\\'])'")]
    private static partial Regex CharLiteral();

    /// <summary>The repository's root: the first folder above the test assembly that holds WsGen.sln, else the one
    /// above this source file.</summary>
    private static string RepositoryRoot([CallerFilePath] string sourceFile = "")
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WsGen.sln")))
                return dir.FullName;
        }
        for (var dir = new FileInfo(sourceFile).Directory; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WsGen.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("WsGen.sln was not found above " + AppContext.BaseDirectory);
    }
}
