#!/usr/bin/env bash
# Installs the real peers the tests talk to, when they are missing: Debian's chromium, nodejs, npm and
# python3-websockets, and for the backplane and cluster tests and samples/Chat/cluster redis-server, nats-server and nginx-light (as
# root, through apt-get; otherwise it names the packages to install), then the npm ws client pinned by
# tests/interop/package-lock.json. The tests and the cluster script run nginx and the brokers in the foreground, on ports
# of their own, not as the packages' services.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
[[ -x /usr/bin/chromium ]] || need+=(chromium)
/usr/bin/python3 -c 'import websockets' 2>/dev/null || need+=(python3-websockets)
[[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
[[ -x /usr/bin/redis-server ]] || need+=(redis-server)
[[ -x /usr/sbin/nats-server ]] || need+=(nats-server)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "the tests need these Debian packages: ${need[*]} (sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "==> apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# npm ci when the installed tree is missing or older than the lock file.
if [[ ! -f interop/node_modules/.package-lock.json || interop/package-lock.json -nt interop/node_modules/.package-lock.json ]]; then
  echo "==> npm ci in tests/interop"
  (cd interop && npm ci --no-audit --no-fund --loglevel=error)
fi
