using System.Runtime.CompilerServices;

namespace WsGen.Generators.Tests;

/// <summary>
/// Compares generated text with a file under Baselines/. With the environment variable
/// <see cref="UpdateVariable"/>=1 the file is (re)written instead, and the test passes.
/// </summary>
internal static class Baseline
{
    public const string UpdateVariable = "WSGEN_UPDATE_BASELINES";

    public static void Verify(string name, string actual, [CallerFilePath] string callerPath = "")
    {
        string path = Path.Combine(Path.GetDirectoryName(callerPath)!, "Baselines", name);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path),
            $"The baseline {path} does not exist. Review the generated output and run the tests with {UpdateVariable}=1 to write it.");
        string expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(expected == actual,
            $"The generated code differs from {path}. If the change is intended, rerun with {UpdateVariable}=1 and review the diff.\n" +
            FirstDifference(expected, actual));
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string left = i < e.Length ? e[i] : "<end>";
            string right = i < a.Length ? a[i] : "<end>";
            if (left != right)
                return $"Line {i + 1}:\n  baseline:  {left}\n  generated: {right}";
        }
        return "";
    }
}
