using SharpFuzz;
using WsGen.Fuzz;
using WsGen.Fuzz.Targets;

// WsGen.Fuzz TARGET               under afl-fuzz: the SharpFuzz fork server, one input per run from standard input
// WsGen.Fuzz TARGET --replay P... runs every file under the paths P (files or folders) through TARGET, in process
// WsGen.Fuzz --seeds DIR          writes the seed corpora, DIR/TARGET/NAME for every target
// WsGen.Fuzz --list               prints the target names
IFuzzTarget[] targets =
[
    new FrameReaderTarget(server: true),
    new FrameReaderTarget(server: false),
    new ServerHandshakeTarget(),
    new ClientHandshakeTarget(),
    new Utf8Target(),
    new InflateTarget(),
    new DeflateOfferTarget(),
];

if (args is ["--list"])
{
    foreach (IFuzzTarget t in targets)
        Console.WriteLine(t.Name);
    return 0;
}

if (args is ["--seeds", string seedDir])
{
    int written = SeedCorpus.Write(seedDir);
    Console.WriteLine($"{written} seed inputs written under {seedDir}");
    return 0;
}

IFuzzTarget? target = args.Length > 0 ? targets.FirstOrDefault(t => t.Name == args[0]) : null;
if (target is null)
{
    Console.Error.WriteLine($"usage: WsGen.Fuzz TARGET [--replay PATH...] | --seeds DIR | --list; targets: {string.Join(", ", targets.Select(t => t.Name))}");
    return 2;
}

if (args.Length > 1 && args[1] == "--replay")
    return Replay(target, args[2..]);

// SharpFuzz's fork server reads its first input as soon as it starts, possibly before afl-fuzz wrote it: the targets
// run the parser even on an empty input, so that no run covers nothing (afl-fuzz aborts on an empty trace).
var input = new MemoryStream();
Fuzzer.Run(stream =>
{
    input.SetLength(0);
    stream.CopyTo(input);
    target.Run(input.GetBuffer().AsSpan(0, (int)input.Length));
});
return 0;

static int Replay(IFuzzTarget target, string[] paths)
{
    int count = 0, failed = 0;
    foreach (string path in paths)
    {
        IEnumerable<string> files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.') && Path.GetFileName(f) != "README.txt").Order()
            : File.Exists(path) ? [path] : [];
        foreach (string file in files)
        {
            count++;
            try
            {
                target.Run(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"FAIL {target.Name} {file}: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    Console.WriteLine($"{target.Name}: replayed {count} inputs, {failed} failed");
    return failed == 0 ? 0 : 1;
}
