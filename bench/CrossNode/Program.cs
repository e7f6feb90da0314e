// The load driver of bench/crossnode.sh: one publisher on a room of one node, subscribers on the same room of another
// node (or the same one), through WsGen's Chat (ClientWebSocket, binary messages) or a SignalR hub (its .NET client).
// Each message carries its send time and a sequence number; every subscriber checks that sequence numbers rise.
//
// Usage: CrossNode --kind wsgen|signalr --publish URL --subscribe URL [--subscribers N] [--rate R] [--window W]
//                  [--seconds S] [--warmup S] [--pids P,P...] [--broker-pid P]
//   --rate R     messages per second from the publisher; 0: as fast as the subscribers take them, with at most W
//                messages (default 16) published and not yet received by the last subscriber to join
//   --pids       the servers' processes: their CPU time (from /proc) over the measured window, per delivery
//   --broker-pid the broker's process, reported apart
// Prints key=value lines: deliveries_per_s, p50_us, p99_us (publish to delivery of what arrived in the measured window),
// server_cpu_us_per_delivery, broker_cpu_us_per_delivery, lost (of the messages published in the window, those that
// had not arrived 5 s after the last arrival), duplicates (a sequence number that did not rise).
// Exits 1 if a subscriber saw a duplicate or a message out of order, or nothing was delivered.
using System.Diagnostics;
using CrossNode;

string kind = "wsgen", room = "bench";
Uri? publishUri = null, subscribeUri = null;
int subscribers = 1000, window = 16, brokerPid = 0;
double rate = 100, seconds = 5, warmup = 1;
int[] pids = [];
try
{
    for (int i = 0; i < args.Length; i += 2)
    {
        string value = args[i + 1];
        switch (args[i])
        {
            case "--kind": kind = value; break;
            case "--publish": publishUri = new Uri(value); break;
            case "--subscribe": subscribeUri = new Uri(value); break;
            case "--subscribers": subscribers = int.Parse(value); break;
            case "--rate": rate = double.Parse(value); break;
            case "--window": window = int.Parse(value); break;
            case "--seconds": seconds = double.Parse(value); break;
            case "--warmup": warmup = double.Parse(value); break;
            case "--pids": pids = value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray(); break;
            case "--broker-pid": brokerPid = int.Parse(value); break;
            default: throw new FormatException(args[i]);
        }
    }
    ArgumentNullException.ThrowIfNull(publishUri);
    ArgumentNullException.ThrowIfNull(subscribeUri);
}
catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException or OverflowException or UriFormatException)
{
    Console.Error.WriteLine("usage: CrossNode --kind wsgen|signalr --publish URL --subscribe URL [--subscribers N] [--rate R] [--window W] [--seconds S] [--warmup S] [--pids P,P...] [--broker-pid P]");
    return 2;
}

var latency = new Latency();
var lastSequence = new long[subscribers];
Array.Fill(lastSequence, -1);
var received = new long[subscribers];
long duplicates = 0, measuring = 0, measuredDeliveries = 0;
long measureFrom = long.MaxValue; // the first sequence number of the measured window
using var lastSubscriberGot = new SemaphoreSlim(window);
var clients = new RoomClient[subscribers];
for (int s = 0; s < subscribers; s++)
{
    int index = s;
    clients[s] = RoomClient.Create(kind);
    clients[s].Received = (timestamp, sequence) =>
    {
        long now = Stopwatch.GetTimestamp();
        // Each client's messages arrive one at a time: its slot needs no lock.
        if (sequence <= lastSequence[index])
            Interlocked.Increment(ref duplicates);
        lastSequence[index] = sequence;
        if (sequence >= Volatile.Read(ref measureFrom))
            received[index]++;
        // What arrives in the window counts, whenever it was published: a server that falls behind shows its rate,
        // and its queue in the latency.
        if (Volatile.Read(ref measuring) == 1)
        {
            Interlocked.Increment(ref measuredDeliveries);
            latency.Add((long)Stopwatch.GetElapsedTime(timestamp, now).TotalMicroseconds);
        }
        if (index == subscribers - 1)
            lastSubscriberGot.Release();
    };
}

using var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(120));
// 50 connections at a time: a thousand handshakes at once would only queue in the servers' accept backlog.
await Parallel.ForEachAsync(Enumerable.Range(0, subscribers), new ParallelOptions { MaxDegreeOfParallelism = 50, CancellationToken = connecting.Token },
    (s, cancel) => new ValueTask(clients[s].JoinAsync(subscribeUri, room, "s" + s, cancel)));
var publisher = RoomClient.Create(kind);
await publisher.JoinAsync(publishUri, room, "publisher", connecting.Token);

// Publish until every subscriber has a message: the room exists on every node and at the broker.
long sequence = 0;
var started = Stopwatch.StartNew();
while (lastSequence.Any(last => last < 0))
{
    if (started.Elapsed > TimeSpan.FromSeconds(60))
    {
        Console.Error.WriteLine($"CrossNode: {lastSequence.Count(last => last < 0)} of {subscribers} subscribers got nothing in 60 s");
        return 1;
    }
    await publisher.PublishAsync(Stopwatch.GetTimestamp(), sequence++);
    await Task.Delay(10);
}

// Then until every subscriber has the last of those: a server slow to fan out starts the warm-up with no backlog.
while (lastSequence.Any(last => last < sequence - 1))
{
    if (started.Elapsed > TimeSpan.FromSeconds(120))
    {
        Console.Error.WriteLine($"CrossNode: {lastSequence.Count(last => last < sequence - 1)} of {subscribers} subscribers lack message {sequence - 1} after 120 s");
        return 1;
    }
    await Task.Delay(10);
}

// Warm-up, then the measured window, at the same pace.
double publishEvery = rate > 0 ? 1.0 / rate : 0;
var pace = Stopwatch.StartNew();
long paced = 0;
async Task PublishUntil(TimeSpan end)
{
    while (pace.Elapsed < end)
    {
        if (rate > 0)
        {
            double due = paced * publishEvery - pace.Elapsed.TotalSeconds;
            if (due > 0.001)
                await Task.Delay(TimeSpan.FromSeconds(due));
        }
        else if (!await lastSubscriberGot.WaitAsync(TimeSpan.FromSeconds(1)))
        {
            // The last subscriber missed one (a slow subscriber's message dropped): go on rather than stop.
            lastSubscriberGot.Release(window);
        }
        await publisher.PublishAsync(Stopwatch.GetTimestamp(), sequence++);
        paced++;
    }
}
await PublishUntil(TimeSpan.FromSeconds(warmup));
Volatile.Write(ref measureFrom, sequence);
var cpu0 = Cpu(pids);
long broker0 = Cpu([brokerPid]), self0 = (long)Process.GetCurrentProcess().TotalProcessorTime.TotalMicroseconds;
Volatile.Write(ref measuring, 1);
long window0 = Stopwatch.GetTimestamp();
await PublishUntil(TimeSpan.FromSeconds(warmup + seconds));
long measuredEnd = sequence;
Volatile.Write(ref measuring, 0);
double elapsed = Stopwatch.GetElapsedTime(window0).TotalSeconds;
long deliveries = Interlocked.Read(ref measuredDeliveries);
var cpu1 = Cpu(pids);
long broker1 = Cpu([brokerPid]), self1 = (long)Process.GetCurrentProcess().TotalProcessorTime.TotalMicroseconds;

// Drain: wait until every subscriber has the last measured message, or 5 s without progress.
long expected = (measuredEnd - measureFrom) * subscribers;
long total = 0, before = -1;
var quiet = Stopwatch.StartNew();
while (quiet.Elapsed < TimeSpan.FromSeconds(5))
{
    total = 0;
    for (int s = 0; s < subscribers; s++)
        total += Math.Min(Volatile.Read(ref received[s]), measuredEnd - measureFrom);
    if (total >= expected)
        break;
    if (total != before)
    {
        before = total;
        quiet.Restart();
    }
    await Task.Delay(50);
}

Console.WriteLine($"published={measuredEnd - measureFrom}");
Console.WriteLine($"deliveries={deliveries}");
Console.WriteLine($"deliveries_per_s={deliveries / elapsed:F0}");
Console.WriteLine($"p50_us={latency.Percentile(0.50)}");
Console.WriteLine($"p99_us={latency.Percentile(0.99)}");
Console.WriteLine($"lost={expected - total}");
Console.WriteLine($"duplicates={Interlocked.Read(ref duplicates)}");
Console.WriteLine($"server_cpu_pct={(cpu1 - cpu0) / (elapsed * 1e4):F0}");
Console.WriteLine($"server_cpu_us_per_delivery={(deliveries > 0 ? (cpu1 - cpu0) / (double)deliveries : 0):F3}");
Console.WriteLine($"broker_cpu_us_per_delivery={(deliveries > 0 && brokerPid > 0 ? (broker1 - broker0) / (double)deliveries : 0):F3}");
Console.WriteLine($"client_cpu_pct={(self1 - self0) / (elapsed * 1e4):F0}");

await publisher.DisposeAsync();
await Parallel.ForEachAsync(clients, (client, _) => client.DisposeAsync());
return deliveries > 0 && Interlocked.Read(ref duplicates) == 0 ? 0 : 1;

// The user and system CPU time of these processes, in microseconds (fields 14 and 15 of /proc/PID/stat, in clock
// ticks of 10 ms on Linux).
static long Cpu(int[] processes)
{
    long ticks = 0;
    foreach (int pid in processes)
    {
        if (pid <= 0)
            continue;
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        ticks += long.Parse(fields[11]) + long.Parse(fields[12]);
    }
    return ticks * 10_000;
}
