#!/usr/bin/env bash
# Builds the echo sample for every platform WsGen has a native loop for, publishes it with Native AOT (warnings are
# errors in the sample, so any trim or AOT warning fails), then runs the AOT binary against the npm ws client and
# prints its size and start-up time.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-publish.XXXXXX")
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Waits until the server PID wrote its "listening on" line to LOG, polling every INTERVAL seconds; fails when the
# server exits first or has not listened within 30 s.
wait_listening() {
  local log=$1 pid=$2 interval=$3 deadline=$((SECONDS + 30))
  until grep -q "listening on" "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "the server exited before listening:" >&2; cat "$log" >&2; exit 1; fi
    if ((SECONDS >= deadline)); then echo "the server did not listen within 30 s" >&2; exit 1; fi
    sleep "$interval"
  done
}

for rid in osx-x64 osx-arm64 win-x64 linux-x64; do
  echo "==> dotnet build samples/Echo -r $rid (loop chosen by the generator for that RID)"
  dotnet build "$ROOT/samples/Echo" -c Release -r "$rid" -nologo -v q -o "$WORK/build-$rid"
done

echo "==> dotnet publish samples/Echo with Native AOT"
dotnet publish "$ROOT/samples/Echo" -c Release -r linux-x64 -p:PublishAot=true -nologo -v q -o "$WORK/aot" 2>&1 | tee "$WORK/publish.log"
if grep -Eq "warning (IL|AOT)[0-9]+" "$WORK/publish.log"; then echo "trim or AOT warnings" >&2; exit 1; fi
BIN="$WORK/aot/Echo"
echo "AOT binary: $(stat -c %s "$BIN") bytes"

# Start-up: from exec to the "listening" line, best of 5.
best=""
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$BIN" --port 0 >"$WORK/start.log" 2>&1 &
  PID=$!
  wait_listening "$WORK/start.log" "$PID" 0.001
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  kill "$PID"; wait "$PID" 2>/dev/null || true
  [[ -z $best || $ms -lt $best ]] && best=$ms
done
echo "AOT start-up to listening: ${best} ms (best of 5)"

"$BIN" --port 0 >"$WORK/echo.log" 2>&1 &
PID=$!
wait_listening "$WORK/echo.log" "$PID" 0.05
URL=$(grep -o "ws://127.0.0.1:[0-9]*/" "$WORK/echo.log")
(cd "$ROOT/tests/interop" && node ws-client.mjs "$URL")
echo "publish check: ok"
