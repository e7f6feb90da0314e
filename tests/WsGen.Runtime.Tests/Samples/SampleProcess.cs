using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace WsGen.Tests.Samples;

/// <summary>Runs a sample as its own process (the test project references the samples, so their builds sit next to
/// the tests) on a free port, and reads the address it printed.</summary>
internal sealed partial class SampleProcess : IDisposable
{
    private readonly Process _process;

    private SampleProcess(Process process, IPEndPoint endPoint)
    {
        _process = process;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Sends the POSIX signal <paramref name="signal"/> (TERM, INT ...) to the sample, as systemd or a
    /// terminal would.</summary>
    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the sample to exit; its exit code, or null if it still runs.</summary>
    public int? WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout) ? _process.ExitCode : null;

    public static SampleProcess Start(string sample, params string[] args)
    {
        var process = Process.Start(StartInfo(sample, ["--port", "0", .. args]))!;
        var line = Task.Run(process.StandardOutput.ReadLine);
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result is null)
        {
            process.Kill();
            throw new Xunit.Sdk.XunitException($"{sample} did not start: {process.StandardError.ReadToEnd()}");
        }
        var match = Address().Match(line.Result);
        Assert.True(match.Success, $"{sample} printed no address: {line.Result}");
        return new SampleProcess(process, IPEndPoint.Parse(match.Value));
    }

    /// <summary>Runs a sample that is expected to exit by itself (within 30 s) and returns its exit code and output.</summary>
    public static (int ExitCode, string Output, string Error) RunToExit(string sample, params string[] args)
    {
        using var process = Process.Start(StartInfo(sample, args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{sample} did not exit: {string.Join(' ', args)}");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    private static ProcessStartInfo StartInfo(string sample, string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, sample + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project should reference samples/{sample}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        return start;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"127\.0\.0\.1:\d+")]
    private static partial Regex Address();
}
