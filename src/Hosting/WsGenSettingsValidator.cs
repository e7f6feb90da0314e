using Microsoft.Extensions.Options;

namespace WsGen;

/// <summary>
/// Checks the <c>WsGen</c> section when the host starts, naming each wrong key with its value and what it must be, so
/// that a bad deployment fails at start rather than at the first connection.
/// </summary>
internal sealed class WsGenSettingsValidator : IValidateOptions<WsGenSettings>
{
    public ValidateOptionsResult Validate(string? name, WsGenSettings settings)
    {
        var failures = new List<string>();
        if (settings.Address is { } address && !WsGenSettings.TryParseAddress(address, out _))
            failures.Add($"WsGen:Address '{address}' is not an IP address (such as 127.0.0.1, 0.0.0.0 or ::) or 'localhost'.");
        if (settings.Port is { } port and (< 0 or > 65535))
            failures.Add($"WsGen:Port {port} is not between 0 and 65535 (0 picks a free port).");
        if (settings.Loop is { } loop && !WsGenSettings.LoopNames.ContainsKey(loop))
            failures.Add($"WsGen:Loop '{loop}' is not one of {string.Join(", ", WsGenSettings.LoopNames.Keys)}.");
        AtLeast(failures, "Loops", settings.Loops, 1);
        NotNegative(failures, "HandshakeTimeout", settings.HandshakeTimeout, allowZero: false);
        NotNegative(failures, "IdleTimeout", settings.IdleTimeout, allowZero: true);
        NotNegative(failures, "CloseTimeout", settings.CloseTimeout, allowZero: false);
        NotNegative(failures, "DrainTimeout", settings.DrainTimeout, allowZero: true);
        AtLeast(failures, "MaxHandshakeBytes", settings.MaxHandshakeBytes, 256);
        AtLeast(failures, "MaxHeaderCount", settings.MaxHeaderCount, 1);
        AtLeast(failures, "MaxConnections", settings.MaxConnections, 1);
        AtLeast(failures, "ReceiveBufferSize", settings.ReceiveBufferSize, 1024);
        AtLeast(failures, "PauseReadingThreshold", settings.PauseReadingThreshold, 0);
        AtLeast(failures, "MaxBackpressure", settings.MaxBackpressure, 1024);
        if (settings is { MaxBackpressure: { } max, PauseReadingThreshold: { } pause } && pause > max)
            failures.Add($"WsGen:PauseReadingThreshold {pause} is above WsGen:MaxBackpressure {max}: reading must pause before a connection is aborted.");
        CompressionKeys(failures, "", settings.Compression, settings.CompressionThreshold, settings.CompressionWindowBits);
        foreach (var (path, endpoint) in settings.Endpoints)
            CompressionKeys(failures, $"Endpoints:{path}:", endpoint.Compression, endpoint.CompressionThreshold, endpoint.CompressionWindowBits);
        if (settings.Tls is { } tls)
        {
            PemFile(failures, "CertificatePath", tls.CertificatePath);
            PemFile(failures, "KeyPath", tls.KeyPath);
            if (tls.Port is { } tlsPort and (< 0 or > 65535))
                failures.Add($"WsGen:Tls:Port {tlsPort} is not between 0 and 65535 (0 picks a free port).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CompressionKeys(List<string> failures, string prefix, string? mode, int? threshold, int? windowBits)
    {
        if (mode is not null && !WsGenSettings.TryParseCompression(mode, out _))
            failures.Add($"WsGen:{prefix}Compression '{mode}' is not one of {string.Join(", ", Enum.GetNames<WebSocketCompression>())}.");
        AtLeast(failures, prefix + "CompressionThreshold", threshold, 0);
        if (windowBits is { } bits and (< 9 or > 15))
            failures.Add($"WsGen:{prefix}CompressionWindowBits {bits} is not between 9 and 15.");
    }

    private static void PemFile(List<string> failures, string key, string? path)
    {
        if (string.IsNullOrEmpty(path))
            failures.Add($"WsGen:Tls:{key} is missing: TLS needs WsGen:Tls:CertificatePath and WsGen:Tls:KeyPath (PEM files).");
        else if (!File.Exists(path))
            failures.Add($"WsGen:Tls:{key} '{path}' is not a file (the working directory is {Environment.CurrentDirectory}).");
    }

    private static void AtLeast(List<string> failures, string key, long? value, long minimum)
    {
        if (value is { } v && v < minimum)
            failures.Add($"WsGen:{key} {v} is below its minimum, {minimum}.");
    }

    private static void NotNegative(List<string> failures, string key, TimeSpan? value, bool allowZero)
    {
        if (value is { } v && (v < TimeSpan.Zero || (!allowZero && v == TimeSpan.Zero)))
            failures.Add($"WsGen:{key} {v} must be {(allowZero ? "zero or more" : "more than zero")}.");
    }
}
