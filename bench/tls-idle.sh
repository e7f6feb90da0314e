#!/usr/bin/env bash
# bench/tls-idle.sh: what one idle TLS connection of the echo sample keeps, split by owner.
#
# Usage: bash bench/tls-idle.sh [-c CONNS] [--sites [--keep DIR]] [-- ECHO_ARGS...]
#   -c CONNS   idle wss:// connections held (default 5000; at least a few thousand, see bench/README.md)
#   --sites    also run the server under bench/tls-idle/malloc-sites.c (LD_PRELOAD) and split the native heap
#              that the connections added by call site: OpenSSL's SSL object, its memory BIOs, the record cipher
#              contexts, the session, ... (a second server process, after the RSS run)
#   --keep DIR the two malloc-sites reports go to DIR (sites.1 at 0 connections, sites.2 at CONNS), for
#              bench/tls-idle/owners.py to read again
#   ECHO_ARGS  more options for samples/Echo (default: --reactor epoll)
# Environment: the server's own (DOTNET_*, MALLOC_*) pass through, e.g. DOTNET_GCgen0size or MALLOC_ARENA_MAX.
#
# Each run: the echo sample serves wss:// with a fresh ECDSA P-256 certificate; 1000 handshakes and a second of
# echo warm it up; then wsbench holds CONNS idle connections. Measured at 0 and at CONNS connections (the difference
# divided by CONNS): RSS and its anonymous part (/proc/PID/smaps_rollup), the live managed heap (the sample's stats
# line, after a full collection) and, with --sites, the bytes live in malloc'd blocks by call site. Prints a Markdown
# report. Needs: dotnet, openssl, a C compiler with the OpenSSL and zlib headers (bench/load/build.sh).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
CONNS=5000
SITES=0
KEEP=""
ECHO_ARGS=(--reactor epoll)
while (($#)); do
  case $1 in
    -c) CONNS=${2:?-c needs a number}; shift 2 ;;
    --sites) SITES=1; shift ;;
    --keep) KEEP=${2:?--keep needs a folder}; shift 2 ;;
    --) shift; ECHO_ARGS=("$@"); break ;;
    *) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
[[ $CONNS =~ ^[1-9][0-9]*$ ]] || { echo "-c: a positive number" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-tls-idle.XXXXXX")
SRV_PID=""
LOAD_PID=""
cleanup() {
  [[ -z $LOAD_PID ]] || kill "$LOAD_PID" 2>/dev/null || true
  [[ -z $SRV_PID ]] || kill "$SRV_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '==> %s\n' "$*" >&2; }

LOAD=$(bash "$ROOT/bench/load/build.sh" "$WORK")
cc -O2 -shared -fPIC -o "$WORK/malloc-sites.so" "$ROOT/bench/tls-idle/malloc-sites.c" -ldl -lpthread
dotnet build "$ROOT/samples/Echo/Echo.csproj" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { tail -n 20 "$WORK/build.log" >&2; exit 1; }
ECHO_DLL=$(dotnet msbuild "$ROOT/samples/Echo/Echo.csproj" -nologo -getProperty:TargetPath -p:Configuration=Release)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# kB of a field of /proc/PID/smaps_rollup (Rss, Anonymous, ...).
rollup() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"; }
# FIELD of the latest stats line printed with N connections open and a live heap (waits up to 30 s for one):
# live (the managed heap after a full collection) or committed (the memory the GC holds committed).
stat_at() {
  for _ in {1..300}; do
    v=$(grep "^stats .*connections=$2 live=[0-9]" "$WORK/server.out" | tail -n 1 | grep -o " $1=[0-9]*" | cut -d= -f2 || true)
    [[ -n $v ]] && { echo "$v"; return; }
    sleep 0.1
  done
  echo 0
}
# Asks the malloc-sites library for a report; prints its path once written.
sites_report() {
  local n=$1
  touch "$WORK/sites.go"
  for _ in {1..100}; do [[ -e $WORK/sites.go ]] || break; sleep 0.1; done
  echo "$WORK/sites.$n"
}

# run TAG PRELOAD: one server process, warmed up, measured at 0 and at CONNS connections. Writes $WORK/TAG.vars.
run() {
  local tag=$1 preload=$2 port
  port=$(free_port)
  : >"$WORK/server.out"
  if [[ -n $preload ]]; then
    MALLOC_SITES_OUT=$WORK/sites LD_PRELOAD=$preload dotnet "$ECHO_DLL" "${ECHO_ARGS[@]}" --port "$port" --stats \
      --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" >"$WORK/server.out" 2>"$WORK/server.err" &
  else
    dotnet "$ECHO_DLL" "${ECHO_ARGS[@]}" --port "$port" --stats \
      --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" >"$WORK/server.out" 2>"$WORK/server.err" &
  fi
  SRV_PID=$!
  for _ in {1..300}; do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$SRV_PID" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
    sleep 0.1
  done
  "$LOAD" -p "$port" -i -c 1000 -t 1 -q -S >/dev/null 2>&1 || true
  "$LOAD" -p "$port" -c 50 -t 1 -q -S >/dev/null 2>&1 || true
  sleep 1
  local live0 rss0 anon0 live1 rss1 anon1 gc0 gc1
  live0=$(stat_at live 0) gc0=$(stat_at committed 0)
  rss0=$(rollup "$SRV_PID" Rss) anon0=$(rollup "$SRV_PID" Anonymous)
  [[ -n $preload ]] && sites_report 1 >/dev/null
  log "$tag: $CONNS idle connections"
  "$LOAD" -p "$port" -i -c "$CONNS" -n 4 -t 10 -q -S >"$WORK/load.out" 2>"$WORK/load.err" &
  LOAD_PID=$!
  for _ in {1..600}; do grep -q "connections open" "$WORK/load.err" && break; sleep 0.1; done
  live1=$(stat_at live "$CONNS") gc1=$(stat_at committed "$CONNS")
  [[ $live1 != 0 ]] || log "$tag: the server printed no quiet stats line with $CONNS connections: figures at an unknown count"

  rss1=$(rollup "$SRV_PID" Rss) anon1=$(rollup "$SRV_PID" Anonymous)
  [[ -n $preload ]] && sites_report 2 >/dev/null
  wait "$LOAD_PID" || { cat "$WORK/load.out" "$WORK/load.err" >&2; log "$tag: the idle run failed"; }
  LOAD_PID=""
  grep -q "alive_and_echoing=$CONNS " "$WORK/load.out" || log "$tag: not every connection echoed after the hold: $(cat "$WORK/load.out")"
  kill "$SRV_PID"
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
  cat >"$WORK/$tag.vars" <<EOF
rss=$(((rss1 - rss0) * 1024 / CONNS))
anon=$(((anon1 - anon0) * 1024 / CONNS))
managed=$(((live1 - live0) / CONNS))
committed=$(((gc1 - gc0) / CONNS))
EOF
}

run plain ""
# shellcheck disable=SC1091
. "$WORK/plain.vars"
echo "# Idle TLS connection of the echo sample (${ECHO_ARGS[*]}), $CONNS connections, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| per idle connection | bytes |"
echo "|---|---|"
echo "| RSS | $rss |"
echo "| of it anonymous memory | $anon |"
echo "| live managed heap | $managed |"
echo "| memory the GC holds committed (the live heap and the room for new objects) | $committed |"
echo "| the rest: native heap and allocator slack | $((anon - committed)) |"

((SITES)) || exit 0
run sites "$WORK/malloc-sites.so"
echo
echo "Native heap (malloc) added per idle connection, by owner (malloc-sites.so, a second process; bytes asked for,"
echo "without glibc's 16-byte chunk header and rounding):"
echo
python3 "$ROOT/bench/tls-idle/owners.py" "$WORK/sites.1" "$WORK/sites.2" "$CONNS"
if [[ -n $KEEP ]]; then
  mkdir -p -- "$KEEP"
  cp -- "$WORK/sites.1" "$WORK/sites.2" "$KEEP/"
fi
