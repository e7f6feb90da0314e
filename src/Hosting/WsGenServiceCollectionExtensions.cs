using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WsGen;

/// <summary>Runs a WsGen server under the .NET Generic Host.</summary>
public static class WsGenServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="WebSocketServer"/> (a singleton) and a hosted service that starts it with the host and
    /// stops it with the host.
    /// </summary>
    /// <remarks>
    /// <para><paramref name="createServer"/> makes the server: <c>WsGenApp.CreateServer</c> for the
    /// <c>[WebSocketEndpoint]</c> classes of the application (their constructors' parameters come from the container),
    /// or a lambda that maps endpoints by hand. It is given options carrying the host's <see cref="ILoggerFactory"/>
    /// and <see cref="IMeterFactory"/>; the <c>WsGen</c> configuration section is applied after it (so configuration
    /// overrides the values the generated code takes from the attributes), then <paramref name="configure"/>.</para>
    /// <para>Start binds the listeners: a taken port or an invalid <c>WsGen</c> section (checked with messages that
    /// name each wrong key) fails the host's start. Stop closes every connection with 1001 and waits for the close
    /// handshakes, at most <see cref="WebSocketServerOptions.DrainTimeout"/>, which is kept within four fifths of the
    /// host's <see cref="HostOptions.ShutdownTimeout"/>.</para>
    /// </remarks>
    /// <example>
    /// <code>
    /// var builder = Host.CreateApplicationBuilder(args);
    /// builder.Services.AddWsGen(WsGenApp.CreateServer);
    /// builder.Build().Run();
    /// </code>
    /// </example>
    public static IServiceCollection AddWsGen(this IServiceCollection services,
        Func<WebSocketServerOptions, IServiceProvider, WebSocketServer> createServer, Action<WebSocketServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(createServer);
        services.AddOptions<WsGenSettings>().BindConfiguration(WsGenSettings.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WsGenSettings>, WsGenSettingsValidator>();
        services.AddSingleton(provider =>
        {
            var options = new WebSocketServerOptions
            {
                LoggerFactory = provider.GetService<ILoggerFactory>(),
                MeterFactory = provider.GetService<IMeterFactory>(),
            };
            var server = createServer(options, provider);
            var settings = provider.GetRequiredService<IOptions<WsGenSettings>>().Value;
            settings.ApplyTo(options);
            settings.ApplyTo(server);
            configure?.Invoke(options);
            // The drain ends within the host's shutdown timeout, with a fifth of it left for the loops to exit.
            var shutdown = provider.GetService<IOptions<HostOptions>>()?.Value.ShutdownTimeout;
            if (shutdown is { } timeout && options.DrainTimeout > timeout * 0.8)
                options.DrainTimeout = timeout * 0.8;
            return server;
        });
        services.AddHostedService<WsGenHostedService>();
        return services;
    }
}
