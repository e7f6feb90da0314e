#!/usr/bin/env bash
# bench/metrics.sh: what a metrics listener costs the server. The echo sample (epoll) runs the same echo load twice per
# round, once with no listener on its WsGen meter and once with `dotnet-counters collect --counters WsGen` attached
# (an EventPipe session: the listener runs in the server, reading the observable instruments every second), in turn,
# for several rounds in the same run; the report gives each variant's median server CPU per message and its managed
# allocation per message, and the ratio of the two CPU figures.
#
# Usage: bash bench/metrics.sh [--quick]
#   --quick   smoke test: 1 round of 2 s (the figures then measure nothing)
# Environment:
#   BENCH_ROUNDS    rounds, each running both variants (default 5)
#   BENCH_SECONDS   measured seconds per run, after wsbench's 1 s warm-up (default 10)
#   BENCH_LOAD      wsbench's load arguments (default "-c 100 -s 32 -d 16": 100 connections, 32 B text, 16 in flight)
#   BENCH_OUT       where the report is written (default bench/results/metrics.md)
#
# Needs cc with the zlib and OpenSSL headers (for wsbench) and the .NET 10 SDK; dotnet-counters comes from the
# repository's tool manifest (.config/dotnet-tools.json, `dotnet tool restore`).
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_SECONDS:-10}
LOAD_ARGS=${BENCH_LOAD:--c 100 -s 32 -d 16}
OUT=${BENCH_OUT:-$ROOT/bench/results/metrics.md}
[[ ${1:-} == --quick ]] && { ROUNDS=1; DURATION=2; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $DURATION =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_ROUNDS and BENCH_SECONDS must be positive numbers" >&2; exit 2; }

log() { printf '==> %s\n' "$*" >&2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-metrics.XXXXXX")
SRV_PID="" MON_PID=""
cleanup() {
  [[ -z $MON_PID ]] || kill "$MON_PID" 2>/dev/null || true
  [[ -z $SRV_PID ]] || kill -KILL "$SRV_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

log "building wsbench, the echo sample and restoring dotnet-counters"
LOAD=$(bash "$ROOT/bench/load/build.sh" "$WORK")
dotnet build "$ROOT/samples/Echo" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { tail -n 20 "$WORK/build.log" >&2; exit 1; }
ECHO_DLL=$(dotnet msbuild "$ROOT/samples/Echo" -nologo -getProperty:TargetPath -p:Configuration=Release)
(cd "$ROOT" && dotnet tool restore >"$WORK/tool.log" 2>&1) || { cat "$WORK/tool.log" >&2; exit 1; }

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
stats_line() { grep '^stats ' "$1" | tail -n 1; }
field() { grep -o "$2=[0-9.]*" <<<"$1" | cut -d= -f2; }

# run VARIANT: one server, one load run; appends "cpu_us_per_msg alloc_b_per_msg msgs_per_s" to $WORK/VARIANT.
run() {
  local variant=$1 port out
  port=$((20000 + RANDOM % 12000))
  out=$WORK/server.out
  dotnet "$ECHO_DLL" --reactor epoll --port "$port" --stats >"$out" 2>"$WORK/server.err" &
  SRV_PID=$!
  for _ in {1..100}; do accepts "$port" && break; sleep 0.1; done
  accepts "$port" || { cat "$WORK/server.err" >&2; exit 1; }
  if [[ $variant == listener ]]; then
    rm -f "$WORK/counters.csv"
    (cd "$ROOT" && exec dotnet dotnet-counters collect -p "$SRV_PID" --counters WsGen --refresh-interval 1 \
      --duration "$(printf '00:00:%02d:%02d' $(((DURATION + 4) / 60)) $(((DURATION + 4) % 60)))" -o "$WORK/counters.csv") >"$WORK/monitor.log" 2>&1 </dev/null &
    MON_PID=$!
    for _ in {1..200}; do grep -q "Starting a counter session" "$WORK/monitor.log" && break; sleep 0.1; done
    grep -q "Starting a counter session" "$WORK/monitor.log" || { echo "dotnet-counters did not attach:" >&2; cat "$WORK/monitor.log" >&2; exit 1; }
  fi
  "$LOAD" -p "$port" $LOAD_ARGS -t "$DURATION" -q >"$WORK/load.out" &
  local load=$! s0 s1 c0 c1
  sleep 1.5   # past wsbench's 1 s warm-up
  s0=$(stats_line "$out"); c0=$(cpu_ticks "$SRV_PID"); local w0=$EPOCHREALTIME
  sleep $((DURATION - 1))
  s1=$(stats_line "$out"); c1=$(cpu_ticks "$SRV_PID"); local w1=$EPOCHREALTIME
  wait "$load"
  local hz msgs alloc rate
  hz=$(getconf CLK_TCK)
  msgs=$(( $(field "$s1" messages) - $(field "$s0" messages) ))
  alloc=$(( $(field "$s1" allocated) - $(field "$s0" allocated) ))
  ((msgs > 0)) || { echo "no messages were echoed" >&2; cat "$WORK/load.out" >&2; exit 1; }
  grep -q "errors=0" "$WORK/load.out" || { echo "wsbench saw errors:" >&2; cat "$WORK/load.out" >&2; exit 1; }
  rate=$(awk -v m="$msgs" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.0f", m / (b - a) }')
  awk -v c=$((c1 - c0)) -v hz="$hz" -v m="$msgs" -v a="$alloc" -v r="$rate" \
    'BEGIN { printf "%.3f %.3f %s\n", c / hz * 1e6 / m, a / m, r }' >>"$WORK/$variant"
  if [[ -n $MON_PID ]]; then
    wait "$MON_PID" || true
    MON_PID=""
    # The listener saw the load: the file holds a non-zero message rate of the WsGen meter.
    grep "wsgen.messages" "$WORK/counters.csv" | grep -q ",Rate,[1-9]" || { echo "dotnet-counters saw no messages:" >&2; head "$WORK/counters.csv" >&2; exit 1; }
  fi
  kill -TERM "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
}

for ((r = 1; r <= ROUNDS; r++)); do
  for variant in none listener; do
    log "round $r/$ROUNDS: $variant"
    run "$variant"
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v k="$2" '{ print $k }' "$WORK/$1"; }
{
  echo "# Metrics listener cost"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
  echo "- load: wsbench $LOAD_ARGS, ${DURATION} s per run after a 1 s warm-up; $ROUNDS rounds, both variants in each, in turn"
  echo "- server: samples/Echo --reactor epoll; listener: dotnet-counters collect --counters WsGen --refresh-interval 1"
  echo
  echo "| variant | server CPU per message, us (median) | alloc B/msg (median) | msg/s (median) |"
  echo "| --- | ---: | ---: | ---: |"
  for v in none listener; do
    echo "| $v | $(col "$v" 1 | median) | $(col "$v" 2 | median) | $(col "$v" 3 | median) |"
  done
  echo
  awk -v a="$(col none 1 | median)" -v b="$(col listener 1 | median)" 'BEGIN { printf "CPU per message with a listener / without: %.3f (%+.1f%%)\n", b / a, (b / a - 1) * 100 }'
  echo
  echo "Every run (CPU us/msg, alloc B/msg, msg/s):"
  echo
  for v in none listener; do echo "- $v: $(awk '{ printf "%s%s / %s / %s", (NR > 1 ? "; " : ""), $1, $2, $3 }' "$WORK/$v")"; done
} | tee "$OUT"
