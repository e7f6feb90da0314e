#!/usr/bin/env bash
# samples/Chat/cluster/run.sh: a Chat cluster on this machine: a broker, Chat nodes joined to it, nginx in front.
#
# Usage: bash samples/Chat/cluster/run.sh redis|nats [--nodes N] [--port P]
#   redis|nats  the broker: Debian's redis-server or nats-server, on a free loopback port (nodes get --redis or --nats)
#   --nodes N   Chat nodes, each on a free port of its own (default 2)
#   --port P    nginx's port: the page is at http://127.0.0.1:P/ (default 8080)
# Every process runs in the foreground of this script, with its logs in a temporary folder (printed at start); Ctrl-C
# stops them all. Open http://127.0.0.1:P/?name=alice and http://127.0.0.1:P/?name=bob in two tabs: nginx puts them
# on different nodes (least_conn), and each sees the other's messages through the broker. Kill a node (its pid is
# printed) and its tabs reconnect through nginx to another node.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../../.." && pwd)
usage() { awk 'NR >= 4 && !/^#/ { exit } NR >= 4 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 2; }
BROKER=${1:-}
[[ $BROKER == redis || $BROKER == nats ]] || usage
shift
NODES=2
PORT=8080
while (($#)); do
  case $1 in
    --nodes) NODES=${2:?}; shift 2 ;;
    --port) PORT=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
[[ $NODES =~ ^[1-9][0-9]*$ && $PORT =~ ^[0-9]+$ ]] || usage
for tool in nginx "$BROKER-server"; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "$tool is missing: apt-get install nginx-light redis-server nats-server (or tests/install-peers.sh)" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin

log() { printf '==> %s\n' "$*" >&2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-cluster.XXXXXX")
chmod 755 "$WORK"   # nginx's workers run as another user when nginx is started as root
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; log "logs kept in $WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # port, pid, name
  for _ in {1..300}; do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited: see $WORK" >&2; exit 1; }
    sleep 0.1
  done
  echo "$3 is not listening on $1 after 30 s: see $WORK" >&2; exit 1
}

log "building samples/Chat (Release)"
dotnet build "$ROOT/samples/Chat/Chat.csproj" -c Release -nologo -v q >"$WORK/build.log" 2>&1 || { tail -n 20 "$WORK/build.log" >&2; exit 1; }
CHAT_DLL=$(dotnet msbuild "$ROOT/samples/Chat/Chat.csproj" -nologo -getProperty:TargetPath -p:Configuration=Release)

BROKER_PORT=$(free_port)
if [[ $BROKER == redis ]]; then
  redis-server --bind 127.0.0.1 --port "$BROKER_PORT" --save '' --appendonly no --logfile "$WORK/redis.log" &
  JOIN=(--redis "127.0.0.1:$BROKER_PORT")
else
  nats-server -a 127.0.0.1 -p "$BROKER_PORT" -l "$WORK/nats.log" &
  JOIN=(--nats "nats://127.0.0.1:$BROKER_PORT")
fi
PIDS+=($!)
wait_port "$BROKER_PORT" "$!" "$BROKER-server"
log "$BROKER-server on 127.0.0.1:$BROKER_PORT (pid $!)"

UPSTREAMS=""
for ((i = 1; i <= NODES; i++)); do
  port=$(free_port)
  dotnet "$CHAT_DLL" --port "$port" "${JOIN[@]}" >"$WORK/node$i.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port" "$!" "Chat node $i"
  log "Chat node $i on 127.0.0.1:$port (pid $!)"
  UPSTREAMS+="        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'
done

sed -e "s|@DIR@|$WORK|g" -e "s|@PORT@|$PORT|g" -e "/@NODES@/{
r /dev/stdin
d
}" "$ROOT/samples/Chat/cluster/nginx.conf" <<<"${UPSTREAMS%$'\n'}" >"$WORK/nginx.conf"
nginx -e "$WORK/error.log" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
wait_port "$PORT" "$!" nginx
log "nginx on 127.0.0.1:$PORT (pid $!), config $WORK/nginx.conf"
echo "Chat cluster ($BROKER, $NODES nodes): open http://127.0.0.1:$PORT/?name=alice and http://127.0.0.1:$PORT/?name=bob; Ctrl-C stops it."
wait "${PIDS[-1]}" || true   # nginx: a node killed to try failover leaves the others running
