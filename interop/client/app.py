# hypercorn ASGI app for the client interop checks: HTTP echoes the request body (or names
# the protocol for body-less requests); WebSocket echoes over HTTP/1.1 Upgrade and RFC 8441.
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif m["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while True:
            m = await receive()
            if m["type"] == "websocket.disconnect":
                return
            text = m.get("text") or m.get("bytes", b"").decode()
            await send({"type": "websocket.send", "text": f"echo[{scope['http_version']}]:{text}"})
    body = b""
    while True:
        m = await receive()
        body += m.get("body", b"")
        if not m.get("more_body"):
            break
    out = body or f"hypercorn proto={scope['http_version']}\n".encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/octet-stream"),
                            (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})
