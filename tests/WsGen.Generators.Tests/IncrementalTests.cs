using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace WsGen.Generators.Tests;

/// <summary>The pipeline caches: reruns after no change or an unrelated change report every tracked step Cached or
/// Unchanged, and no step output holds a symbol, a syntax node or a compilation.</summary>
public sealed class IncrementalTests
{
    private static readonly string[] TrackedSteps =
    [
        EndpointGenerator.Steps.Endpoints,
        EndpointGenerator.Steps.ValidEndpoints,
        EndpointGenerator.Steps.AllEndpoints,
        EndpointGenerator.Steps.Platform,
        EndpointGenerator.Steps.App,
    ];

    private const string Unrelated = """
        namespace Other;

        public class Helper
        {
            public int Compute() => 1;
        }
        """;

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun()
    {
        var compilation = GeneratorHarness.Compile([.. Declarations.Several, Unrelated]);
        var driver = GeneratorHarness.CreateDriver("linux-x64").RunGenerators(compilation);
        return (driver, compilation);
    }

    [Fact]
    public void ClonedCompilation_EveryStepCached()
    {
        var (driver, compilation) = FirstRun();
        var result = driver.RunGenerators(compilation.Clone()).GetRunResult().Results.Single();
        AssertAllCached(result);
    }

    [Fact]
    public void NewUnrelatedTree_EveryStepCached()
    {
        var (driver, compilation) = FirstRun();
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Added { void M() { } }", GeneratorHarness.ParseOptions, path: "Added.cs"));
        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();
        AssertAllCached(result);
    }

    [Fact]
    public void ChangedMethodBodyElsewhere_EveryStepCached()
    {
        var (driver, compilation) = FirstRun();
        var old = compilation.SyntaxTrees.Single(t => t.ToString().Contains("class Helper"));
        var changed = CSharpSyntaxTree.ParseText(Unrelated.Replace("=> 1;", "=> 2 + 40;"), GeneratorHarness.ParseOptions, path: old.FilePath);
        var result = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, changed)).GetRunResult().Results.Single();
        AssertAllCached(result);
    }

    [Fact]
    public void ChangedAttribute_RegeneratesOnlyThatEndpoint()
    {
        var (driver, compilation) = FirstRun();
        var old = compilation.SyntaxTrees.Single(t => t.ToString().Contains("class Keeper"));
        var changed = CSharpSyntaxTree.ParseText(old.ToString().Replace("2_000_000_000", "1_000"), GeneratorHarness.ParseOptions, path: old.FilePath);
        var result = driver.RunGenerators(compilation.ReplaceSyntaxTree(old, changed)).GetRunResult().Results.Single();

        var endpoints = result.TrackedSteps[EndpointGenerator.Steps.ValidEndpoints].SelectMany(s => s.Outputs).ToList();
        Assert.Single(endpoints, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(result.TrackedSteps[EndpointGenerator.Steps.App].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("1_000", result.GeneratedSources.Single(s => s.HintName == "Demo.Frames.Keeper.WsGenEndpoint.g.cs").SourceText.ToString());
    }

    [Fact]
    public void StepOutputs_HoldNoRoslynObjects()
    {
        var (driver, _) = FirstRun();
        var result = driver.GetRunResult().Results.Single();
        int walked = 0;
        foreach (var name in TrackedSteps)
        {
            Assert.True(result.TrackedSteps.ContainsKey(name), $"The step {name} was not tracked.");
            foreach (var step in result.TrackedSteps[name])
                foreach (var (value, _) in step.Outputs)
                    walked += Walk(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
        }
        Assert.True(walked > 10, "The walk visited almost nothing; the step outputs are not what the test expects.");
    }

    private static void AssertAllCached(GeneratorRunResult result)
    {
        foreach (var name in TrackedSteps)
        {
            Assert.True(result.TrackedSteps.TryGetValue(name, out var steps), $"The step {name} was not tracked.");
            foreach (var step in steps)
                foreach (var (_, reason) in step.Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                        $"The step {name} reported {reason}.");
        }
    }

    /// <summary>Fails on a Roslyn object anywhere in <paramref name="value"/>; returns how many values it visited.</summary>
    private static int Walk(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum)
            return 1;
        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or SyntaxTree,
            $"The step {step} outputs a {value.GetType().FullName}: models must not keep Roslyn objects.");
        if (!value.GetType().IsValueType && !seen.Add(value))
            return 0;
        int count = 1;
        if (value is IEnumerable items)
        {
            foreach (var item in items)
                count += Walk(item, step, seen);
            return count;
        }
        var type = value.GetType();
        foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            count += Walk(field.GetValue(value), step, seen);
        return count;
    }
}
