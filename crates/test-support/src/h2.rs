//! A scripted HTTP/2 peer for driving a [`Connection`] in tests: it writes raw frames (via
//! [`RawFrame`]) or HPACK-encoded heads, collects the connection's events, and parses its
//! output back into frames. Time is virtual: [`Peer::advance`] moves the clock and fires
//! the connection's timer when due.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use pullhttp_proto::h2::frame::{Frame, FrameReader, Headers, MAX_MAX_FRAME_SIZE};
use pullhttp_proto::h2::hpack::{Decoder, Encoder, FieldRef};
use pullhttp_proto::h2::{Config, Connection, Event, PREFACE, Role};

use crate::frames::RawFrame;

/// A connection under test and the scripted peer talking to it.
#[derive(Debug)]
pub struct Peer {
    /// The connection under test.
    pub conn: Connection,
    /// The virtual clock.
    pub now: Instant,
    /// The peer's HPACK encoder (for heads it sends).
    pub encoder: Encoder,
    /// The peer's HPACK decoder (for heads the connection sends).
    pub decoder: Decoder,
    reader: FrameReader,
    out: BytesMut,
    skip_preface: bool,
}

impl Peer {
    /// A server connection with default config, after the client preface and an empty
    /// SETTINGS; the server's initial frames are consumed.
    pub fn server() -> Self {
        Self::server_with(Config::server())
    }

    /// A server connection with `config`, handshake done as in [`Peer::server`].
    pub fn server_with(config: Config) -> Self {
        Self::server_with_settings(config, &[])
    }

    /// A server connection whose client sends `settings` in its first SETTINGS.
    pub fn server_with_settings(config: Config, settings: &[(u16, u32)]) -> Self {
        let mut peer = Self::raw(config);
        peer.send_bytes(PREFACE);
        peer.send(RawFrame::settings(settings));
        peer.send(RawFrame::settings_ack());
        peer.frames();
        peer.events();
        peer
    }

    /// A client connection whose server sends `settings`; handshake done.
    pub fn client_with_settings(config: Config, settings: &[(u16, u32)]) -> Self {
        let mut peer = Self::raw(config);
        peer.send(RawFrame::settings(settings));
        peer.send(RawFrame::settings_ack());
        peer.frames();
        peer.events();
        peer
    }

    /// A connection with nothing exchanged yet.
    pub fn raw(config: Config) -> Self {
        let now = Instant::now();
        let skip_preface = config.role == Role::Client;
        let mut reader = FrameReader::new();
        reader.set_max_frame_size(MAX_MAX_FRAME_SIZE);
        reader.set_max_header_block_size(usize::MAX);
        reader.set_max_continuation_frames(usize::MAX);
        let mut decoder = Decoder::default();
        decoder.set_max_header_list_size(usize::MAX);
        Peer {
            conn: Connection::new(config, now),
            now,
            encoder: Encoder::new(),
            decoder,
            reader,
            out: BytesMut::new(),
            skip_preface,
        }
    }

    /// Feeds a frame.
    pub fn send(&mut self, frame: RawFrame) {
        self.send_bytes(&frame.to_vec());
    }

    /// Feeds raw bytes.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.conn.handle_input(bytes, self.now);
    }

    /// HPACK-encodes a field list with the peer's encoder.
    pub fn block(&mut self, fields: &[(&str, &str)]) -> Vec<u8> {
        let mut buf = BytesMut::new();
        self.encoder.encode(
            fields
                .iter()
                .map(|(n, v)| FieldRef::new(n.as_bytes(), v.as_bytes())),
            &mut buf,
        );
        buf.to_vec()
    }

    /// Sends a HEADERS frame (END_HEADERS set) with the encoded fields.
    pub fn send_headers(&mut self, stream: u32, fields: &[(&str, &str)], end_stream: bool) {
        let block = self.block(fields);
        let mut frame = RawFrame::headers(stream, &block).end_headers();
        if end_stream {
            frame = frame.end_stream();
        }
        self.send(frame);
    }

    /// Sends a minimal valid GET request on `stream`.
    pub fn send_get(&mut self, stream: u32, path: &str, end_stream: bool) {
        let fields = [
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", path),
        ];
        self.send_headers(stream, &fields, end_stream);
    }

    /// Takes every pending event.
    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.conn.next_event()).collect()
    }

    /// Writes and flushes the connection's output and parses it into frames.
    pub fn frames(&mut self) -> Vec<Frame> {
        self.conn.write_output(&mut self.out);
        self.conn.on_flushed();
        if self.skip_preface && self.out.len() >= PREFACE.len() {
            let _ = self.out.split_to(PREFACE.len());
            self.skip_preface = false;
        }
        let mut frames = Vec::new();
        while let Some(frame) = self
            .reader
            .decode(&mut self.out)
            .expect("connection output is valid HTTP/2")
        {
            frames.push(frame);
        }
        frames
    }

    /// Decodes a HEADERS frame's block with the peer's decoder into (name, value) strings.
    pub fn decode(&mut self, headers: &Headers) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.decoder
            .decode(&headers.block, |f| {
                out.push((
                    String::from_utf8_lossy(&f.name).into_owned(),
                    String::from_utf8_lossy(&f.value).into_owned(),
                ))
            })
            .expect("connection output decodes");
        out
    }

    /// Moves the virtual clock and fires the connection's timer if it is due.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        if self.conn.next_deadline().is_some_and(|t| t <= self.now) {
            self.conn.handle_timeout(self.now);
        }
    }
}

/// Shuttles bytes between a client and a server connection until neither has output.
#[derive(Debug)]
pub struct Pair {
    /// The client.
    pub client: Connection,
    /// The server.
    pub server: Connection,
    /// The virtual clock.
    pub now: Instant,
    /// Octets moved per write (to interleave small writes); `usize::MAX` for all.
    pub chunk: usize,
}

impl Pair {
    /// A client and a server with the given configs; no bytes exchanged yet.
    pub fn new(client: Config, server: Config) -> Self {
        let now = Instant::now();
        Pair {
            client: Connection::new(client, now),
            server: Connection::new(server, now),
            now,
            chunk: usize::MAX,
        }
    }

    /// Moves output both ways until quiet; returns the events of both sides in order.
    pub fn run(&mut self) -> (Vec<Event>, Vec<Event>) {
        let (mut client_events, mut server_events) = (Vec::new(), Vec::new());
        for _ in 0..100_000 {
            let a = transfer(&mut self.client, &mut self.server, self.now, self.chunk);
            let b = transfer(&mut self.server, &mut self.client, self.now, self.chunk);
            client_events.extend(std::iter::from_fn(|| self.client.next_event()));
            server_events.extend(std::iter::from_fn(|| self.server.next_event()));
            if a == 0 && b == 0 {
                return (client_events, server_events);
            }
        }
        panic!("pair did not go quiet");
    }

    /// Moves the clock, firing due timers on both sides.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        for conn in [&mut self.client, &mut self.server] {
            if conn.next_deadline().is_some_and(|t| t <= self.now) {
                conn.handle_timeout(self.now);
            }
        }
    }
}

/// Writes up to `chunk` octets of `from`'s output into `to`; returns the count.
fn transfer(from: &mut Connection, to: &mut Connection, now: Instant, chunk: usize) -> usize {
    if !to.wants_read() {
        return 0;
    }
    let mut buf = BytesMut::new();
    for c in from.output_chunks() {
        buf.extend_from_slice(c);
        if buf.len() >= chunk {
            break;
        }
    }
    let n = buf.len().min(chunk);
    from.advance_written(n);
    from.on_flushed();
    if n > 0 {
        to.handle_input(&buf[..n], now);
    }
    n
}

/// Shorthand for a `Bytes` from a string.
pub fn bytes(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}
