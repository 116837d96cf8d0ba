# python ws_echo_server.py PORT -- RFC 6455 echo server ('websockets' asyncio API)
import asyncio, sys
from websockets.asyncio.server import serve

async def echo(ws):
    async for m in ws:
        await ws.send("py-ws-echo:" + m if isinstance(m, str) else m)

async def main():
    async with serve(echo, "127.0.0.1", int(sys.argv[1])) as server:
        print("listening", sys.argv[1], flush=True)
        await server.serve_forever()

asyncio.run(main())
