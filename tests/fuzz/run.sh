#!/usr/bin/env bash
# Fuzzes WsGen's parsers with SharpFuzz and AFL++ (tests/fuzz/README.md).
#   run.sh                      CI: replay the committed corpora, then fuzz each target for 60 s (7 targets: 7 min)
#   run.sh --seconds N          fuzz each target for N seconds (hand runs: hours, e.g. --seconds 14400)
#   run.sh --only T1,T2         only these targets (frame-server frame-client http-request http-response utf8 inflate
#                               deflate-offer)
#   run.sh --out DIR            keep afl-fuzz's findings in DIR and resume from them next time (default: a temp dir)
#   run.sh --replay-only        only replay the corpora (no afl-fuzz, nothing installed)
# Installs what it needs: Debian's afl++ (as root) and the SharpFuzz instrumentation tool (the tool manifest here).
# Fails when a corpus input breaks an invariant or afl-fuzz saves a crash; hangs are listed and replayed once.
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD

seconds=60
only=""
out=""
replay_only=0
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --only) only=${2//,/ }; shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --replay-only) replay_only=1; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
[[ -n $out ]] || out=$work/findings

# Two builds: a plain one replays the corpora; a copy whose WsGen.Protocol namespace is instrumented runs under afl-fuzz.
dotnet build WsGen.Fuzz.csproj -c Release -o "$work/plain" -v quiet -nologo
targets=${only:-$(dotnet "$work/plain/WsGen.Fuzz.dll" --list)}
failed=0
for t in $targets; do
  replay=("corpus/$t")
  [[ -d regressions/$t ]] && replay+=("regressions/$t")
  dotnet "$work/plain/WsGen.Fuzz.dll" "$t" --replay "${replay[@]}" || failed=1
done
((failed == 0)) || { echo "run.sh: a corpus input breaks an invariant" >&2; exit 1; }
((replay_only == 0)) || exit 0

if ! command -v afl-fuzz >/dev/null; then
  if ((EUID == 0)); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  else
    echo "run.sh: afl-fuzz is missing: apt-get install afl++ (as root)" >&2; exit 1
  fi
fi
dotnet tool restore >/dev/null
cp -r "$work/plain" "$work/afl"
dotnet tool run sharpfuzz "$work/afl/WsGen.Runtime.dll" WsGen.Protocol >/dev/null

# afl-fuzz runs dotnet, not an instrumented binary; the machine is shared, so no CPU binding and no frequency check.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_AUTORESUME=1

mkdir -p "$out"
printf '%-14s %10s %10s %8s %8s %8s %8s\n' target execs execs/s edges run_s crashes hangs
for t in $targets; do
  dict=()
  [[ $t == http-* ]] && dict=(-x "$HERE/dict/http.dict")
  [[ $t == deflate-offer ]] && dict=(-x "$HERE/dict/deflate.dict")
  log=$out/$t.log
  # A second try when afl-fuzz gives up at start-up (SharpFuzz's fork server can race its first input on a busy
  # machine); AFL_AUTORESUME lets it go on in the same output folder.
  for attempt in 1 2; do
    afl-fuzz -i "$HERE/corpus/$t" -o "$out/$t" -V "$seconds" -t 5000 -m none "${dict[@]}" \
      -- dotnet "$work/afl/WsGen.Fuzz.dll" "$t" >"$log" 2>&1 && break
    tail -30 "$log" >&2
    ((attempt == 1)) || { echo "run.sh: afl-fuzz failed on $t" >&2; exit 1; }
    echo "run.sh: afl-fuzz stopped at start-up on $t; trying once more" >&2
  done
  stats=$out/$t/default/fuzzer_stats
  stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  printf '%-14s %10s %10s %8s %8s %8s %8s\n' "$t" "$(stat execs_done)" "$(stat execs_per_sec)" "$(stat edges_found)" \
    "$(stat run_time)" "$(stat saved_crashes)" "$(stat saved_hangs)"
  for crash in "$out/$t"/default/crashes/id:*; do
    [[ -e $crash ]] || continue
    failed=1
    dotnet "$work/plain/WsGen.Fuzz.dll" "$t" --replay "$crash" || true
  done
  for hang in "$out/$t"/default/hangs/id:*; do
    [[ -e $hang ]] || continue
    echo "hang on $t: $hang (replayed with a 60 s limit:)"
    timeout 60 dotnet "$work/plain/WsGen.Fuzz.dll" "$t" --replay "$hang" || echo "  still hangs or fails"
  done
done

if ((failed)); then
  echo "run.sh: afl-fuzz found crashes (above); copy each into tests/fuzz/regressions/TARGET/, fix, add a unit test" >&2
  [[ $out == "$work"/* ]] && cp -r "$out" "${TMPDIR:-/tmp}/wsgen-fuzz-findings" && echo "findings kept in ${TMPDIR:-/tmp}/wsgen-fuzz-findings" >&2
  exit 1
fi
