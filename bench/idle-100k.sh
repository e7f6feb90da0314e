#!/usr/bin/env bash
# bench/idle-100k.sh: 100,000 idle connections in one WsGen server process, all still echoing afterwards,
# and the server's resident memory per connection.
#
# Usage: bash bench/idle-100k.sh [connections] [loops]
#   connections   total idle connections (default 100000)
#   loops         server loops (default 6)
# Environment:
#   PER_CLIENT    connections per wsbench process (default 16000)
#
# The load client is bench/load/wsbench.c, compiled by bench/load/build.sh.
#
# Why several wsbench processes: each client socket is a descriptor, and a process may hold at most
# RLIMIT_NOFILE of them (20,000 on the machine this was written on, where the hard limit cannot be
# raised). The server holds none: its io_uring loops accept into their rings' direct descriptor tables,
# one table per loop, each up to RLIMIT_NOFILE slots, so the loops together hold more connections than
# the process could hold descriptors. Each wsbench process uses 8 source addresses (-n 8).
#
# Method: start Echo (io_uring, LOOPS loops), warm it up (1,000 echoing connections for 1 s, then
# 1,000 idle ones), read its RSS, open the idle connections from several wsbench -i processes at once,
# read its RSS again 5 s after all are open, then let each wsbench check that every one of its
# connections still echoes. Prints one summary line; exits non-zero if a connection failed.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
TOTAL=${1:-100000}
LOOPS=${2:-6}
PER_CLIENT=${PER_CLIENT:-16000}
PORT=$((20000 + RANDOM % 20000))
WORK=$(mktemp -d)
SERVER=""
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
log() { printf '==> %s\n' "$*" >&2; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

WSBENCH=$(bash "$ROOT/bench/load/build.sh" "$WORK")
log "building samples/Echo (Release)"
dotnet build "$ROOT/samples/Echo/Echo.csproj" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; exit 1; }
ECHO_DLL=$(dotnet msbuild "$ROOT/samples/Echo/Echo.csproj" -nologo -getProperty:TargetPath -p:Configuration=Release)

dotnet "$ECHO_DLL" --port "$PORT" --reactor io_uring --loops "$LOOPS" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do "$WSBENCH" -q -p "$PORT" -c 1 -t 1 >/dev/null 2>&1 && break; sleep 0.2; done
"$WSBENCH" -q -p "$PORT" -c 1000 -s 32 -d 1 -t 1 >/dev/null 2>&1
"$WSBENCH" -q -p "$PORT" -i -c 1000 -t 1 >/dev/null 2>&1
sleep 1
before=$(rss_kb "$SERVER")

clients=$(((TOTAL + PER_CLIENT - 1) / PER_CLIENT))
log "opening $TOTAL idle connections from $clients wsbench processes against $LOOPS io_uring loops"
pids=()
for i in $(seq "$clients"); do
  n=$((i < clients ? PER_CLIENT : TOTAL - PER_CLIENT * (clients - 1)))
  "$WSBENCH" -q -p "$PORT" -i -c "$n" -n 8 -t 20 >"$WORK/idle.$i.out" 2>"$WORK/idle.$i.err" &
  pids+=($!)
done
for _ in $(seq 120); do
  open=$(cat "$WORK"/idle.*.err 2>/dev/null | grep -c "connections open" || true)
  ((open >= clients)) && break
  sleep 1
done
sleep 5
after=$(rss_kb "$SERVER")
descriptors=$(ls "/proc/$SERVER/fd" | wc -l)
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
cat "$WORK"/idle.*.err | grep -v "connections open" >&2 || true
echoing=$(cat "$WORK"/idle.*.out | sed -n 's/.*alive_and_echoing=\([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
per_conn=$(( (after - before) * 1024 / TOTAL ))
printf 'connections=%d loops=%d server_rss_kb_before=%d after=%d per_conn_bytes=%d server_descriptors=%d alive_and_echoing=%d\n' \
  "$TOTAL" "$LOOPS" "$before" "$after" "$per_conn" "$descriptors" "${echoing:-0}"
((rc == 0 && ${echoing:-0} == TOTAL))
