"""Drives a WsGen echo server with Python's websockets library, whose client offers permessage-deflate by default:
checks that the extension was agreed, then that messages of many sizes (JSON-like text, and binary) come back byte
for byte. usage: python3 py-deflate-client.py ws://127.0.0.1:PORT/path; prints "all ok" and exits 0 on success."""
import asyncio
import os
import sys

import websockets


def json_like(size, seed):
    parts = []
    total = 0
    i = 0
    while total < size:
        part = '{"id":%d,"user":"user%d","tags":["x","live"],"ok":%s}' % ((seed * 7919 + i * 104729) % 1000003, (seed + i) % 5000, "true" if (seed + i) % 2 == 0 else "false")
        parts.append(part)
        total += len(part) + 1
        i += 1
    return ("[" + ",".join(parts))[:size]


async def main(url):
    async with websockets.connect(url, max_size=64 * 1024 * 1024) as ws:
        names = [extension.name for extension in ws.extensions]
        if names != ["permessage-deflate"]:
            raise SystemExit(f"permessage-deflate was not agreed: {names}")
        print("ok agreed", ws.response_headers.get("Sec-WebSocket-Extensions"))
        seed = 0
        for size in (1, 100, 1024, 16384, 65536, 1 << 20):
            for _ in range(5):
                text = json_like(size, seed)
                seed += 1
                await ws.send(text)
                if await ws.recv() != text:
                    raise SystemExit(f"a {size}-byte text message came back different")
            data = os.urandom(size)
            await ws.send(data)
            if await ws.recv() != data:
                raise SystemExit(f"a {size}-byte binary message came back different")
            print(f"ok {size} B")
    print("all ok")


asyncio.run(main(sys.argv[1]))
