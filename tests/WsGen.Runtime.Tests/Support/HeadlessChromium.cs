using System.Diagnostics;

namespace WsGen.Tests;

/// <summary>Debian's Chromium, headless, on a page, with a profile of its own: killed and its profile removed on
/// <see cref="Dispose"/>. The real browser of the tests.</summary>
internal sealed class HeadlessChromium : IDisposable
{
    private readonly Process _browser;
    private readonly DirectoryInfo _profile;

    private HeadlessChromium(Process browser, DirectoryInfo profile)
    {
        _browser = browser;
        _profile = profile;
    }

    /// <summary>Opens <paramref name="url"/>, with <paramref name="flags"/> added (such as
    /// <c>--ignore-certificate-errors</c>); fails the test when no Chromium is installed.</summary>
    public static HeadlessChromium Open(string url, params string[] flags)
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "no Chromium: install the Debian package chromium (tests/install-peers.sh does)");
        var profile = Directory.CreateTempSubdirectory("wsgen-chromium-");
        var start = new ProcessStartInfo(chromium!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}" })
            start.ArgumentList.Add(flag);
        foreach (var flag in flags)
            start.ArgumentList.Add(flag);
        start.ArgumentList.Add(url);
        return new HeadlessChromium(Process.Start(start)!, profile);
    }

    public void Dispose()
    {
        _browser.Kill(entireProcessTree: true);
        _browser.WaitForExit();
        _browser.Dispose();
        _profile.Delete(recursive: true);
    }
}
