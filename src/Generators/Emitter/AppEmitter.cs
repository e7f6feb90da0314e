using System;
using System.Collections.Generic;

namespace WsGen.Generators;

/// <summary>
/// Emits WsGenApp.g.cs: the dispatcher struct that calls every endpoint's handlers directly, and the
/// <c>WsGenApp</c> entry point that serves them. The generated code names no loop: it passes the OS of the
/// build's RuntimeIdentifier, and the runtime (ReactorFactory.DefaultLoop) decides, in one place.
/// </summary>
internal static class AppEmitter
{
    public const string HintName = "WsGenApp.g.cs";

    private const string Conn = "global::WsGen.WebSocketConnection";
    private const string Support = "global::WsGen.GeneratedEndpoints";

    public static string Emit(AppModel app)
    {
        var w = new IndentedWriter();
        Header.Write(w);
        w.Line("namespace " + app.Namespace + ";");
        w.Line();
        EmitApp(w, app);
        w.Line();
        EmitDispatcher(w, app.Endpoints);
        return w.ToString();
    }

    private static void EmitApp(IndentedWriter w, AppModel app)
    {
        var endpoints = app.Endpoints;
        long connections = 0;
        int receiveBuffer = 0, backpressure = 0;
        foreach (var e in endpoints)
        {
            connections += e.Settings.MaxConnections;
            receiveBuffer = Math.Max(receiveBuffer, e.Settings.ReceiveBufferSize);
            backpressure = Math.Max(backpressure, e.Settings.MaxBackpressure);
        }

        w.Line("/// <summary>Serves the <c>[WebSocketEndpoint]</c> classes of this assembly with the loop of the target platform.</summary>");
        w.Line("public static partial class WsGenApp");
        w.Open();
        w.Line("/// <summary>Connections over all endpoints: the sum of their MaxConnections.</summary>");
        w.Line("public const int MaxConnections = " + Literals.Int(Math.Min(connections, int.MaxValue)) + ";");
        w.Line();
        w.Line("/// <summary>The loop's receive buffer: the largest ReceiveBufferSize among the endpoints.</summary>");
        w.Line("public const int ReceiveBufferSize = " + Literals.Int(receiveBuffer) + ";");
        w.Line();
        w.Line("/// <summary>The loop's backpressure limit: the largest MaxBackpressure among the endpoints.</summary>");
        w.Line("public const int MaxBackpressure = " + Literals.Int(backpressure) + ";");
        w.Line();

        w.Line("/// <summary>The endpoints' routes, with the attributes' values; route i is served by endpoint i of the");
        w.Line("/// dispatcher.</summary>");
        w.Line("public static global::WsGen.EndpointRoute[] CreateRoutes() =>");
        w.Line("[");
        w.Indent();
        foreach (var e in endpoints)
        {
            var settings = e.Settings;
            w.Line("new(" + Literals.String(settings.Path) + ", new global::WsGen.WebSocketEndpointOptions");
            w.Open();
            w.Line("MaxMessageSize = " + Literals.Int(settings.MaxMessageSize) + ",");
            w.Line("MaxConnections = " + Literals.Int(settings.MaxConnections) + ",");
            if (settings.IdleTimeoutGiven)
                w.Line("IdleTimeout = global::System.TimeSpan.FromSeconds(" + Literals.Int(settings.IdleTimeoutSeconds) + "),");
            if (e.Settings.SubProtocols.Count > 0)
            {
                var tokens = new List<string>();
                foreach (var token in e.Settings.SubProtocols)
                    tokens.Add(Literals.String(token));
                w.Line("SubProtocols = [" + string.Join(", ", tokens) + "],");
            }
            if (settings.Compression != 0)
                w.Line("Compression = " + Compression(settings.Compression) + ",");
            if (settings.Topics.Count > 0)
            {
                var topics = new List<string>();
                foreach (var topic in settings.Topics)
                    topics.Add(Literals.String(topic));
                w.Line("Topics = [" + string.Join(", ", topics) + "],");
            }
            if (settings.PublishLimit != EndpointValues.DefaultPublishLimit)
                w.Line("PublishLimit = " + Literals.Int(settings.PublishLimit) + ",");
            if (settings.SlowSubscribers == 1)
                w.Line("SlowSubscribers = global::WsGen.SlowSubscriberPolicy.Close,");
            w.Close("),");
        }
        w.Unindent();
        w.Line("];");
        w.Line();

        w.Line("/// <summary>");
        w.Line("/// A server for every endpoint of this assembly. Sets on <paramref name=\"options\"/> the loop's ReceiveBufferSize and");
        w.Line("/// MaxBackpressure (the largest among the attributes) and MaxConnections (the sum over the endpoints). The loop is");
        w.Line("/// options.Loop when it names one, else the runtime's choice for this build's target (" + Describe(app.Platform) + ").");
        w.Line("/// Endpoints whose constructor takes parameters get them from <paramref name=\"services\"/> (the host's container");
        w.Line("/// when WsGen.Hosting's AddWsGen calls this), once, for the server's lifetime.");
        w.Line("/// </summary>");
        w.Line("public static global::WsGen.WebSocketServer CreateServer(global::WsGen.WebSocketServerOptions? options = null, global::System.IServiceProvider? services = null)");
        w.Open();
        w.Line("options ??= new global::WsGen.WebSocketServerOptions();");
        w.Line("options.ReceiveBufferSize = ReceiveBufferSize;");
        w.Line("options.MaxBackpressure = MaxBackpressure;");
        w.Line("options.MaxConnections = MaxConnections;");
        w.Line("var server = new global::WsGen.WebSocketServer(options);");
        if (HasUpgradeHooks(endpoints))
        {
            w.Line("var dispatcher = WsGenDispatcher.Create(services);");
            w.Line("var routes = CreateRoutes();");
            w.Line("dispatcher.WireUpgradeHooks(routes);");
            w.Line("server.UseDispatcher(dispatcher, routes, global::WsGen.GeneratedTarget." + TargetName(app.Platform) + ");");
        }
        else
        {
            w.Line("server.UseDispatcher(WsGenDispatcher.Create(services), CreateRoutes(), global::WsGen.GeneratedTarget." + TargetName(app.Platform) + ");");
        }
        w.Line("return server;");
        w.Close();
        w.Line();

        w.Line("/// <summary>Serves every endpoint on the calling thread until <paramref name=\"cancellationToken\"/> is cancelled,");
        w.Line("/// then closes the connections with 1001 and returns.</summary>");
        w.Line("public static void Run(global::WsGen.WebSocketServerOptions? options, global::System.Threading.CancellationToken cancellationToken)");
        w.Open();
        w.Line("using var server = CreateServer(options);");
        w.Line("server.Run(cancellationToken);");
        w.Close();
        w.Close();
    }

    /// <summary>The runtime's WebSocketCompression value <paramref name="value"/>, by name when it has one.</summary>
    private static string Compression(int value) => value switch
    {
        1 => "global::WsGen.WebSocketCompression.Shared",
        2 => "global::WsGen.WebSocketCompression.Dedicated",
        _ => "(global::WsGen.WebSocketCompression)" + Literals.Int(value),
    };

    /// <summary>The member of the runtime's GeneratedTarget for <paramref name="platform"/>.</summary>
    private static string TargetName(TargetPlatform platform) => platform switch
    {
        TargetPlatform.Linux => "Linux",
        TargetPlatform.Bsd => "Bsd",
        TargetPlatform.Windows => "Windows",
        _ => "Any",
    };

    private static string Describe(TargetPlatform platform) => platform switch
    {
        TargetPlatform.Linux => "RuntimeIdentifier linux-*",
        TargetPlatform.Bsd => "RuntimeIdentifier osx-* or freebsd-*",
        TargetPlatform.Windows => "RuntimeIdentifier win-*",
        _ => "no RuntimeIdentifier: the running platform",
    };

    private static void EmitDispatcher(IndentedWriter w, EquatableArray<EndpointModel> endpoints)
    {
        w.Line("/// <summary>Calls the handlers of the endpoints directly; the server's loop is generic over this struct.</summary>");
        w.Line("file readonly struct WsGenDispatcher : global::WsGen.IEndpointDispatcher");
        w.Open();
        for (int i = 0; i < endpoints.Count; i++)
        {
            if (!endpoints[i].OnMessage.TakesFrame)
                continue;
            var settings = endpoints[i].Settings;
            w.Line("/// <summary>");
            w.Line("/// The buffers of the frames handed to " + endpoints[i].Name + ".OnMessage: at most MaxConnections (" + Prose(settings.MaxConnections) + ")");
            w.Line("/// buffers of MaxMessageSize (" + Prose(settings.MaxMessageSize) + ") bytes, carved in slabs as first needed and never more. When all are");
            w.Line("/// held, a frame is built over a new array instead (see <see cref=\"" + Support + ".CreateFrame\"/>).");
            w.Line("/// </summary>");
            w.Line("private static readonly global::WsGen.BytePool FramePool" + i + " = new(" + Literals.Int(settings.MaxMessageSize)
                + ", maxBuffers: " + Literals.Int(settings.MaxConnections) + ");");
            w.Line();
        }

        for (int i = 0; i < endpoints.Count; i++)
            w.Line("private readonly " + endpoints[i].FullyQualifiedName + " _endpoint" + i + ";");
        w.Line();

        var parameters = new List<string>();
        for (int i = 0; i < endpoints.Count; i++)
            parameters.Add(endpoints[i].FullyQualifiedName + " endpoint" + i);
        w.Line("private WsGenDispatcher(" + string.Join(", ", parameters) + ")");
        w.Open();
        for (int i = 0; i < endpoints.Count; i++)
            w.Line("_endpoint" + i + " = endpoint" + i + ";");
        w.Close();
        w.Line();

        var creations = new List<string>();
        foreach (var e in endpoints)
        {
            var arguments = new List<string>();
            foreach (var service in e.Services)
                arguments.Add(Support + ".GetService<" + service + ">(services, " + Literals.String(e.Name) + ")");
            creations.Add("new " + e.FullyQualifiedName + "(" + string.Join(", ", arguments) + ")");
        }
        w.Line("/// <summary>A dispatcher with one instance of every endpoint, for the server's lifetime; constructor parameters");
        w.Line("/// come from <paramref name=\"services\"/>.</summary>");
        w.Line("public static WsGenDispatcher Create(global::System.IServiceProvider? services) => new(" + string.Join(", ", creations) + ");");
        w.Line();

        if (HasUpgradeHooks(endpoints))
        {
            EmitUpgradeHooks(w, endpoints);
            w.Line();
        }

        EmitSwitch(w, endpoints, "public void OnOpen(int endpoint, " + Conn + " conn)", e => e.OnOpen, (_, _) => "OnOpen(conn)");
        w.Line();
        EmitSwitch(w, endpoints,
            "public void OnMessage(int endpoint, " + Conn + " conn, global::WsGen.WebSocketOpcode opcode, global::System.ReadOnlySpan<byte> payload)",
            e => e.OnMessage,
            (e, i) => e.OnMessage.TakesFrame
                ? "OnMessage(conn, " + Support + ".CreateFrame(opcode, payload, FramePool" + i + "))"
                : "OnMessage(conn, payload, opcode)");
        w.Line();
        EmitSwitch(w, endpoints, "public void OnClose(int endpoint, " + Conn + " conn, global::WsGen.CloseStatus status)", e => e.OnClose, (_, _) => "OnClose(conn, status)");
        w.Line();
        EmitSwitch(w, endpoints, "public void OnError(int endpoint, " + Conn + " conn, global::System.Exception error)", e => e.OnError, (_, _) => "OnError(conn, error)", isError: true);
        w.Close();
    }

    private static bool HasUpgradeHooks(EquatableArray<EndpointModel> endpoints)
    {
        foreach (var e in endpoints)
            if (e.OnUpgrade is not null)
                return true;
        return false;
    }

    /// <summary>Puts each endpoint's OnUpgrade (on the dispatcher's instance) into its route's options: the
    /// asynchronous form as it is, the synchronous one wrapped in a completed ValueTask.</summary>
    private static void EmitUpgradeHooks(IndentedWriter w, EquatableArray<EndpointModel> endpoints)
    {
        w.Line("/// <summary>Wires the endpoints' OnUpgrade methods, on this dispatcher's instances, into their routes.</summary>");
        w.Line("public void WireUpgradeHooks(global::WsGen.EndpointRoute[] routes)");
        w.Open();
        for (int i = 0; i < endpoints.Count; i++)
        {
            if (endpoints[i].OnUpgrade is not { } hook)
                continue;
            w.Line("var endpoint" + i + " = _endpoint" + i + ";");
            w.Line(hook.ReturnsValueTask
                ? "routes[" + i + "].Options.OnUpgrade = endpoint" + i + ".OnUpgrade;"
                : "routes[" + i + "].Options.OnUpgrade = request => new(endpoint" + i + ".OnUpgrade(request));");
        }
        w.Close();
    }

    private static string Prose(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void EmitSwitch(IndentedWriter w, EquatableArray<EndpointModel> endpoints, string signature,
        Func<EndpointModel, HandlerModel?> handler, Func<EndpointModel, int, string> call, bool isError = false)
    {
        w.Line(signature);
        w.Open();
        bool any = false;
        for (int i = 0; i < endpoints.Count; i++)
            any |= handler(endpoints[i]) is not null;
        if (any)
        {
            w.Line("switch (endpoint)");
            w.Open();
            for (int i = 0; i < endpoints.Count; i++)
            {
                if (handler(endpoints[i]) is not { } h)
                    continue;
                string invocation = "_endpoint" + i + "." + call(endpoints[i], i);
                w.Line("case " + i + ":");
                w.Indent();
                if (!h.ReturnsValueTask)
                    w.Line(invocation + ";");
                else if (isError)
                    w.Line(Support + ".ObserveError(" + invocation + ");");
                else
                    w.Line(Support + ".Observe(" + invocation + ", conn);");
                w.Line("break;");
                w.Unindent();
            }
            w.Close();
        }
        w.Close();
    }
}
