using Microsoft.Extensions.Hosting;

namespace WsGen;

/// <summary>Starts the registered <see cref="WebSocketServer"/> with the host and stops it with the host.</summary>
internal sealed class WsGenHostedService(WebSocketServer server) : IHostedService, IDisposable
{
    /// <summary>Binds and starts the loops; a taken port throws here, so the host does not start.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        server.Start();
        return Task.CompletedTask;
    }

    /// <summary>Closes every connection with 1001 and returns once the loops ended (the drain timeout bounds it), or
    /// when the host stops waiting (the loops then end on their own by the drain timeout).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var stopped = Task.Factory.StartNew(server.Stop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await stopped.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (stopped.IsCompleted)
            await stopped.ConfigureAwait(false);
    }

    public void Dispose() => server.Dispose();
}
