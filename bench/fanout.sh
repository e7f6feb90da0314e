#!/usr/bin/env bash
# bench/fanout.sh: pub/sub fan-out. WsGen's Chat sample (a room is a topic) beside uWebSockets.js's `publish`
# (bench/uws/fanout.mjs), in the same run, driven by wsbench's fan-out mode (bench/load/wsbench.c), in the manner of
# uWebSockets' benchmarks/broadcast_test.c: every client sends a message, every client (the sender included)
# receives every message, each sender's in order.
#
# Usage: bash bench/fanout.sh [--quick] [--loops N] [--only KEY]     (bash bench/run.sh --only fanout runs it too)
#   --quick     2 s per scenario instead of BENCH_SECONDS (default 10)
#   --only KEY  one scenario: f100, f500 or f10k
#   --loops N   WsGen's loops (default 1: uWebSockets.js runs one loop, so the comparison is loop for loop)
# Environment: WSGEN_REACTOR picks WsGen's loop (io_uring by default where the kernel has it); FANOUT_SERVERS adds
#   servers, ';'-separated, each "name|label|path|command" (the command gets --port N appended), e.g. the Chat sample
#   of an earlier commit built elsewhere, to compare the per-member loop it had with topics.
#
# Scenarios: (f100) 100 clients all-to-all; (f500) 500 clients all-to-all (N^2 deliveries per round, one message
# in flight per client); (f10k) one publisher to 10,000 subscribers (16 messages in flight). 32 B binary messages
# (wsbench's fan-out header is 32 bytes; binary, since the Chat sample puts its sender's name before text messages). Each server is started afresh for each scenario.
# Prints a Markdown table: deliveries per second, the server's CPU time per delivery (its user + system time over
# the measured window, over the deliveries in it), latency, and wsbench's own CPU (near 100%: the client is the cap).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${BENCH_SECONDS:-10}
LOOPS=1
ONLY=""
while (($#)); do
  case $1 in
    --quick) DURATION=2; shift ;;
    --loops) LOOPS=${2:?--loops needs a number}; shift 2 ;;
    --only) ONLY=${2:?--only needs a scenario}; shift 2 ;;
    *) awk 'NR >= 4 && !/^#/ { exit } NR >= 4 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
done

log() { printf '==> %s\n' "$*" >&2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-fanout.XXXXXX")
SRV_PID=""
cleanup() { [[ -n $SRV_PID ]] && kill "$SRV_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

SCENARIOS=(
  "f100|100 clients all-to-all|-m fanout -b -c 100 -s 32 -d 1"
  "f500|500 clients all-to-all|-m fanout -b -c 500 -s 32 -d 1"
  "f10k|1 publisher to 10,000 subscribers|-m fanout -b -o -c 10000 -s 32 -d 16"
)
if [[ -n $ONLY ]]; then
  for sc in "${SCENARIOS[@]}"; do [[ ${sc%%|*} == "$ONLY" ]] && SCENARIOS=("$sc") && break; done
  [[ ${SCENARIOS[0]%%|*} == "$ONLY" && ${#SCENARIOS[@]} == 1 ]] || { echo "--only $ONLY: the scenarios are f100, f500 and f10k" >&2; exit 2; }
fi

log "building wsbench"
WSBENCH=$(bash "$ROOT/bench/load/build.sh" "$WORK/bin")
log "building samples/Chat (Release)"
dotnet build "$ROOT/samples/Chat/Chat.csproj" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { tail -n 20 "$WORK/build.log" >&2; exit 1; }
CHAT_DLL=$(dotnet msbuild "$ROOT/samples/Chat/Chat.csproj" -nologo -getProperty:TargetPath -p:Configuration=Release)
SERVERS=("wsgen|WsGen Chat (topics), $LOOPS loop(s)|/chat|dotnet $CHAT_DLL --loops $LOOPS")
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [[ ! -d $ROOT/bench/uws/node_modules ]]; then
    log "installing the npm packages of bench/uws"
    (cd "$ROOT/bench/uws" && npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1 || { tail -n 20 "$WORK/npm.log" >&2; exit 1; }
  fi
  SERVERS+=("uws|uWebSockets.js publish, 1 loop|/|node $ROOT/bench/uws/fanout.mjs")
else
  log "node and npm are not installed: uWebSockets.js is left out"
fi

if [[ -n ${FANOUT_SERVERS:-} ]]; then
  IFS=';' read -r -a extra <<<"$FANOUT_SERVERS"
  SERVERS+=("${extra[@]}")
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
field() { grep -o "$2=-\?[0-9.]*" "$1" | head -n 1 | cut -d= -f2; }
HZ=$(getconf CLK_TCK)

declare -A R
for sc in "${SCENARIOS[@]}"; do
  IFS='|' read -r key desc args <<<"$sc"
  for server in "${SERVERS[@]}"; do
    IFS='|' read -r name label path cmd <<<"$server"
    port=$(free_port)
    # shellcheck disable=SC2086 # cmd is a word list by design
    $cmd --port "$port" >"$WORK/$name.$key.out" 2>&1 &
    SRV_PID=$!
    for _ in {1..300}; do accepts "$port" && break; sleep 0.1; done
    log "$label: $desc"
    out=$WORK/$name.$key.load
    # shellcheck disable=SC2086
    "$WSBENCH" -p "$port" -u "$path" -t "$DURATION" -q $args >"$out" 2>"$out.err" &
    load=$!
    # wsbench opens the connections, waits 0.1 s, warms up 1 s, then measures DURATION s: the server's CPU is
    # read over that window, from when every connection is open (the server's side of them, counted by ss).
    conns=$(grep -o -- '-c [0-9]*' <<<"$args" | cut -d' ' -f2)
    while kill -0 "$load" 2>/dev/null && (($(ss -Htn state established "( sport = :$port )" | wc -l) < conns)); do sleep 0.1; done
    sleep 1.2
    c0=$(cpu_ticks "$SRV_PID"); w0=$EPOCHREALTIME
    sleep "$(awk -v d="$DURATION" 'BEGIN { print d - 0.3 }')"
    c1=$(cpu_ticks "$SRV_PID"); w1=$EPOCHREALTIME
    rc=0; wait "$load" || rc=$?
    kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
    d=$(field "$out" deliveries_per_s)
    R[$name,$key,d]=${d:-n/a}
    R[$name,$key,cpu]=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v r="${d:-0}" -v a="$w0" -v b="$w1" \
      'BEGIN { if (r > 0 && b > a) printf "%.3f", c / hz * 1e6 / (r * (b - a)); else print "n/a" }')
    R[$name,$key,srv]=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.0f", c / hz * 100 / (b - a) }')
    R[$name,$key,lat]="$(field "$out" p50_us) / $(field "$out" p99_us)"
    R[$name,$key,client]=$(field "$out" client_cpu_pct)
    R[$name,$key,ok]=$([[ $rc == 0 ]] && echo yes || echo "NO: $(head -c 200 "$out.err" | tr '\n' ' ')")
  done
done

echo "## Fan-out ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, ${DURATION} s per scenario, commit $(git -C "$ROOT" rev-parse --short HEAD), WsGen loop: ${WSGEN_REACTOR:-default})"
echo
echo "Scenarios: $(for sc in "${SCENARIOS[@]}"; do IFS='|' read -r key desc _ <<<"$sc"; printf '(%s) %s; ' "$key" "$desc"; done)32 B text."
echo
for metric in "d|deliveries/s" "cpu|server CPU per delivery, us" "srv|server CPU, % of one CPU" "lat|latency p50 / p99, us" "client|wsbench CPU, % of one CPU" "ok|every delivery, in order"; do
  IFS='|' read -r m title <<<"$metric"
  line="| $title |"; sep="| --- |"
  for sc in "${SCENARIOS[@]}"; do IFS='|' read -r key _ <<<"$sc"; line+=" ($key) |"; sep+=" ---: |"; done
  echo "$line"; echo "$sep"
  for server in "${SERVERS[@]}"; do
    IFS='|' read -r name label _ <<<"$server"
    line="| $label |"
    for sc in "${SCENARIOS[@]}"; do IFS='|' read -r key _ <<<"$sc"; line+=" ${R[$name,$key,$m]:-n/a} |"; done
    echo "$line"
  done
  echo
done
