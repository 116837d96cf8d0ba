//! The protocol behind a server connection: detection, then the HTTP/1 or HTTP/2 core (a
//! [`Versioned`], which dispatches by version), with their events mapped to one [`Event`]
//! type.
//!
//! This module owns the choice of version (prior-knowledge preface detection, an explicit
//! version, or an `Upgrade: h2c` request) and must not know about IO, timers or the
//! application's waiting: that is the pump's.

use std::time::Instant;

use bytes::BytesMut;
use http::{request, response};
use pullhttp_proto::h2::ErrorCode;
use pullhttp_proto::{RequestKey, h1, h2};

use super::Event;
use crate::driver::{Protocol, Step, Versioned};
use crate::error::{Error, Kind};

/// The options a connection's cores start from. One copy per [`Builder`](super::Builder)
/// configuration, shared by its connections through an `Arc` (424 octets each connection
/// held before: a fifth of an idle HTTP/1.1 connection's memory).
#[derive(Clone, Debug)]
pub(crate) struct Configs {
    pub(crate) h1: h1::Config,
    pub(crate) h2: h2::Config,
}

impl Configs {
    /// The defaults, shared by every connection made with them.
    pub(crate) fn server() -> std::sync::Arc<Configs> {
        static DEFAULT: std::sync::LazyLock<std::sync::Arc<Configs>> =
            std::sync::LazyLock::new(|| {
                std::sync::Arc::new(Configs {
                    h1: h1::Config::server(),
                    h2: h2::Config::server(),
                })
            });
        DEFAULT.clone()
    }
}

/// The HTTP/2 options as the driver runs them: it credits data back when the application
/// takes it, whatever `flow_control` says.
pub(crate) fn driven(config: &h2::Config) -> h2::Config {
    let mut config = config.clone();
    config.flow_control = h2::FlowControl::Manual;
    config
}

/// The protocol state of one connection.
#[derive(Debug)]
pub(crate) enum Core {
    /// Collecting the first octets to tell HTTP/2 prior knowledge from HTTP/1.
    Detect(BytesMut),
    /// The version is known.
    Ready(Versioned),
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
    /// The core, once the version is known; commands before that are misuse.
    pub(crate) fn ready(&mut self) -> Result<&mut Versioned, Error> {
        match self {
            Core::Detect(_) => Err(Error::with(Kind::Misuse, "no request yet")),
            Core::Ready(v) => Ok(v),
        }
    }

    fn ready_ref(&self) -> Option<&Versioned> {
        match self {
            Core::Detect(_) => None,
            Core::Ready(v) => Some(v),
        }
    }

    /// The protocol in use (`None` while it is being detected).
    pub(crate) fn version(&self) -> Option<http::Version> {
        self.ready_ref().map(Versioned::version)
    }

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
                    Detected::H1 => Versioned::H1(Box::new(h1::Connection::new(h1.clone(), now))),
                    Detected::H2 => Versioned::H2(Box::new(h2::Connection::new(driven(h2), now))),
                };
                let input = std::mem::take(buf);
                *self = Core::Ready(decided);
                self.handle_input(&input, now, h1, h2);
            }
            Core::Ready(v) => v.handle_input(data, now),
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
                Core::Ready(Versioned::H1(c)) => match c.next_event() {
                    None => return Step::Idle,
                    Some(h1::Event::Request {
                        key,
                        head,
                        end_stream: true,
                        upgrade: Some(h1::Upgrade::H2c(settings)),
                        ..
                    }) if h2c.is_some() => {
                        let config = h2c.map_or_else(h2::Config::server, driven);
                        match Self::switch_to_h2c(c, key, head, &settings, config, preamble) {
                            Ok(h2) => {
                                *self = Core::Ready(Versioned::H2(Box::new(h2)));
                                continue;
                            }
                            Err(e) => return Step::Closed(Some(e)),
                        }
                    }
                    Some(e) => map_h1(e),
                },
                Core::Ready(Versioned::H2(c)) => match c.next_event() {
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
        head: Box<request::Parts>,
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
            h2::Connection::upgrade_from_http1(config, *head, settings.as_bytes(), now)
                .map_err(|e| Error::with(Kind::Protocol, e))?;
        if !leftover.is_empty() {
            h2.handle_input(&leftover, now);
        }
        Ok(h2)
    }

    /// Open streams (HTTP/2) or exchanges in progress (HTTP/1).
    pub(crate) fn open_streams(&self) -> usize {
        self.ready_ref().map_or(0, Versioned::open_streams)
    }

    pub(crate) fn input_buffered(&self) -> usize {
        match self {
            Core::Detect(b) => b.len(),
            Core::Ready(v) => v.input_buffered(),
        }
    }
}

enum Mapped {
    Event(Event),
    Closed(Option<Error>),
    Internal,
}

fn request(
    key: RequestKey,
    head: Box<request::Parts>,
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
    /// Shared with the `Builder` and its other connections.
    pub(crate) configs: std::sync::Arc<Configs>,
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
        let h2c = self.h2c.then_some(&self.configs.h2);
        self.core.next_event(h2c, preamble)
    }

    fn pong(payload: [u8; 8]) -> Event {
        Event::Pong { payload }
    }

    fn handle_input(&mut self, data: &[u8], now: Instant) {
        self.core
            .handle_input(data, now, &self.configs.h1, &self.configs.h2);
    }

    fn handle_eof(&mut self, now: Instant) -> bool {
        // Nothing (or too little to tell) before EOF: an idle connection that went away.
        let detecting = self.detecting();
        if let Core::Ready(v) = &mut self.core {
            v.handle_eof(now);
        }
        detecting
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        if self.detecting() && self.detect_deadline.is_some_and(|d| d <= now) {
            return Err(Error::new(Kind::Timeout));
        }
        if let Core::Ready(v) = &mut self.core {
            v.handle_timeout(now);
        }
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        let detect = self.detect_deadline.filter(|_| self.detecting());
        let core = self.core.ready_ref().and_then(Versioned::next_deadline);
        [core, detect].into_iter().flatten().min()
    }

    fn wants_read(&self) -> bool {
        self.core.ready_ref().is_none_or(Versioned::wants_read)
    }

    fn is_closed(&self) -> bool {
        self.core.ready_ref().is_some_and(Versioned::is_closed)
    }

    fn release_idle(&mut self) -> bool {
        match &mut self.core {
            Core::Ready(v) => v.release_idle(),
            Core::Detect(_) => false,
        }
    }

    fn direct_input(&mut self) -> Option<&mut BytesMut> {
        match &mut self.core {
            Core::Ready(v) => v.direct_input(),
            Core::Detect(_) => None,
        }
    }

    fn input_appended(&mut self, now: Instant) {
        if let Core::Ready(v) = &mut self.core {
            v.input_appended(now);
        }
    }

    fn has_output(&mut self) -> bool {
        match &mut self.core {
            Core::Ready(v) => v.output_len() > 0,
            Core::Detect(_) => false,
        }
    }

    fn output<'a>(&'a mut self, slices: &mut [std::io::IoSlice<'a>]) -> usize {
        match &mut self.core {
            Core::Ready(v) => v.output(slices),
            Core::Detect(_) => 0,
        }
    }

    fn advance_written(&mut self, n: usize) {
        if let Core::Ready(v) = &mut self.core {
            v.advance_written(n);
        }
    }

    fn on_flushed(&mut self) {
        if let Core::Ready(v) = &mut self.core {
            v.on_flushed();
        }
    }

    fn graceful_shutdown(&mut self, now: Instant) -> bool {
        match &mut self.core {
            // No request has begun: an idle connection, closed at once.
            Core::Detect(_) => true,
            Core::Ready(v) => {
                v.graceful_shutdown(now);
                false
            }
        }
    }

    fn abrupt_shutdown(&mut self, code: ErrorCode) {
        if let Core::Ready(v) = &mut self.core {
            v.abrupt_shutdown(code);
        }
    }

    fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error> {
        self.core.ready()?.ping(payload)
    }

    fn take_upgraded(&mut self) -> Option<BytesMut> {
        self.core.ready().ok()?.take_upgraded()
    }
}
