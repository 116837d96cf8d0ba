"""httpx over h2c prior knowledge: a GET and concurrent-size POST echoes, byte for byte."""
import os
import sys

import httpx

origin = sys.argv[1]
with httpx.Client(http1=False, http2=True) as client:
    r = client.get(f"{origin}/hello")
    assert r.http_version == "HTTP/2", r.http_version
    assert r.status_code == 200 and b"HTTP/2" in r.content, r.content
    for size in (10, 100_000, 1_000_000):
        body = os.urandom(size)
        r = client.post(f"{origin}/echo", content=body)
        assert r.content == body, (size, len(r.content))
print("httpx h2c ok")
