"""Opens connections with Python's websockets library (permessage-deflate offered by default) to a WsGen endpoint whose
connections are all subscribed to one topic, while the server publishes to it and sends to each connection directly,
interleaved; checks that each connection gets every message, whole and in order.
usage: python3 py-topic-deflate-subscribers.py ws://127.0.0.1:PORT/path CONNECTIONS MESSAGES
Prints "open N EXTENSIONS" once every connection is open, then "ok DELIVERIES" and exits 0; "FAIL ..." and 1 otherwise.
Message i is made by expected(i), as the test makes it (see topic-deflate-subscribers.mjs)."""
import asyncio
import sys

import websockets

SIZES = (8, 300, 5000, 40000)


def expected(i):
    size = SIZES[i % 4]
    if i % 3 == 2:
        return bytes((i + j % 61) & 0xFF for j in range(size))
    s = ("d" if i % 5 == 4 else "p") + str(i) + ":"
    unit = '{"n":%d,"v":"abcdefgh"}' % i
    while len(s) < size:
        s += unit
    return s[:size]


async def receive(k, ws, messages):
    for i in range(messages):
        got = await ws.recv()
        if got != expected(i):
            print(f"FAIL connection {k}: message {i} differs ({len(got)} long, {type(got).__name__})", flush=True)
            sys.exit(1)
    return messages


async def main(url, connections, messages):
    sockets = [await websockets.connect(url, max_size=1 << 20) for _ in range(connections)]
    header = sockets[0].response_headers.get("Sec-WebSocket-Extensions") if hasattr(sockets[0], "response_headers") \
        else sockets[0].response.headers.get("Sec-WebSocket-Extensions")
    print(f"open {connections} {header}", flush=True)
    counts = await asyncio.gather(*(receive(k, ws, messages) for k, ws in enumerate(sockets)))
    print(f"ok {sum(counts)}", flush=True)
    for ws in sockets:
        await ws.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
