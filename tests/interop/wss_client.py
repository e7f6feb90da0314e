"""Drives a WsGen echo server over wss:// with the Python `websockets` package (asyncio API) and an ssl context
that trusts the test CA; checks every answer byte for byte.
usage: python3 wss_client.py wss://127.0.0.1:PORT/path CA.pem
Prints one line per check and exits non-zero at the first failure."""
import asyncio
import os
import ssl
import sys

import websockets


async def main(url, ca):
    context = ssl.create_default_context(cafile=ca)
    async with websockets.connect(url, ssl=context, max_size=None, compression=None, ping_interval=None) as ws:
        for size in (0, 1, 125, 126, 65536, 1 << 20, 16 << 20):
            data = os.urandom(size)
            await ws.send(data)
            got = await ws.recv()
            assert isinstance(got, bytes) and got == data, f"binary {size} B came back different"
            print(f"ok binary {size} B", flush=True)
        for text in ("", "hello", "żółć 日本語 🎉" * 1000):
            await ws.send(text)
            got = await ws.recv()
            assert got == text, f"text of {len(text)} characters came back different"
            print(f"ok text {len(text.encode())} B", flush=True)

        parts = [os.urandom(10), os.urandom(70000), os.urandom(3)]
        await ws.send(iter(parts))  # one message, one frame per part
        got = await ws.recv()
        assert got == b"".join(parts), "fragmented message came back different"
        print("ok fragmented binary", flush=True)

        pong = await ws.ping(b"python ping")
        await asyncio.wait_for(pong, 30)
        print("ok ping/pong", flush=True)

        messages = [f"message {i}" for i in range(2000)]
        async def send_all():
            for m in messages:
                await ws.send(m)
        sender = asyncio.create_task(send_all())
        for expected in messages:
            got = await ws.recv()
            assert got == expected, f"expected {expected!r}, got {got!r}"
        await sender
        print("ok 2000 ordered", flush=True)

        await ws.close(4001, "bye")
        assert ws.close_code == 4001, f"close: expected 4001 back, got {ws.close_code}"
        print("ok close handshake", flush=True)
    print("all ok", flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2]))
