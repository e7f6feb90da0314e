#!/usr/bin/env bash
# Runs every WsGen test. First it installs what the tests use as real peers when this machine lacks it: Debian's
# chromium (the chat page in a browser), Node.js and npm, redis-server and nats-server (the backplane tests' brokers),
# and the npm `ws` client (`npm ci` in tests/interop).
# Then `dotnet test` on the solution; extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")"
bash tests/install-peers.sh
dotnet test WsGen.sln -c Release "$@"
