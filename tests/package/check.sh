#!/usr/bin/env bash
# Packs WsGen, builds a copy of samples/Echo against the packed package (PackageReference, not project references),
# runs it, and drives it with the npm ws client: the package carries the runtime, the generator and the analyzers.
# Then packs the backplane packages, WsGen.Redis and WsGen.Nats: each carries its assembly and depends on WsGen of the
# same version and on its broker's client.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wsgen-package.XXXXXX")
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

VERSION="0.1.0-ci.$(date +%s)"
echo "==> packing WsGen $VERSION"
dotnet pack "$ROOT/src/Runtime" -c Release -o "$WORK/packages" -p:Version="$VERSION" -nologo -v q
unzip -l "$WORK/packages/WsGen.$VERSION.nupkg" | grep -E "analyzers/dotnet/cs/|lib/net10.0/WsGen.Runtime.dll|build/WsGen.props"

echo "==> building a copy of samples/Echo from the package"
mkdir -p "$WORK/Echo"
cp "$ROOT"/samples/Echo/*.cs "$ROOT"/samples/Echo/Echo.csproj "$WORK/Echo/"
dotnet build "$WORK/Echo" -c Release -nologo -v q -p:WsGenPackageVersion="$VERSION" \
  -p:RestoreAdditionalProjectSources="$WORK/packages" -p:NuGetAudit=false
grep -q "\"WsGen/$VERSION\"" "$WORK/Echo/obj/project.assets.json" || { echo "the copy did not restore WsGen $VERSION" >&2; exit 1; }

echo "==> running it"
dotnet "$WORK/Echo/bin/Release/net10.0/Echo.dll" --port 0 >"$WORK/echo.log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/echo.log" && break; sleep 0.1; done
URL=$(grep -o "ws://127.0.0.1:[0-9]*/" "$WORK/echo.log")
(cd "$ROOT/tests/interop" && node ws-client.mjs "$URL")
for name in Redis Nats; do
  echo "==> packing WsGen.$name $VERSION"
  dotnet pack "$ROOT/src/Backplanes/$name" -c Release -o "$WORK/packages" -p:Version="$VERSION" -nologo -v q
  unzip -l "$WORK/packages/WsGen.$name.$VERSION.nupkg" | grep "lib/net10.0/WsGen.$name.dll"
  nuspec=$(unzip -p "$WORK/packages/WsGen.$name.$VERSION.nupkg" "WsGen.$name.nuspec")
  grep "<dependency id=\"WsGen\" version=\"$VERSION\"" <<<"$nuspec"
  client=$([[ $name == Redis ]] && echo StackExchange.Redis || echo NATS.Net)
  grep "<dependency id=\"$client\"" <<<"$nuspec"
done
echo "package check: ok"
