#!/usr/bin/env bash
# bench/crossnode.sh: cross-node fan-out. A publisher on node A, 1,000 subscribers of the same room on node B: WsGen's
# Chat nodes joined through Redis and through NATS, beside SignalR with its Redis backplane (bench/SignalRChat, a hub
# that broadcasts to a group, two Kestrel nodes on one Redis), with a single WsGen node and a single SignalR node for
# reference, all in the same run. The driver is bench/CrossNode: ClientWebSocket for WsGen, SignalR's .NET client for
# SignalR, the same pattern for both (each message carries its send time and a sequence number).
#
# Usage: bash bench/crossnode.sh [--quick] [--subscribers N] [--rate R]
#   --quick          2 s measured per scenario instead of BENCH_SECONDS (default 10)
#   --subscribers N  subscribers on node B (default 1000)
#   --rate R         the steady scenario's publish rate, messages per second (default 10: 10,000 deliveries/s, a load
#                    that SignalR + Redis carries here, so that its latency is not that of a growing queue)
# Needs redis-server and nats-server (Debian's; tests/install-peers.sh installs them); a setup whose broker is missing
# is reported and skipped.
#
# Scenarios: (steady) R messages/s; (max) as fast as the subscribers take them (at most 16 messages published and not
# yet received by the last subscriber). Each setup (brokers and nodes) is started afresh for each scenario.
# Prints Markdown tables: deliveries per second (ratio to SignalR + Redis in brackets), publish-to-delivery latency,
# the nodes' CPU time per delivery (user + system from /proc, both nodes, over the measured window), the broker's,
# and what was lost or duplicated. Exits 1 if a setup did not start (other than for a broker that is not installed) or
# the driver failed (a duplicate, a reordering, nothing delivered).
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${BENCH_SECONDS:-10}
SUBSCRIBERS=1000
RATE=10
while (($#)); do
  case $1 in
    --quick) DURATION=2; shift ;;
    --subscribers) SUBSCRIBERS=${2:?}; shift 2 ;;
    --rate) RATE=${2:?}; shift 2 ;;
    *) awk 'NR >= 8 && !/^#/ { exit } NR >= 8 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
done
export PATH=$PATH:/usr/sbin

log() { printf '==> %s\n' "$*" >&2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-crossnode.XXXXXX")
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
cleanup() { stop_all; rm -rf "$WORK"; }
trap cleanup EXIT

build() { # project
  log "building $1 (Release)"
  dotnet build "$ROOT/$1" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { tail -n 20 "$WORK/build.log" >&2; exit 1; }
  dotnet msbuild "$ROOT/$1" -nologo -getProperty:TargetPath -p:Configuration=Release
}
CHAT=$(build samples/Chat/Chat.csproj)
SIGNALR=$(build bench/SignalRChat/SignalRChat.csproj)
DRIVER=$(build bench/CrossNode/CrossNode.csproj)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
started() { # port pid: waits until the port accepts, or the process has exited
  for _ in {1..300}; do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# Each setup: name|label|broker|server. broker: none, redis or nats; server: wsgen or signalr. Nodes: 1 without a
# broker (publisher and subscribers on it), 2 with one.
SETUPS=(
  "wsgen-redis|WsGen Chat, 2 nodes + Redis|redis|wsgen"
  "wsgen-nats|WsGen Chat, 2 nodes + NATS|nats|wsgen"
  "signalr-redis|SignalR, 2 nodes + Redis backplane|redis|signalr"
  "wsgen-1|WsGen Chat, 1 node|none|wsgen"
  "signalr-1|SignalR, 1 node|none|signalr"
)
SCENARIOS=(
  "steady|$RATE messages/s|--rate $RATE"
  "max|as fast as taken|--rate 0 --window 16"
)

# Starts a setup; sets NODE_URLS (publish, subscribe), NODE_PIDS (comma-separated) and BROKER_PID, or WHY and fails.
start_setup() { # name broker server
  local name=$1 broker=$2 server=$3 port join=() i
  BROKER_PID=0
  case $broker in
    redis)
      command -v redis-server >/dev/null || { WHY="redis-server is not installed"; return 1; }
      port=$(free_port)
      redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no >"$WORK/$name.broker.log" 2>&1 &
      BROKER_PID=$!; PIDS+=("$BROKER_PID")
      join=(--redis "127.0.0.1:$port") ;;
    nats)
      command -v nats-server >/dev/null || { WHY="nats-server is not installed"; return 1; }
      port=$(free_port)
      nats-server -a 127.0.0.1 -p "$port" >"$WORK/$name.broker.log" 2>&1 &
      BROKER_PID=$!; PIDS+=("$BROKER_PID")
      join=(--nats "nats://127.0.0.1:$port") ;;
  esac
  if [[ $broker != none ]]; then started "$port" "$BROKER_PID" || { WHY="$broker did not start: $(tail -c 300 "$WORK/$name.broker.log")"; return 1; }; fi
  NODE_URLS=(); NODE_PIDS=""
  local nodes=2
  [[ $broker != none ]] || nodes=1
  for ((i = 1; i <= nodes; i++)); do
    port=$(free_port)
    if [[ $server == wsgen ]]; then
      dotnet "$CHAT" --port "$port" "${join[@]}" >"$WORK/$name.node$i.log" 2>&1 &
      NODE_URLS+=("ws://127.0.0.1:$port/")
    else
      dotnet "$SIGNALR" --port "$port" "${join[@]}" >"$WORK/$name.node$i.log" 2>&1 &
      NODE_URLS+=("http://127.0.0.1:$port/")
    fi
    PIDS+=($!); NODE_PIDS+="${NODE_PIDS:+,}$!"
    started "$port" "$!" || { WHY="node $i did not start: $(tail -c 300 "$WORK/$name.node$i.log" | tr '\n' ' ')"; return 1; }
  done
  ((${#NODE_URLS[@]} == 2)) || NODE_URLS+=("${NODE_URLS[0]}")
}

field() { grep -o "^$2=-\?[0-9.]*" "$1" | head -n 1 | cut -d= -f2; }
declare -A R
FAILED=0
for sc in "${SCENARIOS[@]}"; do
  IFS='|' read -r key desc args <<<"$sc"
  for setup in "${SETUPS[@]}"; do
    IFS='|' read -r name label broker server <<<"$setup"
    log "$label: $desc, 1 publisher to $SUBSCRIBERS subscribers"
    out=$WORK/$name.$key.out
    WHY=""
    if ! start_setup "$name" "$broker" "$server"; then
      stop_all
      R[$name,$key,ok]="NO: $WHY"
      [[ $WHY == *"is not installed" ]] || FAILED=1
      log "  skipped: $WHY"
      continue
    fi
    rc=0
    # shellcheck disable=SC2086 # args is a word list by design
    timeout 300 dotnet "$DRIVER" --kind "$server" --publish "${NODE_URLS[0]}" --subscribe "${NODE_URLS[1]}" \
      --subscribers "$SUBSCRIBERS" --seconds "$DURATION" --warmup 1 --pids "$NODE_PIDS" --broker-pid "$BROKER_PID" \
      $args >"$out" 2>"$out.err" || rc=$?
    stop_all
    ((rc == 0)) || FAILED=1
    R[$name,$key,d]=$(field "$out" deliveries_per_s)
    R[$name,$key,lat]="$(field "$out" p50_us) / $(field "$out" p99_us)"
    R[$name,$key,cpu]=$(field "$out" server_cpu_us_per_delivery)
    R[$name,$key,bcpu]=$([[ $broker == none ]] && echo - || field "$out" broker_cpu_us_per_delivery)
    R[$name,$key,srv]=$(field "$out" server_cpu_pct)
    R[$name,$key,client]=$(field "$out" client_cpu_pct)
    R[$name,$key,ok]=$([[ $rc == 0 ]] && echo "lost $(field "$out" lost), duplicated $(field "$out" duplicates)" || echo "NO (exit $rc): $(head -c 200 "$out.err" | tr '\n' ' ')")
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf " (%.2fx)", a / b }'; }
echo "## Cross-node fan-out ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg), ${DURATION} s per scenario, commit $(git -C "$ROOT" rev-parse --short HEAD), WsGen loop: ${WSGEN_REACTOR:-default})"
echo
echo "One publisher on node A, $SUBSCRIBERS subscribers of its room on node B (both on the one node in the 1-node rows), 16-byte messages (WsGen: binary frames; SignalR: two longs in its JSON hub protocol). Scenarios: $(for sc in "${SCENARIOS[@]}"; do IFS='|' read -r key desc _ <<<"$sc"; printf '(%s) %s; ' "$key" "$desc"; done)"
echo
for metric in "d|deliveries/s" "lat|publish to delivery p50 / p99, us" "cpu|nodes' CPU per delivery, us" "bcpu|broker's CPU per delivery, us" "srv|nodes' CPU, % of one CPU" "client|driver's CPU, % of one CPU" "ok|ran; lost, duplicated"; do
  IFS='|' read -r m title <<<"$metric"
  line="| $title |"; sep="| --- |"
  for sc in "${SCENARIOS[@]}"; do IFS='|' read -r key _ <<<"$sc"; line+=" ($key) |"; sep+=" ---: |"; done
  echo "$line"; echo "$sep"
  for setup in "${SETUPS[@]}"; do
    IFS='|' read -r name label _ <<<"$setup"
    line="| $label |"
    for sc in "${SCENARIOS[@]}"; do
      IFS='|' read -r key _ <<<"$sc"
      cell=${R[$name,$key,$m]:-n/a}
      [[ $m == d && $name != signalr-redis ]] && cell+=$(ratio "$cell" "${R[signalr-redis,$key,d]:-}")
      line+=" $cell |"
    done
    echo "$line"
  done
  echo
done
exit $FAILED
