#!/usr/bin/env bash
# Runs every WsGen test: installs the npm peer used by the interop tests, then `dotnet test` on the solution.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d tests/interop/node_modules/ws ]; then
  (cd tests/interop && npm ci --no-audit --no-fund)
fi
dotnet test WsGen.sln -c Release "$@"
