#!/usr/bin/env bash
# bench/load/build.sh: compiles the load client bench/load/wsbench.c and prints the binary's path.
#
# Usage: bash bench/load/build.sh [DIR]
#   DIR   where to put the binary `wsbench` (created if missing; default: a new temporary folder)
#
# Needs a C compiler and the headers of zlib and OpenSSL (Debian: gcc, zlib1g-dev, libssl-dev). The same
# as by hand:   cc -O2 -o wsbench bench/load/wsbench.c -lz -lssl -lcrypto
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SRC=$HERE/wsbench.c
CC=${CC:-cc}
fail() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

command -v "$CC" >/dev/null || fail "no C compiler ($CC); on Debian: apt-get install gcc"
# A header that does not compile names the package that provides it.
has_header() { printf '#include <%s>\nint main(void) { return 0; }\n' "$1" | "$CC" -x c -fsyntax-only - 2>/dev/null; }
has_header zlib.h || fail "zlib.h not found; on Debian: apt-get install zlib1g-dev"
has_header openssl/ssl.h || fail "openssl/ssl.h not found; on Debian: apt-get install libssl-dev"

if (($#)); then
  OUT=$1
  mkdir -p -- "$OUT"
else
  OUT=$(mktemp -d "${TMPDIR:-/tmp}/wsbench.XXXXXX")
fi
OUT=$(cd -- "$OUT" && pwd)
"$CC" -O2 -o "$OUT/wsbench" "$SRC" -lz -lssl -lcrypto || fail "compiling $SRC failed"
echo "$OUT/wsbench"
