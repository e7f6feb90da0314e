using System.Net;

namespace WsGen;

/// <summary>A reactor that also listens: accepted connections are registered with its handler.</summary>
internal interface IServerReactor : IReactor, IEventLoop
{
    /// <summary>Starts listening on <paramref name="endPoint"/> and returns the bound endpoint (port 0 becomes the
    /// real port). May be called before <see cref="IReactor.Run"/>, or on the loop thread. With
    /// <paramref name="transform"/>, every connection this listener accepts gets the byte transform it makes (TLS),
    /// attached before <see cref="IConnectionHandler.OnOpen"/>.</summary>
    IPEndPoint Listen(IPEndPoint endPoint, Func<IReactorConn, Transport.IByteTransform>? transform = null);

    /// <summary>Connections the loop holds, including those closing.</summary>
    int ConnectionCount { get; }

    /// <summary>Bytes waiting in the loop's send queues for slow peers (backpressure); any thread may read it.</summary>
    long BackpressureBytes { get; }
}
