//! `pullhttp get -v`: a transport wrapper that prints every HTTP/2 frame sent and received
//! (type, flags, stream, length, and the decoded fields of HEADERS, PUSH_PROMISE and
//! CONTINUATION blocks), in the spirit of `nghttp -v`. It watches the octets only: the
//! connection's own frame reader and HPACK decoder are not touched. Lines go to stderr.

use std::fmt::Write as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use pullhttp_proto::h2::frame::{self, Frame, FrameType, Head, PrioritySpec, flags};
use pullhttp_proto::h2::hpack::Decoder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Where a direction's octets stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// The client's side of an HTTP/2 connection: the preface, then frames.
    ClientPreface,
    /// The server's side of an HTTP/2 connection: frames at once.
    Frames,
    /// An HTTP/1.1 head first (an h2c upgrade): frames follow a `101` (received) or the
    /// preface after the request head (sent); anything else ends the trace.
    Http1Head,
}

#[derive(Debug)]
enum State {
    Preface,
    Frames,
    Http1Head,
    Off,
}

/// One direction of the trace.
#[derive(Debug)]
struct Direction {
    label: &'static str,
    sent: bool,
    state: State,
    buf: BytesMut,
    decoder: Decoder,
    /// A field block waiting for its CONTINUATION frames.
    block: Option<BytesMut>,
}

impl Direction {
    fn new(label: &'static str, sent: bool, start: Start) -> Self {
        Direction {
            label,
            sent,
            state: match start {
                Start::ClientPreface => State::Preface,
                Start::Frames => State::Frames,
                Start::Http1Head => State::Http1Head,
            },
            buf: BytesMut::new(),
            // The largest table a peer may use is what we allow; the observer accepts any
            // size update up to 64 KiB (it only prints).
            decoder: Decoder::new(65_536),
            block: None,
        }
    }

    /// Takes more octets of this direction and prints every frame they complete.
    fn feed(&mut self, octets: &[u8], since: Instant) {
        if matches!(self.state, State::Off) {
            return;
        }
        self.buf.extend_from_slice(octets);
        loop {
            match self.state {
                State::Off => {
                    self.buf.clear();
                    return;
                }
                State::Http1Head => {
                    let Some(end) = find(&self.buf, b"\r\n\r\n") else {
                        return;
                    };
                    let head = self.buf.split_to(end + 4);
                    self.state = if self.sent {
                        State::Preface
                    } else if head.starts_with(b"HTTP/1.1 101") {
                        State::Frames
                    } else {
                        State::Off
                    };
                }
                State::Preface => {
                    let n = self.buf.len().min(PREFACE.len());
                    if self.buf[..n] != PREFACE[..n] {
                        self.state = State::Off;
                        continue;
                    }
                    if n < PREFACE.len() {
                        return;
                    }
                    let _ = self.buf.split_to(PREFACE.len());
                    eprintln!("{} {} client connection preface", stamp(since), self.label);
                    self.state = State::Frames;
                }
                State::Frames => {
                    let Some(head) = Head::parse(&self.buf) else {
                        return;
                    };
                    let total = 9 + head.length as usize;
                    if self.buf.len() < total {
                        return;
                    }
                    let mut whole = self.buf.split_to(total);
                    let payload = whole.split_off(9).freeze();
                    self.print(head, payload, since);
                }
            }
        }
    }

    fn print(&mut self, head: Head, payload: Bytes, since: Instant) {
        let kind = head.kind.name().map_or_else(
            || format!("UNKNOWN({:#x})", head.kind.as_u8()),
            str::to_owned,
        );
        let mut line = format!(
            "{} {} {kind} frame <length={}, flags={:#04x}{}, stream_id={}>",
            stamp(since),
            self.label,
            head.length,
            head.flags,
            flag_names(head),
            head.stream_id
        );
        match frame::decode(head, payload) {
            Err(e) => {
                let _ = write!(line, "\n          (malformed: {e})");
            }
            Ok(decoded) => self.details(decoded, &mut line),
        }
        eprintln!("{line}");
    }

    fn details(&mut self, decoded: Frame, line: &mut String) {
        match decoded {
            Frame::Settings(s) => {
                for (id, value) in s.params {
                    let name = id
                        .name()
                        .map_or_else(|| format!("{:#x}", id.as_u16()), str::to_owned);
                    let _ = write!(line, "\n          [{name}: {value}]");
                }
            }
            Frame::Headers(h) => {
                if let Some(p) = h.priority {
                    priority(line, p);
                }
                self.block(h.block, h.end_headers, line);
            }
            Frame::PushPromise(p) => {
                let _ = write!(line, "\n          (promised_stream_id={})", p.promised_id);
                self.block(p.block, p.end_headers, line);
            }
            Frame::Continuation(c) => self.block(c.fragment, c.end_headers, line),
            Frame::RstStream(r) => {
                let _ = write!(line, "\n          (error_code={})", r.code);
            }
            Frame::GoAway(g) => {
                let _ = write!(
                    line,
                    "\n          (last_stream_id={}, error_code={}, opaque_data({})=[{}])",
                    g.last_stream_id,
                    g.code,
                    g.debug_data.len(),
                    String::from_utf8_lossy(&g.debug_data)
                );
            }
            Frame::WindowUpdate(w) => {
                let _ = write!(line, "\n          (window_size_increment={})", w.increment);
            }
            Frame::Ping(p) => {
                let _ = write!(line, "\n          (opaque_data={:02x?})", p.payload);
            }
            Frame::Priority(p) => priority(line, p.spec),
            _ => {}
        }
    }

    /// Adds a block fragment; a complete block is decoded and its fields printed.
    fn block(&mut self, fragment: Bytes, end: bool, line: &mut String) {
        let mut block = self.block.take().unwrap_or_default();
        block.extend_from_slice(&fragment);
        if !end {
            self.block = Some(block);
            return;
        }
        let result = self.decoder.decode(&block.freeze(), |field| {
            let _ = write!(
                line,
                "\n          {}: {}",
                String::from_utf8_lossy(&field.name),
                String::from_utf8_lossy(&field.value)
            );
        });
        if let Err(e) = result {
            let _ = write!(line, "\n          (field block not decoded: {e})");
        }
    }
}

/// A priority specification the way `nghttp -v` shows it (weight 1 to 256).
fn priority(line: &mut String, p: PrioritySpec) {
    let _ = write!(
        line,
        "\n          (dep={}, weight={}, exclusive={})",
        p.dependency,
        u16::from(p.weight) + 1,
        u8::from(p.exclusive)
    );
}

fn flag_names(head: Head) -> String {
    let names: &[(u8, &str)] = match head.kind {
        FrameType::DATA => &[(flags::END_STREAM, "END_STREAM"), (flags::PADDED, "PADDED")],
        FrameType::HEADERS => &[
            (flags::END_STREAM, "END_STREAM"),
            (flags::END_HEADERS, "END_HEADERS"),
            (flags::PADDED, "PADDED"),
            (flags::PRIORITY, "PRIORITY"),
        ],
        FrameType::SETTINGS | FrameType::PING => &[(flags::ACK, "ACK")],
        FrameType::PUSH_PROMISE => &[
            (flags::END_HEADERS, "END_HEADERS"),
            (flags::PADDED, "PADDED"),
        ],
        FrameType::CONTINUATION => &[(flags::END_HEADERS, "END_HEADERS")],
        _ => &[],
    };
    let set: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| head.has_flag(*bit))
        .map(|(_, name)| *name)
        .collect();
    if set.is_empty() {
        String::new()
    } else {
        format!(" ({})", set.join(" | "))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn stamp(since: Instant) -> String {
    format!("[{:8.3}]", since.elapsed().as_secs_f64())
}

/// A transport whose octets are traced both ways.
#[derive(Debug)]
pub(crate) struct Trace<IO> {
    io: IO,
    since: Instant,
    sent: Direction,
    received: Direction,
}

impl<IO> Trace<IO> {
    /// Traces `io`; `sent` and `received` say how each direction starts.
    pub(crate) fn new(io: IO, sent: Start, received: Start, since: Instant) -> Self {
        Trace {
            io,
            since,
            sent: Direction::new("send", true, sent),
            received: Direction::new("recv", false, received),
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Trace<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let result = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            this.received.feed(&buf.filled()[before..], this.since);
        }
        result
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Trace<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.io).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = result {
            this.sent.feed(&data[..n], this.since);
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(mut n)) = result {
            for buf in bufs {
                let take = n.min(buf.len());
                this.sent.feed(&buf[..take], this.since);
                n -= take;
                if n == 0 {
                    break;
                }
            }
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_split_across_reads_and_blocks_decoded() {
        use pullhttp_proto::h2::StreamId;
        use pullhttp_proto::h2::frame::{Data, Settings};
        let mut wire = BytesMut::new();
        wire.extend_from_slice(PREFACE);
        Frame::Settings(Settings {
            ack: false,
            params: vec![],
        })
        .encode(&mut wire);
        Frame::Data(Data {
            stream_id: StreamId::new(1),
            end_stream: true,
            data: Bytes::from_static(b"hi"),
            flow_len: 2,
        })
        .encode(&mut wire);
        let mut d = Direction::new("send", true, Start::ClientPreface);
        let since = Instant::now();
        for piece in wire.chunks(5) {
            d.feed(piece, since);
        }
        assert!(matches!(d.state, State::Frames));
        assert!(d.buf.is_empty(), "every frame consumed");
        // Anything else than the preface ends the trace instead of printing garbage.
        let mut d = Direction::new("send", true, Start::ClientPreface);
        d.feed(b"GET / HTTP/1.1\r\n", since);
        assert!(matches!(d.state, State::Off));
        // An upgrade: frames after a 101 only.
        let mut d = Direction::new("recv", false, Start::Http1Head);
        d.feed(b"HTTP/1.1 200 OK\r\n\r\nbody", since);
        assert!(matches!(d.state, State::Off));
        let mut d = Direction::new("recv", false, Start::Http1Head);
        d.feed(b"HTTP/1.1 101 Switching Protocols\r\n\r\n", since);
        assert!(matches!(d.state, State::Frames));
    }
}
