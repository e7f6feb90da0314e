#!/usr/bin/env bash
# bench/run.sh: WsGen's echo sample against a Kestrel echo server, side by side, in one run.
#
# Usage: bash bench/run.sh [--only NAME[,NAME...]] [--quick] [--tls | --handshakes]
#   --only NAMES  bench these servers only (wsgen, kestrel, or names added through SERVERS), comma-separated;
#                 `--only fanout` runs only the pub/sub fan-out scenario (bench/fanout.sh), which a full run appends
#   --quick       1 round, 2 s per scenario and 1000 idle connections (overrides the variables below):
#                 a smoke test, not a measurement
#   --tls         the TLS (wss://) run instead: every server that can serves TLS with a certificate made for the run
#                 (openssl), wsbench runs with -S; scenarios (t) echo and (h) handshakes, and the idle one over TLS
#   --handshakes  the upgrade hook's run instead: WsGen hand-wired with and without a trivial synchronous upgrade hook
#                 (Echo --upgrade-hook), scenario (u) handshakes in wsbench's churn mode, and the idle one
# Environment:
#   BENCH_ROUNDS      rounds of the load scenarios, each server in turn per round; the table shows each
#                     server's median round (default 3)
#   BENCH_SECONDS     seconds per load scenario, after wsbench's 1 s warm-up (default 10)
#   BENCH_IDLE_CONNS  connections in the idle scenario (default 10000)
#   BENCH_PIN         1: each server on CPU 1 and wsbench on CPU 0 (taskset), instead of sharing both CPUs
#   BENCH_OUT         where the report is written (default bench/results/latest.md, or pinned.md with BENCH_PIN=1)
#   SERVERS           more servers, ';'-separated, each "name|label|spec" (see SERVER_DEFS)
#   REFEREE           path to an outside load generator's C source taking the same flags (e.g. ../shared/tools/wsload.c),
#                     used instead of wsbench to cross-check its figures (default: none, wsbench is used)
#
# Prints a Markdown report and writes it to BENCH_OUT. See bench/README.md.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
REFEREE=${REFEREE:-}
DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
IDLE_CONNS=${BENCH_IDLE_CONNS:-10000}
PIN=${BENCH_PIN:-0}
IDLE_HOLD=5
ONLY=""
TLS=0
HANDSHAKES=0
RESULTS=$ROOT/bench/results/latest.md
((PIN)) && RESULTS=$ROOT/bench/results/pinned.md
RESULTS=${BENCH_OUT:-$RESULTS}

# Servers, in the order they run. One line each: "name|label|spec". A spec whose first word is a
# .csproj (relative to the repo root) is built in Release and run as `dotnet <its dll> <the rest>`; a .c file
# is compiled with `cc -O2`; a .mjs file is run with `node` after `npm ci` in its folder; any other spec is a
# shell command. Every server gets `--port N --stats` appended and must serve ws://127.0.0.1:N/ and print
# `stats messages=<n> allocated=<bytes>` once a second (`stats messages=<n>` without a managed heap).
SERVER_DEFS=(
  "wsgen|WsGen epoll|samples/Echo/Echo.csproj --reactor epoll"
  "wsgen-uring|WsGen io_uring|samples/Echo/Echo.csproj --reactor io_uring"
  "wsgen-hand|WsGen epoll, hand-wired|samples/Echo/Echo.csproj --reactor epoll --hand-wired"
  "wsgen-hook|WsGen epoll, hand-wired, upgrade hook|samples/Echo/Echo.csproj --reactor epoll --upgrade-hook"
  "kestrel|Kestrel|bench/KestrelEcho/KestrelEcho.csproj"
  "uws|uWebSockets.js|bench/uws/echo.mjs"
  "floor|C floor|bench/floor/echo.c"
  # permessage-deflate (RFC 7692): a server whose name contains "deflate" runs the compression scenarios (e, f) and
  # the idle scenario with compression negotiated; every other server runs (a)-(c). See bench/README.md.
  "wsgen-deflate-shared|WsGen epoll, deflate shared|samples/Echo/Echo.csproj --reactor epoll --deflate shared"
  "wsgen-deflate-dedicated|WsGen epoll, deflate dedicated|samples/Echo/Echo.csproj --reactor epoll --deflate dedicated"
  "kestrel-deflate|Kestrel, compression|bench/KestrelEcho/KestrelEcho.csproj --deflate"
  "uws-deflate-shared|uWebSockets.js SHARED_COMPRESSOR|bench/uws/echo.mjs --compression shared"
  "uws-deflate-dedicated|uWebSockets.js DEDICATED_COMPRESSOR|bench/uws/echo.mjs --compression dedicated"
)
BASELINE=kestrel
RIVAL=uws   # the fastest server measured here besides WsGen: a second ratio table compares every server to it

# Load scenarios: "key|description|wsbench arguments" (the port, -t and -q are added by run_echo).
SCENARIOS=(
  "a|100 conns x 32 B text, 1 in flight|-c 100 -s 32 -d 1"
  "b|100 conns x 32 B text, 16 in flight|-c 100 -s 32 -d 16"
  "c|100 conns x 16 KiB binary, 1 in flight|-c 100 -s 16384 -d 1 -b"
  # -z: permessage-deflate, JSON-like text that varies per message; only the servers named *deflate* run these.
  "e|100 conns x 1 KiB JSON-like text, permessage-deflate, 1 in flight|-c 100 -s 1024 -d 1 -z"
  "f|100 conns x 16 KiB JSON-like text, permessage-deflate, 1 in flight|-c 100 -s 16384 -d 1 -z"
)
# True when server $1 is a permessage-deflate variant (it runs the -z scenarios, and only those).
is_deflate() { [[ $1 == *deflate* ]]; }
# The servers the ratios of a scenario (wsbench arguments $1) compare against: the deflate variants of the baseline
# and of the rival in the -z scenarios.
base_of() { if [[ " $1 " == *" -z "* ]]; then echo "$BASELINE-deflate"; else echo "$BASELINE"; fi; }
rival_of() { if [[ " $1 " == *" -z "* ]]; then echo "$RIVAL-deflate-shared"; else echo "$RIVAL"; fi; }
# True when server $1 runs the scenario with wsbench arguments $2.
runs_scenario() { if [[ " $2 " == *" -z "* ]]; then is_deflate "$1"; else ! is_deflate "$1"; fi; }

usage() { awk 'NR >= 4 && !/^#/ { exit } NR >= 4 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }
log() { printf '==> %s\n' "$*" >&2; }
warn() { printf '!!! %s\n' "$*" >&2; }

while (($#)); do
  case $1 in
    --only) ONLY=${2:?--only needs a server name}; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --quick) ROUNDS=1; DURATION=2; IDLE_CONNS=1000; IDLE_HOLD=2; shift ;;
    --tls) TLS=1; shift ;;
    --handshakes) HANDSHAKES=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { warn "BENCH_ROUNDS must be a positive number"; exit 2; }
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || { warn "BENCH_SECONDS must be a whole number of seconds"; exit 2; }
[[ $IDLE_CONNS =~ ^[1-9][0-9]*$ ]] || { warn "BENCH_IDLE_CONNS must be a positive number"; exit 2; }
[[ $PIN == [01] ]] || { warn "BENCH_PIN must be 0 or 1"; exit 2; }

# ---- pub/sub fan-out (bench/fanout.sh: WsGen's Chat on topics beside uWebSockets.js publish) ----
# `--only fanout` runs it alone; a full run appends its tables to the report (see the end of this script).
if [[ ,$ONLY, == ,fanout, ]]; then
  exec env BENCH_SECONDS="$DURATION" bash "$ROOT/bench/fanout.sh"
fi
# ---- end of pub/sub fan-out ----
PIN_SERVER="" PIN_LOAD=""
if ((PIN)); then
  (($(nproc) >= 2)) && command -v taskset >/dev/null || { warn "BENCH_PIN=1 needs 2 CPUs and taskset"; exit 2; }
  PIN_SERVER="taskset -c 1" PIN_LOAD="taskset -c 0"
fi
# ---- TLS run (--tls) ---------------------------------------------------------------------------
# The servers that serve wss:// (each takes --tls-cert CERT.pem --tls-key KEY.pem), the TLS scenarios, and the
# report's file. wsbench's -S verifies no certificate, so a self-signed one made for the run does.
TLS_SERVERS=",wsgen,wsgen-uring,wsgen-hand,kestrel,uws,"
if ((TLS)); then
  SCENARIOS=(
    "t|100 conns x 32 B text over TLS, 1 in flight|-c 100 -s 32 -d 1 -S"
    "h|TLS handshakes: 50 conns each in a cycle of TLS handshake, upgrade, one 32 B echo, close|-m churn -c 50 -S"
  )
  [[ -n ${BENCH_OUT:-} ]] || RESULTS=$ROOT/bench/results/tls.md
fi

# ---- the upgrade hook's run (--handshakes) -------------------------------------------------------------------
# The same hand-wired server with and without a trivial synchronous upgrade hook, one handshake scenario.
HOOK_SERVERS=",wsgen-hand,wsgen-hook,"
if ((HANDSHAKES)); then
  ((TLS)) && { warn "--tls and --handshakes are separate runs"; exit 2; }
  SCENARIOS=("u|handshakes: 50 conns each in a cycle of connect, upgrade, one 32 B echo, close|-m churn -c 50")
  BASELINE=wsgen-hand
  [[ -n ${BENCH_OUT:-} ]] || RESULTS=$ROOT/bench/results/handshakes.md
fi

if [[ -n ${SERVERS:-} ]]; then
  IFS=';' read -r -a extra <<<"$SERVERS"
  for def in "${extra[@]}"; do [[ -n ${def// /} ]] && SERVER_DEFS+=("$def"); done
fi

SELECTED=()
for def in "${SERVER_DEFS[@]}"; do
  ((TLS)) && [[ $TLS_SERVERS != *",${def%%|*},"* ]] && continue
  ((HANDSHAKES)) && [[ $HOOK_SERVERS != *",${def%%|*},"* ]] && continue
  ((HANDSHAKES)) || [[ ${def%%|*} != wsgen-hook ]] || continue
  [[ -z $ONLY || ",$ONLY," == *",${def%%|*},"* ]] && SELECTED+=("$def")
done
((${#SELECTED[@]})) || { warn "no server named '$ONLY'"; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-bench.XXXXXX")
TLS_ARGS=""
if ((TLS)); then
  command -v openssl >/dev/null || { warn "--tls needs the openssl command (Debian: openssl)"; exit 2; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
  TLS_ARGS="--tls-cert $(printf '%q' "$WORK/cert.pem") --tls-key $(printf '%q' "$WORK/key.pem")"
fi
SRV_PID=""
LOAD_PID=""
FAILED=0

stop_server() {
  [[ -n $SRV_PID ]] || return 0
  kill -TERM "$SRV_PID" 2>/dev/null || true
  for _ in {1..50}; do alive "$SRV_PID" || break; sleep 0.1; done
  kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
}
cleanup() {
  [[ -z $LOAD_PID ]] || kill -KILL "$LOAD_PID" 2>/dev/null || true
  stop_server
  if ((FAILED)); then warn "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# True while the process runs (a child that exited but was not reaped yet is a zombie: not alive).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port below the usual ephemeral range that nothing on 127.0.0.1 answers on.
free_port() {
  local port
  for _ in {1..100}; do
    port=$((20000 + RANDOM % 12000))
    if ! accepts "$port"; then echo "$port"; return 0; fi
  done
  return 1
}

# ---- load client ---------------------------------------------------------------------------
# bench/load/wsbench.c, or with REFEREE=path/to/source.c an outside client with the same flags and output fields.
if [[ -n $REFEREE ]]; then
  [[ -f $REFEREE ]] || { warn "REFEREE: no such file: $REFEREE"; exit 1; }
  LOAD=$WORK/referee LOAD_NAME="referee $(basename "$REFEREE" .c)"
  log "building the referee load client from $REFEREE"
  cc -O2 -o "$LOAD" "$REFEREE" -Wl,--no-as-needed -lz -lssl -lcrypto
else
  log "building wsbench (bench/load/wsbench.c)"
  LOAD=$(bash "$ROOT/bench/load/build.sh" "$WORK") LOAD_NAME=wsbench
fi

# The idle scenario holds IDLE_CONNS sockets in the server and as many in the load client.
need_fds=$((IDLE_CONNS + 1024))
if [[ $(ulimit -n) != unlimited ]] && (($(ulimit -n) < need_fds)); then
  ulimit -n "$need_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  [[ $(ulimit -n) == unlimited ]] || (($(ulimit -n) >= need_fds)) ||
    warn "ulimit -n is $(ulimit -n), below the $need_fds the idle scenario needs"
fi

# ---- servers -------------------------------------------------------------------------------
declare -A LABEL CMD STATUS BUILT
RUN=()
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
for def in "${SELECTED[@]}"; do
  IFS='|' read -r name label spec <<<"$def"
  read -r first rest <<<"$spec"
  if [[ $first == *.c ]]; then
    log "compiling $first"
    if cc -O2 -o "$WORK/$name" "$ROOT/$first" 2>"$WORK/build.$name.log"; then
      CMD[$name]="$(printf '%q' "$WORK/$name") $rest"
    else
      tail -n 20 "$WORK/build.$name.log" >&2
      warn "$label: $first did not compile; skipping it"
      FAILED=1
      continue
    fi
  elif [[ $first == *.mjs ]]; then
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
      log "$label: node and npm are not installed; skipping it"
      continue
    fi
    dir=$(dirname "$ROOT/$first")
    if [[ ! -d $dir/node_modules ]]; then
      log "installing the npm packages of ${dir#"$ROOT"/}"
      if ! (cd "$dir" && npm ci --no-audit --no-fund) >"$WORK/build.$name.log" 2>&1; then
        tail -n 20 "$WORK/build.$name.log" >&2
        warn "$label: npm ci failed in ${dir#"$ROOT"/}; skipping it"
        FAILED=1
        continue
      fi
    fi
    CMD[$name]="node $(printf '%q' "$ROOT/$first") $rest"
  elif [[ $first != *.csproj ]]; then
    CMD[$name]=$spec
  elif [[ ! -f $ROOT/$first ]]; then
    log "$label: $first does not exist yet; skipping it"
    continue
  else
    if [[ -z ${BUILT[$first]:-} ]]; then
      log "building $first (Release)"
      if dotnet build "$ROOT/$first" -c Release -nologo -v q >"$WORK/build.$name.log" 2>&1; then
        BUILT[$first]=$(dotnet msbuild "$ROOT/$first" -nologo -getProperty:TargetPath -p:Configuration=Release)
        [[ -f ${BUILT[$first]} ]] || { warn "$first: no single TargetPath to run"; BUILT[$first]=FAILED; }
      else
        BUILT[$first]=FAILED
        tail -n 20 "$WORK/build.$name.log" >&2
      fi
    fi
    if [[ ${BUILT[$first]} == FAILED ]]; then
      warn "$label: build of $first failed; skipping it"
      FAILED=1
      continue
    fi
    CMD[$name]="dotnet $(printf '%q' "${BUILT[$first]}") $rest"
  fi
  LABEL[$name]=$label
  RUN+=("$name")
done
((${#RUN[@]})) || { warn "nothing to bench"; exit 1; }

# Starts server $1 on a free port with --stats and waits until it accepts connections.
# Sets SRV_PID, SRV_PORT, SRV_OUT. Returns 1 if it exits or does not listen within 30 s.
start_server() {
  local name=$1 tag=$2
  SRV_PORT=$(free_port) || { warn "no free port"; return 1; }
  SRV_OUT=$WORK/$name.$tag.out
  bash -c "exec $PIN_SERVER ${CMD[$name]} --port $SRV_PORT --stats $TLS_ARGS" >"$SRV_OUT" 2>"$WORK/$name.$tag.err" &
  SRV_PID=$!
  for _ in {1..300}; do
    if ! alive "$SRV_PID"; then
      warn "${LABEL[$name]} exited before accepting connections:"
      head -n 20 "$SRV_OUT" "$WORK/$name.$tag.err" >&2 || true
      wait "$SRV_PID" 2>/dev/null || true
      SRV_PID=""
      return 1
    fi
    accepts "$SRV_PORT" && return 0
    sleep 0.1
  done
  warn "${LABEL[$name]} did not accept connections on port $SRV_PORT within 30 s"
  stop_server
  return 1
}

stats_count() { grep -c '^stats ' "$SRV_OUT" || true; }
# stats_field LINE FIELD: the field's value on the server's LINE-th stats line, or nothing if that line lacks it.
stats_field() { grep '^stats ' "$SRV_OUT" | sed -n "${1}p" | { grep -o "$2=[0-9]*" || true; } | cut -d= -f2; }
# A field of wsbench's output, or nothing when this mode does not print it (churn has no wire bytes, say).
field() { { grep -o "$2=-\?[0-9.]*" "$1" || true; } | head -n 1 | cut -d= -f2; }
# The CPU time (user + system, in clock ticks) process $1 has used; the fields after the command name, which
# may contain spaces, are counted from its closing parenthesis.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
CLK_TCK=$(getconf CLK_TCK)
elapsed_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

declare -A R   # R[name,key,metric]
NOTES=()

# Runs one load scenario against the running server; stores msg/s, p50, p99, alloc B/msg, the server's CPU
# time per message (its user + system time over the measured window, over the client's rate times that window)
# and the load client's own CPU use over that window, in percent of one CPU.
# Allocation is measured between two of the server's stats lines printed while the load ran
# (the newest line 1.5 s into the run, and the newest one shortly before the load stops), so
# connection setup and teardown stay out of the per-message figure.
run_echo() {
  local name=$1 key=$2 args=$3 out=$WORK/$1.$2.load t0 first last rc=0
  key=$key,r$ROUND
  # shellcheck disable=SC2086 # args is a word list by design
  $PIN_LOAD "$LOAD" -p "$SRV_PORT" -t "$DURATION" -q $args >"$out" 2>"$out.err" &
  LOAD_PID=$!
  t0=$EPOCHREALTIME
  sleep 1.5
  first=$(stats_count)
  local c0 c1 l0 l1 w0 w1
  c0=$(cpu_ticks "$SRV_PID"); l0=$(cpu_ticks "$LOAD_PID"); w0=$EPOCHREALTIME
  sleep "$(awk -v d="$DURATION" -v e="$(elapsed_since "$t0")" 'BEGIN { s = d + 0.7 - e; print (s > 0 ? s : 0) }')"
  last=$(stats_count)
  c1=$(cpu_ticks "$SRV_PID"); l1=$(cpu_ticks "$LOAD_PID"); w1=$EPOCHREALTIME
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=""
  R[$name,$key,msgs]=$(field "$out" msgs_per_s)
  [[ -n ${R[$name,$key,msgs]} ]] || R[$name,$key,msgs]=$(field "$out" cycles_per_s)   # churn: one message a cycle
  R[$name,$key,p50]=$(field "$out" p50_us)
  R[$name,$key,p99]=$(field "$out" p99_us)
  R[$name,$key,wire]=$(field "$out" wire_bytes_per_msg)
  if [[ -n $c0 && -n $c1 && -n ${R[$name,$key,msgs]} ]]; then
    R[$name,$key,cpu]=$(awk -v c="$((c1 - c0))" -v hz="$CLK_TCK" -v r="${R[$name,$key,msgs]}" -v a="$w0" -v b="$w1" \
      'BEGIN { if (r > 0 && b > a) printf "%.2f", c / hz * 1e6 / (r * (b - a)) }')
  fi
  if [[ -n $l0 && -n $l1 ]]; then
    R[$name,$key,load]=$(awk -v c="$((l1 - l0))" -v hz="$CLK_TCK" -v a="$w0" -v b="$w1" \
      'BEGIN { if (b > a) printf "%.0f", c / hz * 100 / (b - a) }')
  fi
  if ((first > 0 && last > first)); then
    local m0 m1 a0 a1
    m0=$(stats_field "$first" messages); m1=$(stats_field "$last" messages)
    a0=$(stats_field "$first" allocated); a1=$(stats_field "$last" allocated)
    if ((m1 > m0)) && [[ -n $a0 && -n $a1 ]]; then
      R[$name,$key,alloc]=$(awk -v a="$((a1 - a0))" -v m="$((m1 - m0))" 'BEGIN { printf "%.1f", a / m }')
    fi
  fi
  if ((rc != 0)); then
    FAILED=1
    R[$name,$key,bad]=1
    NOTES+=("${LABEL[$name]}, scenario ${key/,r/, round }: $LOAD_NAME reported a problem: $(head -n 1 "$out") $(head -n 3 "$out.err" | tr '\n' ' ')")
  fi
}

# Median round of server $1 in scenario $2: copies that round's figures to R[$1,$2,*] and lists every
# round's msg/s in R[$1,$2,rounds], and the median round's "p50 / p99" in R[$1,$2,latency].
pick_median() {
  local name=$1 key=$2 r i sorted=() all=""
  for ((r = 1; r <= ROUNDS; r++)); do
    [[ -n ${R[$name,$key,r$r,msgs]:-} ]] || continue
    sorted+=("${R[$name,$key,r$r,msgs]} $r")
    all+="${all:+ / }${R[$name,$key,r$r,msgs]}"
  done
  ((${#sorted[@]})) || return 0
  r=$(printf '%s\n' "${sorted[@]}" | sort -n | awk -v n="${#sorted[@]}" 'NR == int((n + 1) / 2) { print $2 }')
  local metric
  for metric in msgs p50 p99 alloc cpu load wire; do
    [[ -n ${R[$name,$key,r$r,$metric]:-} ]] && R[$name,$key,$metric]=${R[$name,$key,r$r,$metric]}
  done
  [[ -n ${R[$name,$key,p50]:-} ]] && R[$name,$key,latency]="${R[$name,$key,p50]} / ${R[$name,$key,p99]}"
  for ((i = 1; i <= ROUNDS; i++)); do [[ -n ${R[$name,$key,r$i,bad]:-} ]] && R[$name,$key,bad]=1; done
  R[$name,$key,rounds]=$all
}

# The load scenarios: every server in turn, ROUNDS times, so that a slow spell of the shared machine
# does not land on one server only.
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  for name in "${RUN[@]}"; do
    [[ -z ${STATUS[$name]:-} ]] || continue
    if ! start_server "$name" "load$ROUND"; then
      STATUS[$name]="did not start"
      FAILED=1
      continue
    fi
    for sc in "${SCENARIOS[@]}"; do
      IFS='|' read -r key desc args <<<"$sc"
      runs_scenario "$name" "$args" || continue
      log "${LABEL[$name]}: $desc, ${DURATION} s (round $ROUND of $ROUNDS)"
      run_echo "$name" "$key" "$args"
      if ! alive "$SRV_PID"; then
        NOTES+=("${LABEL[$name]} exited during scenario $key: $(tail -n 3 "$WORK/$name.load$ROUND.err" | tr '\n' ' ')")
        FAILED=1
        break
      fi
      sleep 1   # let the closed connections drain before the next scenario
    done
    stop_server
  done
done
for name in "${RUN[@]}"; do
  for sc in "${SCENARIOS[@]}"; do
    IFS='|' read -r key desc args <<<"$sc"
    pick_median "$name" "$key"
  done
done

# still_live N: the managed heap after a full collection (the `live=` field of samples/Echo's stats line, printed
# while the server is still) with N connections open, waiting up to 5 s for such a line; nothing for other servers.
still_live() {
  local v=""
  for _ in {1..25}; do
    v=$(grep "^stats .*connections=$1 live=[0-9]" "$SRV_OUT" | tail -n 1 | grep -o 'live=[0-9]*' | cut -d= -f2 || true)
    [[ -n $v ]] && break
    grep -q '^stats .* live=' "$SRV_OUT" || break
    sleep 0.2
  done
  echo "$v"
}
IDLE_TLS=""
((TLS)) && IDLE_TLS=-S

for name in "${RUN[@]}"; do
  [[ -z ${STATUS[$name]:-} ]] || continue
  # The idle scenario gets a fresh process, so that its RSS reflects connections, not past load.
  if start_server "$name" idle; then
    # Warm-up (not measured): 1000 handshakes and a second of echo, so that code paths are compiled and
    # one-time memory (JIT, tiered recompilation, first GC regions) is in the baseline, not in the per-connection figure.
    z=""
    is_deflate "$name" && z=-z   # the deflate variants hold connections that negotiated compression
    # shellcheck disable=SC2086 # IDLE_TLS and z are empty or a flag
    "$LOAD" -p "$SRV_PORT" -i -c 1000 -t 1 -q $IDLE_TLS $z >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    "$LOAD" -p "$SRV_PORT" -c 50 -t 1 -q $IDLE_TLS $z >/dev/null 2>&1 || true
    sleep 1
    live0=$(still_live 0)
    log "${LABEL[$name]}: $IDLE_CONNS idle connections${z:+ (permessage-deflate)}, held ${IDLE_HOLD} s"
    out=$WORK/$name.idle.load rc=0
    # shellcheck disable=SC2086
    $PIN_LOAD "$LOAD" -p "$SRV_PORT" -i -c "$IDLE_CONNS" -n 4 -P "$SRV_PID" -t "$IDLE_HOLD" -q $IDLE_TLS $z >"$out" 2>"$out.err" || rc=$?
    R[$name,idle,rss]=$(field "$out" per_conn_bytes)
    live1=$(grep "^stats .*connections=$IDLE_CONNS live=[0-9]" "$SRV_OUT" | tail -n 1 | grep -o 'live=[0-9]*' | cut -d= -f2 || true)
    if [[ -n $live0 && -n $live1 ]]; then
      R[$name,idle,managed]=$(awk -v a="$live0" -v b="$live1" -v n="$IDLE_CONNS" 'BEGIN { printf "%.0f", (b - a) / n }')
    fi
    R[$name,idle,alive]=$(field "$out" alive_and_echoing)
    if ((rc != 0)); then
      FAILED=1
      R[$name,idle,bad]=1
      NOTES+=("${LABEL[$name]}, idle: $(tail -n 1 "$out") $(head -n 3 "$out.err" | tr '\n' ' ')")
    fi
    stop_server
  else
    STATUS[$name]="did not start"
    FAILED=1
  fi
done

# ---- report --------------------------------------------------------------------------------
# cell KEY [FLAG_KEY]: the value, marked (!) when the flag is set, or n/a.
cell() {
  local v=${R[$1]:-} mark=""
  [[ -n ${2:-} && -n ${R[$2]:-} ]] && mark=" (!)"
  if [[ -n $v ]]; then echo "$v$mark"; else echo "n/a"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
# " (1.23x)", or nothing when either figure is missing.
ratio_suffix() { local r; r=$(ratio "$1" "$2"); [[ $r == n/a ]] || echo " (${r}x)"; }
has_base=0
has_rival=0
for name in "${RUN[@]}"; do
  [[ $name == "$BASELINE" || $name == "$BASELINE-deflate" ]] && has_base=1
  [[ $name == "$RIVAL" || $name == "$RIVAL-deflate-shared" ]] && has_rival=1
done
row() { local line="|" c; for c in "$@"; do line+=" $c |"; done; echo "$line"; }

report() {
  local name sc key desc args cells header=("server") align=("---")
  local title=""
  for name in "${RUN[@]}"; do title+="${title:+ vs }${LABEL[$name]}"; done
  echo "# WebSocket echo benchmark$( ((TLS)) && echo " over TLS"): $title"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: nproc=$(nproc), CPU: $(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
  echo "- .NET SDK $(cd "$ROOT" && dotnet --version), runtime $(dotnet --list-runtimes | grep -m 1 -o 'Microsoft.NETCore.App [0-9][^ ]*' | cut -d' ' -f2), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- load: $LOAD_NAME, ${DURATION} s per scenario after a 1 s warm-up, ${ROUNDS} round(s) with the servers in turn, median round shown; idle: ${IDLE_CONNS} connections held ${IDLE_HOLD} s, on a fresh server warmed up by 1000 short-lived connections"
  if ((PIN)); then
    echo "- CPUs: pinned, every server on CPU 1 and $LOAD_NAME on CPU 0"
  else
    echo "- CPUs: shared, the servers and $LOAD_NAME placed by the scheduler on both CPUs"
  fi
  echo
  echo "Scenarios: $(for sc in "${SCENARIOS[@]}"; do IFS='|' read -r key desc args <<<"$sc"; printf '(%s) %s; ' "$key" "$desc"; done)(d) ${IDLE_CONNS} idle connections."
  ((has_base)) && echo "Figures in brackets are ratios to Kestrel in the same run (Kestrel with compression in (e) and (f))."
  echo
  for sc in "${SCENARIOS[@]}"; do
    IFS='|' read -r key desc args <<<"$sc"
    header+=("($key)")
    align+=("---:")
  done

  # metric_table TITLE METRIC [with-ratio]: one row per server, one column per load scenario.
  metric_table() {
    local title=$1 metric=$2 with_ratio=${3:-}
    row "$title" "${header[@]:1}"
    row "${align[@]}"
    for name in "${RUN[@]}"; do
      cells=("${LABEL[$name]}")
      for sc in "${SCENARIOS[@]}"; do
        IFS='|' read -r key desc args <<<"$sc"
        local v
        v=$(cell "$name,$key,$metric" "$name,$key,bad")
        local base
        base=$(base_of "$args")
        if [[ -n $with_ratio && $v != n/a && $name != "$base" ]] && ((has_base)); then
          v+=$(ratio_suffix "${R[$name,$key,$metric]:-}" "${R[$base,$key,$metric]:-}")
        fi
        cells+=("$v")
      done
      row "${cells[@]}"
    done
    echo
  }
  # rival_table TITLE METRIC: every other server's figure over the rival's, one row per server.
  rival_table() {
    local title=$1 metric=$2 r
    row "$title" "${header[@]:1}"
    row "${align[@]}"
    for name in "${RUN[@]}"; do
      [[ $name != "$RIVAL" && $name != "$RIVAL-deflate-shared" ]] || continue
      cells=("${LABEL[$name]}")
      for sc in "${SCENARIOS[@]}"; do
        IFS='|' read -r key desc args <<<"$sc"
        r=$(ratio "${R[$name,$key,$metric]:-}" "${R[$(rival_of "$args"),$key,$metric]:-}")
        [[ $r == n/a ]] || r+=x
        cells+=("$r")
      done
      row "${cells[@]}"
    done
    echo
  }
  # ceiling_line: per scenario, the msg/s the load client would reach with a whole CPU to itself at its lowest CPU per
  # message in this run (a server that needed no CPU at all), and that over the baseline's msg/s.
  ceiling_line() {
    local line="" best v
    for sc in "${SCENARIOS[@]}"; do
      IFS='|' read -r key desc args <<<"$sc"
      best=""
      for name in "${RUN[@]}"; do
        [[ -n ${R[$name,$key,msgs]:-} && -n ${R[$name,$key,load]:-} ]] || continue
        v=$(awk -v m="${R[$name,$key,msgs]}" -v l="${R[$name,$key,load]}" 'BEGIN { if (l > 0) printf "%.0f", m * 100 / l }')
        [[ -n $v ]] && { [[ -z $best ]] || ((v > best)); } && best=$v
      done
      [[ -n $best ]] || continue
      line+="${line:+; }($key) $best msg/s"
      ((has_base)) && line+=$(ratio_suffix "$best" "${R[$BASELINE,$key,msgs]:-}")
    done
    [[ -z $line ]] && return 0
    echo "Load generator ceiling: $line."
    echo
  }
  metric_table "msg/s" msgs ratio
  ((has_rival)) && rival_table "msg/s over uWebSockets.js (SHARED_COMPRESSOR in (e), (f))" msgs
  metric_table "server CPU per message, us" cpu ratio
  ((has_rival)) && rival_table "CPU per message over uWebSockets.js (SHARED_COMPRESSOR in (e), (f))" cpu
  metric_table "alloc B/msg" alloc
  local any_wire=0
  for name in "${RUN[@]}"; do is_deflate "$name" && any_wire=1; done
  ((any_wire)) && metric_table "bytes on the wire per message, server to client (permessage-deflate)" wire
  metric_table "load client CPU, % of one CPU" load
  ceiling_line
  metric_table "latency p50 / p99, us" latency
  if ((ROUNDS > 1)); then
    metric_table "msg/s of every round" rounds
  fi
  row "(d) idle, $IDLE_CONNS conns$( ((TLS)) && echo " over TLS")" "RSS per connection, bytes" "of it managed (live heap), bytes" "alive and echoing"
  row "---" "---:" "---:" "---:"
  for name in "${RUN[@]}"; do
    local v
    v=$(cell "$name,idle,rss" "$name,idle,bad")
    if [[ $v != n/a && $name != "$BASELINE" ]] && ((has_base)); then
      v+=$(ratio_suffix "${R[$name,idle,rss]:-}" "${R[$BASELINE,idle,rss]:-}")
    fi
    row "${LABEL[$name]}" "$v" "${R[$name,idle,managed]:-n/a}" "${R[$name,idle,alive]:-n/a}"
  done
  echo
  if ((TLS)); then
    echo "TLS run: every server serves wss:// with the same self-signed ECDSA P-256 certificate, and $LOAD_NAME speaks TLS"
    echo "(OpenSSL, TLS 1.3). In (h) a \"message\" is a whole cycle (TCP connect, full TLS handshake, upgrade, one echo,"
    echo "close): msg/s is handshakes per second and server CPU per message is CPU per handshake."
    echo "Of it managed: the server's live managed heap (after a full collection) per idle connection; the rest of the RSS"
    echo "is native (the TLS engine's session, the kernel socket is not in RSS). n/a for servers that do not print it."
  fi
  if ((HANDSHAKES)); then
    echo "Upgrade hook run: in (u) a \"message\" is a whole cycle (TCP connect, upgrade, one echo, close): msg/s is handshakes"
    echo "per second and server CPU per message is CPU per handshake; the hooked server runs a trivial synchronous hook."
  fi
  echo "msg/s: higher is better. Latency: round-trip percentiles in microseconds, from $LOAD_NAME."
  echo "Server CPU per message: the server's user + system CPU time over the measured window, per message echoed in it"
  echo "(the same median round): how much of the machine each server needs, whatever the load generator manages."
  echo "alloc B/msg: managed bytes the server allocated per echoed message under steady load (n/a for servers"
  echo "without a managed heap figure)."
  echo "Load client CPU: $LOAD_NAME's own user + system time over the same window. It is one thread, so near 100%"
  echo "it is the bottleneck and a faster server cannot raise msg/s. The ceiling divides each row's msg/s by that share"
  echo "and keeps the highest: the rate $LOAD_NAME would reach with a whole CPU to itself, against a server needing no CPU."
  if ((has_rival)); then
    echo "The tables \"over uWebSockets.js\" divide each server's figure by uWebSockets.js's in the same run: above 1 is"
    echo "more messages per second, or more CPU per message. uWebSockets.js (bench/uws/echo.mjs) is the Node.js binding of"
    echo "uWebSockets, whose C++ core does the I/O and the protocol; its echo callback runs in JavaScript."
  fi
  if [[ -n ${LABEL[floor]:-} ]]; then
    echo "${LABEL[floor]} (bench/floor/echo.c) is a yardstick, not a competitor: a single-threaded epoll echo in C with one"
    echo "recv and one send per readable socket and none of the checks a server owes its clients. It shows what the"
    echo "simplest native server manages against the same load generator on this machine."
  fi
  echo "(!) marks a run where $LOAD_NAME saw errors, mismatches or dropped connections."
  for name in "${RUN[@]}"; do
    [[ -z ${STATUS[$name]:-} ]] || echo "- ${LABEL[$name]}: ${STATUS[$name]}"
  done
  for note in "${NOTES[@]+"${NOTES[@]}"}"; do echo "- $note"; done
}

mkdir -p "$(dirname "$RESULTS")"
report | tee "$RESULTS"
# ---- pub/sub fan-out, in the same run (skipped by --only, --tls and --handshakes) ----
if [[ -z $ONLY ]] && ((TLS == 0 && HANDSHAKES == 0)); then
  BENCH_SECONDS="$DURATION" bash "$ROOT/bench/fanout.sh" | tee -a "$RESULTS" || { warn "the fan-out scenario failed"; FAILED=1; }
fi
# ---- end of pub/sub fan-out ----
log "written to $RESULTS"
((FAILED == 0))
