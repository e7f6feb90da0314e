using System.Runtime.InteropServices;

namespace WsGen.Native;

internal static unsafe partial class Libc
{
    /// <summary>sched_setaffinity(2); pid 0 is the calling thread.</summary>
    [LibraryImport(LibraryName, SetLastError = true)]
    internal static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    /// <summary>sched_getcpu(3): the CPU the calling thread runs on now.</summary>
    [LibraryImport(LibraryName)]
    internal static partial int sched_getcpu();

    /// <summary>Pins the calling thread to <paramref name="cpu"/> (Linux). Returns false when the kernel refused
    /// (for example a CPU outside the process's allowed set); the thread then runs unpinned.</summary>
    internal static bool PinCurrentThread(int cpu)
    {
        const int Words = 16;   // room for 1024 CPUs
        if (cpu < 0 || cpu >= Words * 64)
            return false;
        ulong* mask = stackalloc ulong[Words];
        new Span<ulong>(mask, Words).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        return sched_setaffinity(0, (nuint)(Words * sizeof(ulong)), mask) == 0;
    }
}
