"""Drives the upgrade-hook test server (tests/WsGen.Runtime.Tests/Server/UpgradeHookTests.cs) with the Python
`websockets` package: refused without a token (401 and its headers), accepted with the token in an Authorization
header or a cookie sent as extra headers; the name attached at the upgrade comes back with every message.
usage: python3 hook_client.py ws://127.0.0.1:PORT
Prints one line per check and exits non-zero at the first failure."""
import asyncio
import sys

import websockets


async def refused(url, headers):
    try:
        async with websockets.connect(url, extra_headers=headers, compression=None):
            pass
    except websockets.exceptions.InvalidStatusCode as e:
        return e
    raise AssertionError(f"{url} with {headers} was accepted")


async def accepted(url, headers, name):
    async with websockets.connect(url, extra_headers=headers, compression=None, ping_interval=None) as ws:
        hello = await ws.recv()
        assert hello == f"hello {name}", f"expected the state {name!r}, got {hello!r}"
        await ws.send("from python")
        got = await ws.recv()
        assert got == f"{name}: from python", f"got {got!r}"
        assert ws.response_headers["X-Hook"] == "accepted", "the hook's header is missing from the 101"


async def main(base):
    e = await refused(f"{base}/room?name=py", {})
    assert e.status_code == 401, f"expected 401, got {e.status_code}"
    assert e.headers["WWW-Authenticate"] == "Bearer", "the refusal's header is missing"
    print("ok refused without a token", flush=True)
    e = await refused(f"{base}/room", {"Authorization": "Bearer wrong"})
    assert e.status_code == 401
    print("ok refused with a wrong bearer token", flush=True)
    await accepted(f"{base}/room?name=py-bearer", {"Authorization": "Bearer s3cret"}, "py-bearer")
    print("ok accepted with a bearer token", flush=True)
    await accepted(f"{base}/room?name=py-cookie", {"Cookie": "theme=dark; session=s3cret"}, "py-cookie")
    print("ok accepted with a session cookie", flush=True)
    print("all ok", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(sys.argv[1]))
