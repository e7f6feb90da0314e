using System.ComponentModel;

namespace WsGen;

/// <summary>
/// The few runtime calls the code generated for <see cref="WebSocketEndpointAttribute"/> classes makes: building an
/// owned frame from a borrowed payload, and observing the <see cref="ValueTask"/> a handler returns.
/// </summary>
/// <remarks>For generated code, hidden from IntelliSense; hand-written code may call these too (they hold no state).</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedEndpoints
{
    /// <summary>
    /// An owned, final frame carrying a copy of <paramref name="payload"/>, for an <c>OnMessage(conn, WebSocketFrame)</c>
    /// handler. The copy lies in a buffer of <paramref name="pool"/>, which <see cref="WebSocketFrame.Release"/> gives
    /// back. Policy: when every buffer of the pool is in use (handlers keep more frames than the pool holds), or the
    /// payload is longer than a buffer, the frame is built over a new array instead; the message is never dropped and
    /// the connection is not failed, and Release() on such a frame only marks it released.
    /// </summary>
    public static WebSocketFrame CreateFrame(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, BytePool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        if (payload.Length <= pool.BufferSize && pool.TryGet(out var buffer))
        {
            payload.CopyTo(buffer.Span);
            return WebSocketFrames.Create(opcode, buffer[..payload.Length], fin: true, pool, buffer);
        }
        return WebSocketFrames.Create(opcode, payload.ToArray());
    }

    /// <summary>
    /// The service of type <typeparamref name="T"/> for a constructor parameter of the endpoint class
    /// <paramref name="endpoint"/>, from <paramref name="services"/>. Throws an <see cref="InvalidOperationException"/>
    /// that names the endpoint and the type when there is no container (the server was created without one) or the
    /// container has no such service.
    /// </summary>
    public static T GetService<T>(IServiceProvider? services, string endpoint) where T : notnull
    {
        if (services is null)
            throw new InvalidOperationException(
                $"The endpoint {endpoint} takes constructor parameters: create the server with a service provider (AddWsGen of WsGen.Hosting, or WsGenApp.CreateServer(options, services)).");
        return services.GetService(typeof(T)) is T service ? service
            : throw new InvalidOperationException($"The endpoint {endpoint} needs a {typeof(T)}, and no such service is registered.");
    }

    /// <summary>
    /// Observes the task a handler returned. A completed task costs nothing (a faulted one throws here, on the loop
    /// thread, where the loop passes the exception to OnError and closes the connection with 1011). A pending task is
    /// awaited; if it faults, the exception reaches the endpoint's OnError on the loop thread and the connection is
    /// closed with 1011 (when it is still open).
    /// </summary>
    public static void Observe(ValueTask task, WebSocketConnection conn)
    {
        if (task.IsCompleted)
        {
            task.GetAwaiter().GetResult();
            return;
        }
        _ = ObserveAsync(task, conn);
    }

    /// <summary>Observes the task an OnError handler returned: its own failure is dropped (there is nobody left to
    /// tell), so that a failing OnError cannot loop.</summary>
    public static void ObserveError(ValueTask task)
    {
        if (task.IsCompleted)
        {
            try
            {
                task.GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                // OnError failed; the connection is being failed with 1011 anyway.
            }
            return;
        }
        _ = ObserveErrorAsync(task);
    }

    private static async Task ObserveAsync(ValueTask task, WebSocketConnection conn)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            try
            {
                conn.HandlerFailedFromAnyThread(e);
            }
            catch (InvalidOperationException)
            {
                // The server stopped meanwhile: the connection is gone and OnClose was reported.
            }
        }
    }

    private static async Task ObserveErrorAsync(ValueTask task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // See ObserveError.
        }
    }
}
