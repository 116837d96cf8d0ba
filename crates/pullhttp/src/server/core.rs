//! The protocol behind a server connection: detection, then the HTTP/1 or HTTP/2 core, with
//! their events mapped to one [`Event`] type and commands dispatched by version.
//!
//! This module owns the choice of version (prior-knowledge preface detection, an explicit
//! version, or an `Upgrade: h2c` request) and must not know about IO, timers or the
//! application's waiting: that is the pump's.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, request, response};
use pullhttp_proto::h2::ErrorCode;
use pullhttp_proto::{RequestKey, h1, h2};

use super::Event;
use crate::driver::{Protocol, Step};
use crate::error::{Error, Kind};

/// The protocol state of one connection.
#[derive(Debug)]
pub(crate) enum Core {
    /// Collecting the first octets to tell HTTP/2 prior knowledge from HTTP/1.
    Detect(BytesMut),
    H1(Box<h1::Connection>),
    H2(Box<h2::Connection>),
}

/// What detection concluded.
enum Detected {
    Undecided,
    H1,
    H2,
}

fn detect(buf: &[u8]) -> Detected {
    let n = buf.len().min(h2::PREFACE.len());
    if buf[..n] != h2::PREFACE[..n] {
        Detected::H1
    } else if n == h2::PREFACE.len() {
        Detected::H2
    } else {
        Detected::Undecided
    }
}

impl Core {
    /// Feeds input; during detection, decides the version once the octets allow it.
    pub(crate) fn handle_input(
        &mut self,
        data: &[u8],
        now: Instant,
        h1: &h1::Config,
        h2: &h2::Config,
    ) {
        match self {
            Core::Detect(buf) => {
                buf.extend_from_slice(data);
                let decided = match detect(buf) {
                    Detected::Undecided => return,
                    Detected::H1 => Core::H1(Box::new(h1::Connection::new(h1.clone(), now))),
                    Detected::H2 => Core::H2(Box::new(h2::Connection::new(h2.clone(), now))),
                };
                let input = std::mem::take(buf);
                *self = decided;
                self.handle_input(&input, now, h1, h2);
            }
            Core::H1(c) => c.handle_input(data, now),
            Core::H2(c) => c.handle_input(data, now),
        }
    }

    pub(crate) fn handle_eof(&mut self, now: Instant) {
        match self {
            // Nothing (or too little to tell) before EOF: an idle connection that went away.
            Core::Detect(_) => {}
            Core::H1(c) => c.handle_eof(now),
            Core::H2(c) => c.handle_eof(now),
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        match self {
            Core::Detect(_) => {}
            Core::H1(c) => c.handle_timeout(now),
            Core::H2(c) => c.handle_timeout(now),
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match self {
            Core::Detect(_) => None,
            Core::H1(c) => c.next_deadline(),
            Core::H2(c) => c.next_deadline(),
        }
    }

    pub(crate) fn wants_read(&self) -> bool {
        match self {
            Core::Detect(_) => true,
            Core::H1(c) => c.wants_read(),
            Core::H2(c) => c.wants_read(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Core::Detect(_) => false,
            Core::H1(c) => c.is_closed(),
            Core::H2(c) => c.is_closed(),
        }
    }

    /// Collects up to `max` output slices.
    pub(crate) fn output<'a>(&'a mut self, slices: &mut Vec<std::io::IoSlice<'a>>, max: usize) {
        match self {
            Core::Detect(_) => {}
            Core::H1(c) => slices.extend(c.output_chunks().take(max).map(std::io::IoSlice::new)),
            Core::H2(c) => slices.extend(c.output_chunks().take(max).map(std::io::IoSlice::new)),
        }
    }

    pub(crate) fn advance_written(&mut self, n: usize) {
        match self {
            Core::Detect(_) => {}
            Core::H1(c) => c.advance_written(n),
            Core::H2(c) => c.advance_written(n),
        }
    }

    pub(crate) fn on_flushed(&mut self) {
        match self {
            Core::Detect(_) => {}
            Core::H1(c) => c.on_flushed(),
            Core::H2(c) => c.on_flushed(),
        }
    }

    /// The next step in the server's vocabulary; events only the driver needs are consumed
    /// here, except PING acknowledgements, which the keep-alive watches. A body-less
    /// `Upgrade: h2c` request switches the connection to HTTP/2 here (when `h2c` allows):
    /// the 101 goes to `preamble`, and the request comes back as HTTP/2 stream 1.
    pub(crate) fn next_event(
        &mut self,
        h2c: Option<&h2::Config>,
        preamble: &mut BytesMut,
    ) -> Step<Event> {
        loop {
            let mapped = match self {
                Core::Detect(_) => return Step::Idle,
                Core::H1(c) => match c.next_event() {
                    None => return Step::Idle,
                    Some(h1::Event::Request {
                        key,
                        head,
                        end_stream: true,
                        upgrade: Some(h1::Upgrade::H2c(settings)),
                        ..
                    }) if h2c.is_some() => {
                        let config = h2c.cloned().unwrap_or_else(h2::Config::server);
                        match Self::switch_to_h2c(c, key, head, &settings, config, preamble) {
                            Ok(h2) => {
                                *self = Core::H2(Box::new(h2));
                                continue;
                            }
                            Err(e) => return Step::Closed(Some(e)),
                        }
                    }
                    Some(e) => map_h1(e),
                },
                Core::H2(c) => match c.next_event() {
                    None => return Step::Idle,
                    Some(h2::Event::PingAck { payload }) => return Step::PingAck(payload),
                    Some(e) => map_h2(e),
                },
            };
            match mapped {
                Mapped::Event(e) => return Step::Event(e),
                Mapped::Closed(error) => return Step::Closed(error),
                Mapped::Internal => continue,
            }
        }
    }

    /// Answers an h2c upgrade with 101 and builds the HTTP/2 connection that continues it.
    fn switch_to_h2c(
        c: &mut h1::Connection,
        key: RequestKey,
        head: request::Parts,
        settings: &http::HeaderValue,
        config: h2::Config,
        preamble: &mut BytesMut,
    ) -> Result<h2::Connection, Error> {
        let switching = response::Response::builder()
            .status(101)
            .header("connection", "Upgrade")
            .header("upgrade", "h2c")
            .body(())
            .map_err(|e| Error::with(Kind::Misuse, e))?
            .into_parts()
            .0;
        c.send_response(key, &switching, false)?;
        c.write_output(preamble);
        let leftover = c.take_upgraded();
        let now = crate::driver::now();
        let (mut h2, _) =
            h2::Connection::upgrade_from_http1(config, head, settings.as_bytes(), now)
                .map_err(|e| Error::with(Kind::Protocol, e))?;
        if !leftover.is_empty() {
            h2.handle_input(&leftover, now);
        }
        Ok(h2)
    }

    // ----- commands -----

    pub(crate) fn send_response(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
        end: bool,
    ) -> Result<(), Error> {
        match self {
            Core::Detect(_) => Err(Error::new(Kind::Misuse)),
            Core::H1(c) => Ok(c.send_response(key, head, end)?),
            Core::H2(c) => Ok(c.send_response(key, head, end)?),
        }
    }

    pub(crate) fn send_informational(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
    ) -> Result<(), Error> {
        match self {
            Core::Detect(_) => Err(Error::new(Kind::Misuse)),
            Core::H1(c) => Ok(c.send_informational(key, head)?),
            Core::H2(c) => Ok(c.send_informational(key, head)?),
        }
    }

    pub(crate) fn send_data(
        &mut self,
        key: RequestKey,
        data: Bytes,
        end: bool,
    ) -> Result<usize, Error> {
        match self {
            Core::Detect(_) => Err(Error::new(Kind::Misuse)),
            Core::H1(c) => Ok(c.send_data(key, data, end)?),
            Core::H2(c) => Ok(c.send_data(key, data, end)?),
        }
    }

    pub(crate) fn send_trailers(
        &mut self,
        key: RequestKey,
        trailers: HeaderMap,
    ) -> Result<(), Error> {
        match self {
            Core::Detect(_) => Err(Error::new(Kind::Misuse)),
            Core::H1(c) => Ok(c.send_trailers(key, trailers)?),
            Core::H2(c) => Ok(c.send_trailers(key, trailers)?),
        }
    }

    /// HTTP/2: RST_STREAM with `code`; HTTP/1: the connection is closed (there is no other
    /// way to abandon an exchange).
    pub(crate) fn reset(
        &mut self,
        key: RequestKey,
        code: ErrorCode,
        now: Instant,
    ) -> Result<(), Error> {
        match self {
            Core::Detect(_) => Err(Error::new(Kind::Misuse)),
            Core::H1(c) => {
                c.abort();
                Ok(())
            }
            Core::H2(c) => Ok(c.reset_stream(key, code, now)?),
        }
    }

    /// HTTP/2 manual flow control: the application took `n` octets of the key's body.
    pub(crate) fn release(&mut self, key: RequestKey, n: usize) {
        if let Core::H2(c) = self {
            let _ = c.release_capacity(key, u32::try_from(n).unwrap_or(u32::MAX));
        }
    }

    pub(crate) fn graceful_shutdown(&mut self, now: Instant) {
        match self {
            Core::Detect(_) => {}
            Core::H1(c) => c.graceful_shutdown(),
            Core::H2(c) => c.graceful_shutdown(now),
        }
    }

    /// Ends the connection now: HTTP/2 GOAWAY with `code` and every stream reset; HTTP/1
    /// closes (an exchange in progress is cut short).
    pub(crate) fn abrupt_shutdown(&mut self, code: ErrorCode) {
        match self {
            Core::Detect(_) => {}
            Core::H1(c) => c.abort(),
            Core::H2(c) => c.abrupt_shutdown(code),
        }
    }

    /// HTTP/2: promises a pushed response on the stream of `parent`.
    pub(crate) fn push_promise(
        &mut self,
        parent: RequestKey,
        head: &request::Parts,
    ) -> Result<RequestKey, Error> {
        match self {
            Core::H2(c) => Ok(c.push_promise(parent, head)?),
            _ => Err(Error::with(Kind::Misuse, "push promises need HTTP/2")),
        }
    }

    pub(crate) fn send_continue(&mut self, key: RequestKey) -> Result<(), Error> {
        match self {
            Core::H1(c) => Ok(c.send_continue(key)?),
            _ => Ok(()),
        }
    }

    pub(crate) fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error> {
        match self {
            Core::H2(c) => Ok(c.ping(payload)?),
            _ => Err(Error::with(Kind::Misuse, "PING needs HTTP/2")),
        }
    }

    /// Open streams (HTTP/2) or exchanges in progress (HTTP/1).
    pub(crate) fn open_streams(&self) -> usize {
        match self {
            Core::Detect(_) => 0,
            Core::H1(c) => c.in_flight(),
            Core::H2(c) => c.stream_count(),
        }
    }

    pub(crate) fn input_buffered(&self) -> usize {
        match self {
            Core::Detect(b) => b.len(),
            Core::H1(c) => c.input_buffered(),
            Core::H2(c) => c.input_buffered(),
        }
    }
}

#[expect(
    clippy::large_enum_variant,
    reason = "moved once per event, never stored"
)]
enum Mapped {
    Event(Event),
    Closed(Option<Error>),
    Internal,
}

fn request(
    key: RequestKey,
    head: request::Parts,
    end_stream: bool,
    expect_continue: bool,
    upgrade: Option<h1::Upgrade>,
) -> Mapped {
    Mapped::Event(Event::Request {
        key,
        head,
        end_stream,
        expect_continue,
        upgrade,
    })
}

fn map_h1(e: h1::Event) -> Mapped {
    match e {
        h1::Event::Request {
            key,
            head,
            end_stream,
            expect_continue,
            upgrade,
        } => request(key, head, end_stream, expect_continue, upgrade),
        h1::Event::Data {
            key,
            data,
            end_stream,
        } => Mapped::Event(Event::Data {
            key,
            data,
            end_stream,
        }),
        h1::Event::Trailers { key, trailers } => Mapped::Event(Event::Trailers { key, trailers }),
        h1::Event::Writable { key } => Mapped::Event(Event::Writable { key }),
        h1::Event::Sent { key } => Mapped::Event(Event::Sent { key }),
        h1::Event::Upgraded { key } => Mapped::Event(Event::Upgraded { key }),
        h1::Event::Closed { error } => Mapped::Closed(error.map(Error::from)),
        _ => Mapped::Internal,
    }
}

fn map_h2(e: h2::Event) -> Mapped {
    match e {
        h2::Event::Request {
            key,
            head,
            end_stream,
        } => request(key, head, end_stream, false, None),
        h2::Event::Data {
            key,
            data,
            end_stream,
        } => Mapped::Event(Event::Data {
            key,
            data,
            end_stream,
        }),
        h2::Event::Trailers { key, trailers } => Mapped::Event(Event::Trailers { key, trailers }),
        h2::Event::Writable { key } => Mapped::Event(Event::Writable { key }),
        h2::Event::Sent { key } => Mapped::Event(Event::Sent { key }),
        h2::Event::Reset { key, reset } | h2::Event::RecvReset { key, reset } => {
            Mapped::Event(Event::Reset {
                key,
                code: reset.code,
            })
        }
        h2::Event::Closed { error } => Mapped::Closed(error.map(Error::from)),
        _ => Mapped::Internal,
    }
}

/// The server's protocol for the shared driver: detection, then a core, with the
/// configurations detection and h2c need and the detection deadline.
#[derive(Debug)]
pub(crate) struct ServerProtocol {
    pub(crate) core: Core,
    pub(crate) h1: h1::Config,
    pub(crate) h2: h2::Config,
    /// Accept `Upgrade: h2c`.
    pub(crate) h2c: bool,
    pub(crate) detect_deadline: Option<Instant>,
}

impl ServerProtocol {
    fn detecting(&self) -> bool {
        matches!(self.core, Core::Detect(_))
    }
}

impl Protocol for ServerProtocol {
    type Event = Event;

    fn next_step(&mut self, preamble: &mut BytesMut) -> Step<Event> {
        let h2c = self.h2c.then_some(&self.h2);
        self.core.next_event(h2c, preamble)
    }

    fn pong(payload: [u8; 8]) -> Event {
        Event::Pong { payload }
    }

    fn handle_input(&mut self, data: &[u8], now: Instant) {
        self.core.handle_input(data, now, &self.h1, &self.h2);
    }

    fn handle_eof(&mut self, now: Instant) -> bool {
        // Nothing (or too little to tell) before EOF: an idle connection that went away.
        let detecting = self.detecting();
        self.core.handle_eof(now);
        detecting
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        if self.detecting() && self.detect_deadline.is_some_and(|d| d <= now) {
            return Err(Error::new(Kind::Timeout));
        }
        self.core.handle_timeout(now);
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        let detect = self.detect_deadline.filter(|_| self.detecting());
        [self.core.next_deadline(), detect]
            .into_iter()
            .flatten()
            .min()
    }

    fn wants_read(&self) -> bool {
        self.core.wants_read()
    }

    fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    fn output<'a>(&'a mut self, slices: &mut Vec<std::io::IoSlice<'a>>, max: usize) {
        self.core.output(slices, max);
    }

    fn advance_written(&mut self, n: usize) {
        self.core.advance_written(n);
    }

    fn on_flushed(&mut self) {
        self.core.on_flushed();
    }

    fn graceful_shutdown(&mut self, now: Instant) -> bool {
        if self.detecting() {
            // No request has begun: an idle connection, closed at once.
            return true;
        }
        self.core.graceful_shutdown(now);
        false
    }

    fn abrupt_shutdown(&mut self, code: ErrorCode) {
        self.core.abrupt_shutdown(code);
    }

    fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error> {
        self.core.ping(payload)
    }
}
