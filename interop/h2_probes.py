"""Raw-frame probes with hyperframe/hpack: each sends a protocol violation and checks the
exact answer RFC 9113 requires (GOAWAY or RST_STREAM code), then that valid use works."""
import socket
import sys

from hpack import Encoder
from hyperframe.frame import (DataFrame, Frame, GoAwayFrame, HeadersFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)

host, port = sys.argv[1].rsplit(":", 1)
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def connect():
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(PREFACE + SettingsFrame(0).serialize())
    return s, Encoder()


def frames(s):
    buf = b""
    while True:
        while len(buf) < 9:
            chunk = s.recv(65536)
            if not chunk:
                return
            buf += chunk
        f, length = Frame.parse_frame_header(memoryview(buf[:9]))
        while len(buf) < 9 + length:
            chunk = s.recv(65536)
            if not chunk:
                return
            buf += chunk
        f.parse_body(memoryview(buf[9:9 + length]))
        buf = buf[9 + length:]
        yield f


def expect(s, kind, code, stream=None):
    for f in frames(s):
        if isinstance(f, kind) and (stream is None or f.stream_id == stream):
            assert f.error_code == code, (kind.__name__, f.error_code, code)
            return
        if isinstance(f, GoAwayFrame) and kind is not GoAwayFrame:
            raise AssertionError(f"GOAWAY {f.error_code} instead of {kind.__name__}")
    raise AssertionError(f"closed without {kind.__name__}")


def headers(enc, stream, fields, end=True):
    f = HeadersFrame(stream)
    f.data = enc.encode(fields)
    f.flags.add("END_HEADERS")
    if end:
        f.flags.add("END_STREAM")
    return f.serialize()


GET = [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", "/hello")]

# PING on a stream: connection error PROTOCOL_ERROR (§6.7).
s, enc = connect()
# hyperframe will not build this invalid frame: length 8, type PING, stream 1.
s.sendall(b"\x00\x00\x08\x06\x00\x00\x00\x00\x01" + b"12345678")
expect(s, GoAwayFrame, 0x1)

# Uppercase field name: stream error PROTOCOL_ERROR, connection lives on (§8.2).
s, enc = connect()
s.sendall(headers(enc, 1, GET + [("X-Upper", "1")]))
expect(s, RstStreamFrame, 0x1, stream=1)
s.sendall(headers(enc, 3, GET))
for f in frames(s):
    if isinstance(f, HeadersFrame) and f.stream_id == 3:
        break

# WINDOW_UPDATE of 0 on the connection: PROTOCOL_ERROR (§6.9).
s, enc = connect()
s.sendall(WindowUpdateFrame(0, 0).serialize())
expect(s, GoAwayFrame, 0x1)

# DATA on an idle stream: PROTOCOL_ERROR (§5.1).
s, enc = connect()
s.sendall(DataFrame(5, b"x").serialize())
expect(s, GoAwayFrame, 0x1)

# SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1: FLOW_CONTROL_ERROR (§6.5.2).
s, enc = connect()
s.sendall(SettingsFrame(0, settings={4: 2**31}).serialize())
expect(s, GoAwayFrame, 0x3)

print("h2 raw-frame probes ok")
