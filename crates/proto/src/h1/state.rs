//! Every transition of an HTTP/1 connection, server and client, in one place.
//!
//! Rules (RFC 9112, RFC 9110):
//! 1. Messages alternate: a request head, its body, then (server) the response; the read
//!    side parses the next head only when fewer than `pipeline_depth` exchanges are in
//!    progress (default 1: not before the current response is complete). Responses leave in
//!    request order: output of a later exchange waits in its own buffer.
//! 2. Keep-alive: HTTP/1.1 unless `Connection: close` (either side), HTTP/1.0 only with
//!    `Connection: keep-alive`; `max_requests` and graceful shutdown turn it off. Once off,
//!    the current response carries `Connection: close` and the connection closes after it.
//! 3. Framing errors: the server answers with the error's status and `Connection: close`
//!    (if no response was started), then closes; nothing more is read.
//! 4. Early responses: a response completed before its request body was read makes the
//!    connection drain up to `drain_limit` octets of that body within `drain_timeout`; a
//!    body that cannot fit (unknown or larger) gets `Connection: close` on the response.
//! 5. Upgrades: after a request asking for an upgrade (or CONNECT), nothing is parsed until
//!    the response. A 101 (or a 2xx to CONNECT) is the boundary: the connection reports
//!    `Upgraded` and hands the octets past it over intact; any other response resumes HTTP.
//! 6. `Expect: 100-continue`: the server reports it and sends 100 on `send_continue`; a final
//!    response instead is an early response (rule 4). The client holds the body until a 100,
//!    a final response (the body is dropped and the connection not reused), or
//!    `continue_timeout`.
//! 7. `Sent` fires when the last octet of our message is written and flushed.
//! 8. Time only comes in through `now` parameters: deadlines for the head, idle keep-alive,
//!    draining and (client) the 100-continue wait.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};

use http::{HeaderMap, HeaderValue, Method, StatusCode, Version, request, response};

use super::body::{ChunkLimits, Decoded, Decoder, Encoder};
use super::config::Config;
use super::error::{Misuse, ParseError};
use super::event::{ConnectionError, Event};
use super::head::{self, Controls, Framing, HeadArena, HeaderCase, Limits, Upgrade};
use super::write;
use crate::output::{Marker, OutQueue, release};
use crate::{RequestKey, Role};

/// What incoming octets mean now.
#[derive(Debug)]
enum Read {
    /// The next message head.
    Head,
    /// The body of exchange `seq`.
    Body { seq: u64, decoder: Decoder },
    /// Server: an upgrade request was read; wait for its response.
    Boundary,
    /// The rest of a body nobody wants, up to `budget` octets.
    Drain { decoder: Decoder, budget: u64 },
    /// The connection speaks another protocol now.
    Upgraded,
    /// Nothing more is read.
    Done,
}

/// Where our message of an exchange stands.
#[derive(Debug, PartialEq, Eq)]
enum Write {
    Head,
    Body(Encoder),
    Done,
}

/// The client's 100-continue wait.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    None,
    Waiting,
}

/// One request/response exchange.
#[derive(Debug)]
struct Exchange {
    seq: u64,
    method: Method,
    version: Version,
    keep_alive: bool,
    upgrade: Option<Upgrade>,
    expect: Expect,
    write: Write,
    /// Output waiting until this exchange is the writer.
    pending: VecDeque<Bytes>,
    /// Client: body held during a 100-continue wait (data, end, trailers).
    held: VecDeque<(Bytes, bool)>,
    read_done: bool,
    wants_writable: bool,
}

/// An HTTP/1 connection, server or client, as a deterministic state machine.
///
/// Method groups and call order are those of the HTTP/2 core
/// ([`h2::Connection`](crate::h2::Connection)): inputs `handle_input`, `handle_eof`,
/// `handle_timeout`; outputs `next_event`, `output_chunks` + `advance_written` (or
/// `write_output`), `on_flushed`, `next_deadline`, `wants_read`, `is_closed`; then the
/// commands. After any input or command: drain events, write output, arm the deadline.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    id: u32,
    input: BytesMut,
    /// Where received heads are copied (their fields are slices of the copy).
    heads: HeadArena,
    out: OutQueue,
    events: VecDeque<Event>,
    read: Read,
    exchanges: VecDeque<Exchange>,
    next_seq: u64,
    keep_alive: bool,
    closed: bool,
    date: Option<HeaderValue>,
    now: Instant,
    head_deadline: Option<Instant>,
    idle_deadline: Option<Instant>,
    drain_deadline: Option<Instant>,
    continue_deadline: Option<Instant>,
}

impl Connection {
    /// A connection in the configured role.
    pub fn new(config: Config, now: Instant) -> Self {
        let head_deadline = (config.role == Role::Server).then(|| now + config.header_read_timeout);
        Connection {
            id: crate::key::next_connection_id(),
            input: BytesMut::new(),
            heads: HeadArena::default(),
            out: OutQueue::default(),
            events: VecDeque::new(),
            read: Read::Head,
            exchanges: VecDeque::new(),
            next_seq: 1,
            keep_alive: true,
            closed: false,
            date: None,
            now,
            head_deadline,
            idle_deadline: None,
            drain_deadline: None,
            continue_deadline: None,
            config,
        }
    }

    // ----- getters -----

    /// Our role.
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// Exchanges in progress.
    pub fn in_flight(&self) -> usize {
        self.exchanges.len()
    }

    /// Client: whether [`send_request`](Self::send_request) would accept a request now (the
    /// connection is open and kept alive, and fewer than `pipeline_depth` are in flight).
    pub fn can_send_request(&self) -> bool {
        self.config.role == Role::Client
            && !self.closed
            && self.keep_alive
            && !matches!(self.read, Read::Upgraded | Read::Done)
            && self.exchanges.len() < self.config.pipeline_depth.max(1)
    }

    /// Client: how many more requests [`send_request`](Self::send_request) would accept now
    /// (0 when [`can_send_request`](Self::can_send_request) is false).
    pub fn request_room(&self) -> usize {
        if !self.can_send_request() {
            return 0;
        }
        self.config.pipeline_depth.max(1) - self.exchanges.len()
    }

    /// Octets of input held unprocessed.
    pub fn input_buffered(&self) -> usize {
        self.input.len()
    }

    /// Sets the `Date` value added to responses that lack one (the driver refreshes it
    /// every second; the core reads no clock).
    pub fn set_date(&mut self, date: HeaderValue) {
        self.date = Some(date);
    }

    // ----- outputs -----

    /// Takes the next event.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Frees the buffers an idle connection does not need (no exchange in progress, no
    /// input, events or output waiting): an idle keep-alive connection then holds no
    /// capacity beyond its own state, and the next request allocates afresh. Drivers call
    /// it when a connection has waited a while; true if it was idle (nothing to free
    /// otherwise).
    pub fn release_idle(&mut self) -> bool {
        if !self.exchanges.is_empty() || !self.events.is_empty() || !self.input.is_empty() {
            return false;
        }
        release(&mut self.exchanges);
        release(&mut self.events);
        if self.input.capacity() > 0 {
            self.input = BytesMut::new();
        }
        self.heads.release();
        self.out.release_idle()
    }

    /// The output waiting to be written, in order.
    pub fn output_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.out.chunks()
    }

    /// Octets waiting to be written.
    pub fn output_len(&self) -> usize {
        self.out.len()
    }

    /// The transport accepted the first `n` octets of the output.
    pub fn advance_written(&mut self, n: usize) {
        self.out.advance(n);
        if self.out.len() < self.config.max_send_buffer / 2 {
            let id = self.id;
            for ex in &mut self.exchanges {
                if std::mem::take(&mut ex.wants_writable) {
                    let key = RequestKey::new(id, ex.seq);
                    self.events.push_back(Event::Writable { key });
                }
            }
        }
    }

    /// Copies all waiting output into `dst` and counts it as written; returns the count.
    pub fn write_output(&mut self, dst: &mut BytesMut) -> usize {
        let mut n = 0;
        for chunk in self.out.chunks() {
            dst.extend_from_slice(chunk);
            n += chunk.len();
        }
        self.advance_written(n);
        n
    }

    /// The transport flushed everything written: `Sent` fires for completed messages.
    pub fn on_flushed(&mut self) {
        self.out.flush();
        self.sent();
    }

    /// Ends our message on `seq`: `Sent` fires once its last octet is flushed, at once when
    /// it already is (nothing was left to write, so no flush would report it).
    fn mark_end(&mut self, seq: u64) {
        self.out.mark(Marker::End(seq));
        self.sent();
    }

    /// Reports `Sent` for every message whose end is flushed.
    fn sent(&mut self) {
        while let Some(marker) = self.out.next_reached() {
            if let Marker::End(seq) = marker {
                let key = self.key(seq);
                self.events.push_back(Event::Sent { key });
            }
        }
    }

    /// The next time [`handle_timeout`](Self::handle_timeout) must be called.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        [
            self.head_deadline,
            self.idle_deadline,
            self.drain_deadline,
            self.continue_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// True while input should be read.
    pub fn wants_read(&self) -> bool {
        !self.closed
            && !matches!(self.read, Read::Done | Read::Upgraded)
            && self.input.len() < self.config.max_input_buffer
    }

    /// True once the connection is over and its output written.
    pub fn is_closed(&self) -> bool {
        self.closed && self.out.len() == 0
    }

    /// After [`Event::Upgraded`]: the octets received past the boundary. The connection is
    /// finished; write its remaining output first.
    pub fn take_upgraded(&mut self) -> BytesMut {
        self.closed = true;
        self.input.split()
    }

    fn key(&self, seq: u64) -> RequestKey {
        RequestKey::new(self.id, seq)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_head: self.config.max_head_size,
            max_headers: self.config.max_headers,
            max_target: self.config.max_target_len,
            keep_case: self.config.preserve_header_case,
        }
    }

    fn chunk_limits(&self) -> ChunkLimits {
        ChunkLimits {
            max_extensions: self.config.max_chunk_extensions,
            max_trailers: self.config.max_trailer_size,
            max_trailer_fields: self.config.max_headers,
        }
    }

    // ----- inputs -----

    /// Feeds octets read from the transport.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        if matches!(self.read, Read::Done) {
            return;
        }
        self.input.extend_from_slice(data);
        self.process(now);
    }

    /// The transport's read side ended.
    pub fn handle_eof(&mut self, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        match std::mem::replace(&mut self.read, Read::Done) {
            Read::Body { seq, mut decoder } => match decoder.decode_eof() {
                Ok(_) => {
                    let key = self.key(seq);
                    self.events.push_back(Event::Data {
                        key,
                        data: Bytes::new(),
                        end_stream: true,
                    });
                    self.body_done(seq);
                    self.read = Read::Done;
                }
                Err(e) => return self.fail(e),
            },
            Read::Head if !self.input.is_empty() || self.awaiting_response() => {
                return self.fail(ParseError::IncompleteMessage);
            }
            _ => {}
        }
        self.keep_alive = false;
        self.maybe_close();
    }

    /// A deadline from [`next_deadline`](Self::next_deadline) passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(self.continue_deadline) {
            self.continue_deadline = None;
            self.release_held();
        }
        if due(self.head_deadline) {
            self.head_deadline = None;
            if self.input.is_empty() && self.exchanges.is_empty() {
                return self.close(None);
            }
            if self.exchanges.is_empty() {
                self.write_error_response(StatusCode::REQUEST_TIMEOUT);
                return self.close(Some(ConnectionError::HeadTimeout));
            }
        }
        if due(self.idle_deadline) && self.exchanges.is_empty() {
            return self.close(None);
        }
        if due(self.drain_deadline) {
            self.drain_deadline = None;
            self.read = Read::Done;
            self.keep_alive = false;
            self.maybe_close();
        }
    }

    /// Client: a request is out and its response not yet complete.
    fn awaiting_response(&self) -> bool {
        self.config.role == Role::Client && self.exchanges.iter().any(|e| !e.read_done)
    }

    fn process(&mut self, now: Instant) {
        loop {
            if self.closed {
                return;
            }
            match &mut self.read {
                Read::Head => {
                    if !self.keep_alive && self.config.role == Role::Server {
                        self.read = Read::Done;
                        return;
                    }
                    let progressed = match self.config.role {
                        Role::Server => self.read_request(now),
                        Role::Client => self.read_response(),
                    };
                    if !progressed {
                        return;
                    }
                }
                Read::Body { seq, decoder } => {
                    let seq = *seq;
                    match decoder.decode(&mut self.input) {
                        Ok(Decoded::NeedMore) => return,
                        Ok(Decoded::Data(data)) => {
                            let end_stream = decoder.is_done();
                            let key = self.key(seq);
                            self.events.push_back(Event::Data {
                                key,
                                data,
                                end_stream,
                            });
                            if end_stream {
                                self.body_done(seq);
                            }
                        }
                        Ok(Decoded::End(trailers)) => {
                            let key = self.key(seq);
                            self.events.push_back(match trailers {
                                Some(trailers) => Event::Trailers { key, trailers },
                                None => Event::Data {
                                    key,
                                    data: Bytes::new(),
                                    end_stream: true,
                                },
                            });
                            self.body_done(seq);
                        }
                        Err(e) => return self.fail(e),
                    }
                }
                Read::Drain { decoder, budget } => match decoder.decode(&mut self.input) {
                    Ok(Decoded::NeedMore) => return,
                    Ok(Decoded::Data(data)) => {
                        let n = data.len() as u64;
                        if n > *budget {
                            self.read = Read::Done;
                            self.keep_alive = false;
                            return self.maybe_close();
                        }
                        *budget -= n;
                    }
                    Ok(Decoded::End(_)) => {
                        self.drain_deadline = None;
                        self.read = Read::Head;
                    }
                    Err(e) => return self.fail(e),
                },
                Read::Boundary | Read::Upgraded | Read::Done => return,
            }
        }
    }

    /// Server: parses the next request head if allowed; true if one was read.
    fn read_request(&mut self, now: Instant) -> bool {
        if self.exchanges.len() >= self.config.pipeline_depth.max(1) || self.input.is_empty() {
            return false;
        }
        let limits = self.limits();
        let parsed = match head::parse_request(&self.input, limits, &mut self.heads) {
            Ok(None) => {
                self.idle_deadline = None;
                self.head_deadline
                    .get_or_insert(now + self.config.header_read_timeout);
                return false;
            }
            Err(e) => {
                self.fail(e);
                return false;
            }
            Ok(Some((parsed, n))) => {
                self.input.advance(n);
                parsed
            }
        };
        self.head_deadline = None;
        self.idle_deadline = None;
        let seq = self.next_seq;
        self.next_seq += 1;
        let served = usize::try_from(seq).unwrap_or(usize::MAX);
        let limit_reached = self.config.max_requests.is_some_and(|max| served >= max);
        self.keep_alive &= parsed.keep_alive && !limit_reached;
        let end_stream = parsed.framing == Framing::Empty;
        self.exchanges.push_back(Exchange {
            seq,
            method: parsed.head.method.clone(),
            version: parsed.head.version,
            keep_alive: parsed.keep_alive,
            upgrade: parsed.upgrade.clone(),
            expect: Expect::None,
            write: Write::Head,
            pending: VecDeque::new(),
            held: VecDeque::new(),
            read_done: end_stream,
            wants_writable: false,
        });
        self.read = if !end_stream {
            Read::Body {
                seq,
                decoder: Decoder::new(parsed.framing, self.chunk_limits()),
            }
        } else if parsed.upgrade.is_some() {
            Read::Boundary
        } else {
            Read::Head
        };
        let key = self.key(seq);
        self.events.push_back(Event::Request {
            key,
            head: Box::new(parsed.head),
            end_stream,
            expect_continue: parsed.expect_continue,
            upgrade: parsed.upgrade,
        });
        true
    }

    /// Client: parses the response head for the oldest exchange awaiting one.
    fn read_response(&mut self) -> bool {
        if self.input.is_empty() {
            return false;
        }
        let Some(index) = self.exchanges.iter().position(|e| !e.read_done) else {
            self.fail(ParseError::Malformed("response without a request"));
            return false;
        };
        let method = self.exchanges[index].method.clone();
        let limits = self.limits();
        let (parsed, n) = match head::parse_response(&self.input, limits, &method, &mut self.heads)
        {
            Ok(None) => return false,
            Err(e) => {
                self.fail(e);
                return false;
            }
            Ok(Some(p)) => p,
        };
        self.input.advance(n);
        let ex = &mut self.exchanges[index];
        let (seq, status) = (ex.seq, parsed.head.status);
        let key = RequestKey::new(self.id, seq);
        if status == StatusCode::SWITCHING_PROTOCOLS
            || (method == Method::CONNECT && status.is_success())
        {
            if ex.upgrade.is_none() && method != Method::CONNECT {
                self.fail(ParseError::Malformed("101 without an upgrade request"));
                return false;
            }
            ex.read_done = true;
            ex.write = Write::Done;
            ex.held.clear();
            self.events.push_back(Event::Response {
                key,
                head: Box::new(parsed.head),
                end_stream: true,
            });
            self.events.push_back(Event::Upgraded { key });
            self.read = Read::Upgraded;
            return false;
        }
        if status.is_informational() {
            let release = status == StatusCode::CONTINUE && ex.expect == Expect::Waiting;
            self.events.push_back(Event::Informational {
                key,
                head: Box::new(parsed.head),
            });
            if release {
                self.release_held();
            }
            return true;
        }
        if ex.expect == Expect::Waiting {
            // A final answer before the 100: the held body is dropped, and the request on
            // the wire is incomplete, so the connection is not reused.
            ex.expect = Expect::None;
            ex.held.clear();
            ex.write = Write::Done;
            self.keep_alive = false;
            self.continue_deadline = None;
        }
        self.keep_alive &= parsed.keep_alive;
        let end_stream = parsed.framing == Framing::Empty;
        self.events.push_back(Event::Response {
            key,
            head: Box::new(parsed.head),
            end_stream,
        });
        if end_stream {
            self.body_done(seq);
        } else {
            self.read = Read::Body {
                seq,
                decoder: Decoder::new(parsed.framing, self.chunk_limits()),
            };
        }
        true
    }

    /// The peer's message of exchange `seq` is complete.
    fn body_done(&mut self, seq: u64) {
        let upgrade = match self.exchanges.iter_mut().find(|e| e.seq == seq) {
            Some(ex) => {
                ex.read_done = true;
                ex.upgrade.is_some() && self.config.role == Role::Server
            }
            None => false,
        };
        self.read = if upgrade { Read::Boundary } else { Read::Head };
        self.maybe_complete();
    }

    /// A framing error: answer (server) and close; nothing more is read.
    fn fail(&mut self, error: ParseError) {
        let answerable = self.exchanges.iter().all(|e| e.write == Write::Head);
        if self.config.role == Role::Server && answerable {
            self.write_error_response(error.status());
        }
        self.close(Some(ConnectionError::Peer(error)));
    }

    fn write_error_response(&mut self, status: StatusCode) {
        let extra = [
            ("connection", HeaderValue::from_static("close")),
            ("content-length", HeaderValue::from_static("0")),
        ];
        write::response_head(status, &HeaderMap::new(), None, &extra, self.out.buf());
    }

    fn close(&mut self, error: Option<ConnectionError>) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.read = Read::Done;
        self.keep_alive = false;
        self.exchanges.clear();
        self.events.push_back(Event::Closed { error });
    }

    /// Pops finished exchanges, moves the next writer's output, and decides what follows.
    fn maybe_complete(&mut self) {
        while self
            .exchanges
            .front()
            .is_some_and(|e| e.write == Write::Done && e.read_done && e.pending.is_empty())
        {
            self.exchanges.pop_front();
        }
        self.promote_writer();
        if self.exchanges.is_empty() {
            if self.keep_alive {
                self.idle_deadline = Some(self.now + self.config.keep_alive_timeout);
                if self.config.role == Role::Server {
                    self.process(self.now);
                }
            } else {
                self.maybe_close();
            }
        } else if self.config.role == Role::Server && matches!(self.read, Read::Head) {
            self.process(self.now);
        }
    }

    fn maybe_close(&mut self) {
        if !self.keep_alive && self.exchanges.is_empty() && !matches!(self.read, Read::Drain { .. })
        {
            self.close(None);
        }
    }

    /// Moves the output of the first unfinished exchange (the writer) to the queue.
    fn promote_writer(&mut self) {
        let Some(index) = self
            .exchanges
            .iter()
            .position(|e| e.write != Write::Done || !e.pending.is_empty())
        else {
            return;
        };
        for i in 0..=index {
            let ex = &mut self.exchanges[i];
            let chunks: Vec<Bytes> = ex.pending.drain(..).collect();
            let done = ex.write == Write::Done && !chunks.is_empty();
            let seq = ex.seq;
            for chunk in chunks {
                self.out.push_payload(chunk);
            }
            if done {
                self.mark_end(seq);
            }
        }
    }
}

// ----- commands: they validate, move the exchange's write state and queue octets -----

impl Connection {
    fn index(&self, key: RequestKey) -> Result<usize, Misuse> {
        if key.connection() != self.id {
            return Err(Misuse::ForeignKey);
        }
        if self.closed {
            return Err(Misuse::Closing);
        }
        self.exchanges
            .iter()
            .position(|e| e.seq == key.id())
            .ok_or(Misuse::UnknownExchange)
    }

    /// The exchange whose output goes straight to the queue.
    fn writer(&self) -> Option<usize> {
        self.exchanges
            .iter()
            .position(|e| e.write != Write::Done || !e.pending.is_empty())
    }

    /// Queues octets of exchange `index`: to the output if it is the writer, else to its
    /// own buffer (rule 1).
    fn emit(&mut self, index: usize, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if self.writer() == Some(index) {
            self.out.push_payload(bytes);
        } else {
            self.exchanges[index].pending.push_back(bytes);
        }
    }

    /// Lets `write` encode octets of exchange `index`: straight into the output if it is the
    /// writer (no buffer of their own), else into its own buffer (rule 1).
    fn emit_with(&mut self, index: usize, write: impl FnOnce(&mut BytesMut)) {
        if self.writer() == Some(index) {
            write(self.out.buf());
        } else {
            let mut buf = BytesMut::new();
            write(&mut buf);
            if !buf.is_empty() {
                self.exchanges[index].pending.push_back(buf.freeze());
            }
        }
    }

    /// Octets queued for exchange `index` (its share of the send buffer).
    fn queued(&self, index: usize) -> usize {
        if self.writer() == Some(index) {
            self.out.len()
        } else {
            self.exchanges[index].pending.iter().map(Bytes::len).sum()
        }
    }

    /// Our message on exchange `index` is complete (rule 7).
    fn finish_message(&mut self, index: usize) {
        let ex = &mut self.exchanges[index];
        ex.write = Write::Done;
        let seq = ex.seq;
        if ex.pending.is_empty() && self.writer().is_none_or(|w| w > index) {
            self.mark_end(seq);
        }
        if self.config.role == Role::Server && !self.exchanges[index].read_done {
            self.early_response(index);
        }
        self.maybe_complete();
    }

    /// Rule 4: the response is complete but the request body is not.
    fn early_response(&mut self, index: usize) {
        let seq = self.exchanges[index].seq;
        let reading = matches!(&self.read, Read::Body { seq: s, .. } if *s == seq);
        self.exchanges[index].read_done = true;
        if !reading {
            return;
        }
        let Read::Body { decoder, .. } = std::mem::replace(&mut self.read, Read::Done) else {
            return;
        };
        if self.keep_alive {
            self.drain_deadline = Some(self.now + self.config.drain_timeout);
            self.read = Read::Drain {
                decoder,
                budget: self.config.drain_limit,
            };
        }
    }

    // ----- server -----

    /// Server: sends the final response head. Framing follows from the head: its
    /// `Content-Length` if set; none for 204, 304 and responses to HEAD; `content-length: 0`
    /// with `end_stream`; otherwise chunked (HTTP/1.1 clients) or until close (HTTP/1.0).
    /// A 101 (to an upgrade request) or a 2xx to CONNECT is the upgrade boundary. A head
    /// whose framing leaves no body (`content-length: 0`, 204, 304, HEAD) completes the
    /// response by itself.
    pub fn send_response(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
        end_stream: bool,
    ) -> Result<(), Misuse> {
        if self.config.role != Role::Server {
            return Err(Misuse::WrongRole);
        }
        let index = self.index(key)?;
        let ex = &self.exchanges[index];
        if ex.write != Write::Head {
            return Err(Misuse::InvalidState("response already sent"));
        }
        let status = head.status;
        let upgrading = (status == StatusCode::SWITCHING_PROTOCOLS
            && matches!(ex.upgrade, Some(Upgrade::Protocol(_) | Upgrade::H2c(_))))
            || (ex.method == Method::CONNECT && status.is_success());
        if status.is_informational() && !upgrading {
            return Err(Misuse::InvalidState("use send_informational for 1xx"));
        }
        let no_body = upgrading
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
            || ex.method == Method::HEAD;
        let controls = Controls::scan(&head.headers);
        let user_length = controls.content_length.map(parse_length).transpose()?;
        let mut extra: Vec<(&'static str, HeaderValue)> = Vec::new();
        let encoder = if no_body {
            Encoder::Empty
        } else if let Some(n) = user_length {
            Encoder::Length(n)
        } else if controls.transfer_encoding {
            Encoder::Chunked
        } else if end_stream {
            extra.push(("content-length", HeaderValue::from_static("0")));
            Encoder::Length(0)
        } else if ex.version == Version::HTTP_11 {
            extra.push(("transfer-encoding", HeaderValue::from_static("chunked")));
            Encoder::Chunked
        } else {
            self.keep_alive = false;
            Encoder::Close
        };
        // Rule 4: a request body left unread that cannot be drained closes the connection.
        if !ex.read_done && !upgrading {
            let fits = match &self.read {
                Read::Body { seq, decoder } if *seq == ex.seq => decoder
                    .remaining()
                    .is_some_and(|r| r <= self.config.drain_limit),
                _ => true,
            };
            self.keep_alive &= fits;
        }
        // The application's own `Connection: close` ends the connection after this exchange.
        if controls.close {
            self.keep_alive = false;
        }
        let keep_alive = self.keep_alive && ex.keep_alive && !upgrading;
        if !keep_alive && !upgrading && !controls.close {
            extra.push(("connection", HeaderValue::from_static("close")));
        } else if keep_alive && ex.version == Version::HTTP_10 && !controls.connection {
            extra.push(("connection", HeaderValue::from_static("keep-alive")));
        }
        if let Some(date) = self.date.clone().filter(|_| !controls.date) {
            extra.push(("date", date));
        }
        let case = head.extensions.get::<HeaderCase>();
        self.emit_with(index, |dst| {
            write::response_head(status, &head.headers, case, &extra, dst);
        });
        if upgrading {
            self.exchanges[index].read_done = true;
            self.exchanges[index].write = Write::Done;
            let seq = self.exchanges[index].seq;
            self.mark_end(seq);
            self.read = Read::Upgraded;
            self.events.push_back(Event::Upgraded { key });
            return Ok(());
        }
        if matches!(self.read, Read::Boundary) && !self.closed {
            // Rule 5: the upgrade was declined; HTTP resumes after this response.
            self.read = Read::Head;
        }
        self.exchanges[index].write = Write::Body(encoder);
        if end_stream || encoder == Encoder::Empty || encoder == Encoder::Length(0) {
            self.finish_message(index);
        }
        Ok(())
    }

    /// Server: sends an informational response (100, 103...; not 101) to an HTTP/1.1 client.
    pub fn send_informational(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
    ) -> Result<(), Misuse> {
        if self.config.role != Role::Server {
            return Err(Misuse::WrongRole);
        }
        let index = self.index(key)?;
        let ex = &self.exchanges[index];
        if !head.status.is_informational() || head.status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(Misuse::InvalidHead("not an informational status"));
        }
        if ex.write != Write::Head || ex.version != Version::HTTP_11 {
            return Err(Misuse::InvalidState("no informational response possible"));
        }
        let case = head.extensions.get::<HeaderCase>();
        self.emit_with(index, |dst| {
            write::response_head(head.status, &head.headers, case, &[], dst);
        });
        Ok(())
    }

    /// Server: answers `Expect: 100-continue` with 100 Continue (rule 6).
    pub fn send_continue(&mut self, key: RequestKey) -> Result<(), Misuse> {
        let head = response::Response::builder()
            .status(StatusCode::CONTINUE)
            .body(())
            .map_err(|_| Misuse::InvalidHead("100"))?;
        self.send_informational(key, &head.into_parts().0)
    }

    /// Server: ends the connection gracefully: the current response (if its head is not yet
    /// written) carries `Connection: close`; an idle connection closes at once.
    pub fn graceful_shutdown(&mut self) {
        self.keep_alive = false;
        if self.exchanges.is_empty() {
            self.close(None);
        }
    }

    // ----- client -----

    /// Client: sends a request head. The target is written as the URI gives it; `Host` is
    /// the caller's, or derived from the URI when absent (empty when the URI has no
    /// authority). Framing: the head's `Content-Length`, else none with `end_stream` (or
    /// `content-length: 0` for methods that usually carry a body), else chunked. A head with
    /// `content-length: 0` completes the request by itself.
    pub fn send_request(
        &mut self,
        head: &request::Parts,
        end_stream: bool,
    ) -> Result<RequestKey, Misuse> {
        if self.config.role != Role::Client {
            return Err(Misuse::WrongRole);
        }
        if self.closed || !self.keep_alive || matches!(self.read, Read::Upgraded | Read::Done) {
            return Err(Misuse::Closing);
        }
        if self.exchanges.len() >= self.config.pipeline_depth.max(1) {
            return Err(Misuse::Busy);
        }
        let controls = Controls::scan(&head.headers);
        let mut extra: Vec<(&'static str, HeaderValue)> = Vec::new();
        if controls.hosts == 0 {
            let host = head.uri.authority().map_or("", |a| a.as_str());
            let value = HeaderValue::from_str(host).map_err(|_| Misuse::InvalidHead("host"))?;
            extra.push(("host", value));
        }
        let user_length = controls.content_length.map(parse_length).transpose()?;
        let encoder = if let Some(n) = user_length {
            Encoder::Length(n)
        } else if controls.transfer_encoding {
            Encoder::Chunked
        } else if end_stream {
            if matches!(head.method, Method::POST | Method::PUT | Method::PATCH) {
                extra.push(("content-length", HeaderValue::from_static("0")));
            }
            Encoder::Length(0)
        } else {
            extra.push(("transfer-encoding", HeaderValue::from_static("chunked")));
            Encoder::Chunked
        };
        let upgrade = if head.method == Method::CONNECT {
            Some(Upgrade::Connect)
        } else {
            controls.upgrade.map(|u| Upgrade::Protocol(u.clone()))
        };
        let expect = controls
            .expect
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let seq = self.next_seq;
        self.next_seq += 1;
        let version = if head.version == Version::HTTP_10 {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        self.exchanges.push_back(Exchange {
            seq,
            method: head.method.clone(),
            version,
            keep_alive: true,
            upgrade,
            expect: if expect && !end_stream {
                Expect::Waiting
            } else {
                Expect::None
            },
            write: Write::Body(encoder),
            pending: Default::default(),
            held: Default::default(),
            read_done: false,
            wants_writable: false,
        });
        self.idle_deadline = None;
        if expect && !end_stream {
            self.continue_deadline = Some(self.now + self.config.continue_timeout);
        }
        let index = self.exchanges.len() - 1;
        let case = head.extensions.get::<HeaderCase>();
        self.emit_with(index, |dst| {
            write::request_head(
                &head.method,
                &head.uri,
                version,
                &head.headers,
                case,
                &extra,
                dst,
            );
        });
        if end_stream || encoder == Encoder::Length(0) {
            self.finish_message(index);
        }
        Ok(self.key(seq))
    }

    /// Client: the 100 came (or its wait timed out): send the held body (rule 6).
    fn release_held(&mut self) {
        self.continue_deadline = None;
        let Some(index) = self
            .exchanges
            .iter()
            .position(|e| e.expect == Expect::Waiting)
        else {
            return;
        };
        self.exchanges[index].expect = Expect::None;
        let held: Vec<(Bytes, bool)> = self.exchanges[index].held.drain(..).collect();
        let key = self.key(self.exchanges[index].seq);
        for (data, end) in held {
            let _ = self.send_data(key, data, end);
        }
    }

    // ----- both -----

    /// Queues body data; returns how much was accepted (bounded by `max_send_buffer`; retry
    /// the rest after [`Event::Writable`]). `end_stream` applies only if all was accepted.
    pub fn send_data(
        &mut self,
        key: RequestKey,
        data: Bytes,
        end_stream: bool,
    ) -> Result<usize, Misuse> {
        let index = self.index(key)?;
        let room = self
            .config
            .max_send_buffer
            .saturating_sub(self.queued(index));
        let ex = &mut self.exchanges[index];
        let Write::Body(mut encoder) = ex.write else {
            return Err(Misuse::InvalidState("no body can be sent now"));
        };
        let accepted = data.len().min(room);
        let partial = accepted < data.len();
        let ends = end_stream && !partial;
        let data = if partial {
            ex.wants_writable = true;
            data.slice(..accepted)
        } else {
            data
        };
        if ex.expect == Expect::Waiting {
            ex.held.push_back((data, ends));
            return Ok(accepted);
        }
        encoder.count(data.len()).map_err(Misuse::InvalidState)?;
        if ends {
            encoder.check_end(None).map_err(Misuse::InvalidState)?;
        }
        self.exchanges[index].write = Write::Body(encoder);
        let len = data.len();
        self.emit_with(index, |dst| encoder.write_before(len, dst));
        self.emit(index, data);
        self.emit(index, Bytes::from_static(encoder.after(len)));
        if ends {
            self.emit_with(index, |dst| encoder.write_end(None, dst));
            if encoder == Encoder::Close {
                self.keep_alive = false;
            }
            self.finish_message(index);
        }
        Ok(accepted)
    }

    /// Ends a chunked message with trailers.
    pub fn send_trailers(&mut self, key: RequestKey, trailers: HeaderMap) -> Result<(), Misuse> {
        let index = self.index(key)?;
        let ex = &self.exchanges[index];
        if ex.write != Write::Body(Encoder::Chunked) || ex.expect == Expect::Waiting {
            return Err(Misuse::InvalidState(
                "trailers need a chunked body in progress",
            ));
        }
        self.emit_with(index, |dst| {
            Encoder::Chunked.write_end(Some(&trailers), dst)
        });
        self.finish_message(index);
        Ok(())
    }

    /// Closes the connection now (an exchange in progress is cut short).
    pub fn abort(&mut self) {
        let error = (!self.exchanges.is_empty()).then_some(ConnectionError::Aborted);
        self.close(error);
    }
}

/// An outgoing `Content-Length`: digits, with surrounding whitespace allowed.
fn parse_length(value: &HeaderValue) -> Result<u64, Misuse> {
    head::decimal(value.as_bytes().trim_ascii()).ok_or(Misuse::InvalidHead("content-length"))
}
