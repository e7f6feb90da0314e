"""A Python websockets echo server (permessage-deflate on, as by default) for WsGen's client tests.
usage: python3 py-deflate-server.py [dedicated|shared]; prints "listening PORT" once ready, echoes every message,
and exits when its standard input closes. In shared mode it asks for no context takeover in both directions."""
import asyncio
import sys

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


async def echo(ws, *_):
    async for message in ws:
        await ws.send(message)


async def main(mode):
    factory = ServerPerMessageDeflateFactory(
        server_no_context_takeover=mode == "shared",
        client_no_context_takeover=mode == "shared",
        require_client_max_window_bits=False,
    )
    async with websockets.serve(echo, "127.0.0.1", 0, extensions=[factory], compression=None, max_size=64 * 1024 * 1024) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"listening {port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "dedicated"))
