using System.Diagnostics;

namespace WsGen.Tests.Samples;

/// <summary>Headless Chromium on a page, with a profile of its own; disposing it ends the browser and removes the profile.</summary>
internal sealed class Chromium : IDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _profile;

    private Chromium(Process process, DirectoryInfo profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Opens <paramref name="url"/> in a new headless Chromium, with <paramref name="flags"/> added.</summary>
    public static Chromium Open(string url, params string[] flags)
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "no Chromium: install the Debian package chromium (.ci/run does)");
        var profile = Directory.CreateTempSubdirectory("wsgen-chromium-");
        var start = new ProcessStartInfo(chromium!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}" })
            start.ArgumentList.Add(flag);
        foreach (var flag in flags)
            start.ArgumentList.Add(flag);
        start.ArgumentList.Add(url);
        return new Chromium(Process.Start(start)!, profile);
    }

    public void Dispose()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _profile.Delete(recursive: true);
    }
}
