"""bench/tls-idle/owners.py: the difference between two malloc-sites.c reports, per connection, by owner.

Usage: python3 owners.py BEFORE AFTER CONNS [TOP]
Prints a Markdown table of the bytes (asked for) and blocks each owner added per connection between the reports,
then the TOP call sites (default 25) that changed most. Owners are told apart by the exported functions on a site's
stack (OpenSSL's own static functions show as library offsets: Debian ships libssl3 without symbols).
"""
import sys

# (owner, test on the stack text): the first that matches names the owner.
OWNERS = [
    ("SSL object: SSL_new (SSL_CONNECTION with its s3 and record-layer state, its CERT copy, verify parameters, "
     "locks, cipher stacks)", lambda s: "SSL_new" in s),
    ("the two memory BIOs .NET creates (BIO, BUF_MEM, lock), not their buffers",
     lambda s: ("BIO_new_ex" in s or "BUF_MEM_new" in s) and "libssl" not in s),
    ("memory BIO buffers (the largest flight or record each held)",
     lambda s: "BUF_MEM_grow" in s and "BIO_write" in s),
    ("record protection: the two AES-GCM cipher contexts", lambda s: "EVP_CipherInit_ex" in s),
    ("key exchange: the server's ephemeral key and the client's key share", lambda s: "EVP_PKEY_generate" in s),
    ("handshake transcript hash", lambda s: "EVP_MD_CTX_copy_ex" in s),
    ("record buffers (SSL_read / SSL_write)", lambda s: "SSL_read" in s or "SSL_write" in s),
    ("other handshake state kept until SSL_free (the session, the client's cipher list and signature algorithms, "
     "cipher context structures, ...)", lambda s: "CryptoNative_SslDoHandshake" in s),
    ("other OpenSSL", lambda s: "libssl" in s or "libcrypto" in s),
    ("the runtime and everything else", lambda s: True),
]


def load(path):
    sites, info = {}, {}
    with open(path) as f:
        for line in f:
            if line.startswith("# mallinfo2"):
                info = {k: int(v) for k, v in (kv.split("=") for kv in line.split()[2:])}
                continue
            nbytes, blocks, stack = line.rstrip("\n").split(" ", 2)
            b, n = sites.get(stack, (0, 0))
            sites[stack] = (b + int(nbytes), n + int(blocks))
    return sites, info


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    before, info0 = load(sys.argv[1])
    after, info1 = load(sys.argv[2])
    conns = int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    rows = []
    for stack in set(before) | set(after):
        b0, n0 = before.get(stack, (0, 0))
        b1, n1 = after.get(stack, (0, 0))
        if b1 != b0 or n1 != n0:
            rows.append(((b1 - b0) / conns, (n1 - n0) / conns, stack))
    totals = {name: [0.0, 0.0] for name, _ in OWNERS}
    for b, n, stack in rows:
        name = next(name for name, test in OWNERS if test(stack))
        totals[name][0] += b
        totals[name][1] += n
    print("| owner | bytes per connection | blocks |")
    print("|---|---:|---:|")
    for name, _ in OWNERS:
        b, n = totals[name]
        if abs(b) >= 0.5 or abs(n) >= 0.005:
            print(f"| {name} | {b:.0f} | {n:.2f} |")
    print(f"| **total** | **{sum(t[0] for t in totals.values()):.0f}** | **{sum(t[1] for t in totals.values()):.2f}** |")
    print()
    print("glibc (mallinfo2) per connection: in use %+.0f B (with the library's 16-byte headers), free in the arenas "
          "%+.0f B, arena size %+.0f B" % tuple((info1.get(k, 0) - info0.get(k, 0)) / conns
                                                 for k in ("uordblks", "fordblks", "arena")))
    print()
    print(f"The {top} call sites that changed most (bytes and blocks per connection, innermost frame first):")
    print()
    print("```")
    rows.sort(key=lambda r: -abs(r[0]))
    for b, n, stack in rows[:top]:
        print(f"{b:7.0f} {n:5.2f}  {stack[:300]}")
    print("```")


main()
