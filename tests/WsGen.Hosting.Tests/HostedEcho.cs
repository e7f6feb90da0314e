using System.Collections.Concurrent;
using System.Text;

namespace WsGen.Hosting.Tests;

/// <summary>What <see cref="HostedEcho"/> accepted: the messages it received, by the client id that starts each
/// message ("id:..."). A singleton of the container, handed to the endpoint's constructor.</summary>
public sealed class EchoLedger
{
    public ConcurrentDictionary<string, int> Received { get; } = new();
}

/// <summary>A greeting the endpoint puts before each echo: a second service from the container.</summary>
public sealed record Greeting(string Text);

/// <summary>Echoes each message after the greeting, counting what it accepted in the ledger. Its constructor's
/// parameters come from the host's container.</summary>
[WebSocketEndpoint("/echo")]
public sealed partial class HostedEcho(EchoLedger ledger, Greeting greeting)
{
    public void OnMessage(WebSocketConnection conn, ReadOnlySpan<byte> payload, WebSocketOpcode opcode)
    {
        int colon = payload.IndexOf((byte)':');
        if (colon > 0)
            ledger.Received.AddOrUpdate(Encoding.UTF8.GetString(payload[..colon]), 1, (_, n) => n + 1);
        byte[] reply = [.. Encoding.UTF8.GetBytes(greeting.Text), .. payload];
        conn.Send(reply, opcode);
    }
}
