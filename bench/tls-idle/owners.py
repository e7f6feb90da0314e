"""bench/tls-idle/owners.py: the difference between two malloc-sites.c reports, per connection, by owner."""
import sys


def load(path):
    sites, info = {}, {}
    with open(path) as f:
        for line in f:
            if line.startswith("# mallinfo2"):
                info = dict(kv.split("=") for kv in line.split()[2:])
                continue
            nbytes, blocks, stack = line.rstrip("\n").split(" ", 2)
            b, n = sites.get(stack, (0, 0))
            sites[stack] = (b + int(nbytes), n + int(blocks))
    return sites, {k: int(v) for k, v in info.items()}


def main():
    before, info0 = load(sys.argv[1])
    after, info1 = load(sys.argv[2])
    conns = int(sys.argv[3])
    rows = []
    for stack in set(before) | set(after):
        b0, n0 = before.get(stack, (0, 0))
        b1, n1 = after.get(stack, (0, 0))
        if b1 != b0 or n1 != n0:
            rows.append(((b1 - b0) / conns, (n1 - n0) / conns, stack))
    rows.sort(key=lambda r: -abs(r[0]))
    total = sum(r[0] for r in rows)
    blocks = sum(r[1] for r in rows)
    print(f"total {total:.0f} B in {blocks:.2f} blocks per connection")
    for k in ("uordblks", "fordblks", "arena", "hblkhd"):
        print(f"mallinfo2 {k}: {(info1.get(k, 0) - info0.get(k, 0)) / conns:.0f} per connection")
    for b, n, stack in rows[:60]:
        print(f"{b:8.0f} {n:6.2f}  {stack[:400]}")


main()
