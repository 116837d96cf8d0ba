"""WebSocket client (Python `websockets`, RFC 6455 over HTTP/1.1 Upgrade): sends a text and a
binary message and checks the echoes. Usage: ws_client.py ws://HOST:PORT/path PREFIX"""
import asyncio
import sys

from websockets.asyncio.client import connect


async def main(url: str, prefix: str) -> None:
    async with connect(url, open_timeout=10) as ws:
        await ws.send("hello from python")
        reply = await asyncio.wait_for(ws.recv(), 10)
        print(reply)
        assert reply == prefix + "hello from python", reply
        await ws.send(b"\x00\x01binary")
        data = await asyncio.wait_for(ws.recv(), 10)
        assert data == b"\x00\x01binary", data
    print("closed cleanly")


asyncio.run(main(sys.argv[1], sys.argv[2]))
