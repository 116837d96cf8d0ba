//! The server side: wrap an accepted connection and pull `(key, request)` pairs from it.
//!
//! [`Connection::next_event`] is the pump: it reads, feeds the protocol core, writes and
//! runs the connection's one timer, and returns the next [`Event`]. Commands
//! ([`send_response`](Connection::send_response), [`send_data`](Connection::send_data), ...)
//! only queue; they never wait. The helpers ([`next_request`](Connection::next_request),
//! [`recv_data`](Connection::recv_data), [`write_all`](Connection::write_all),
//! [`sent`](Connection::sent)) drive the whole connection while they wait, so one task can
//! serve a connection with plain `&mut self` borrows.
//!
//! Backpressure never stops the connection: HTTP/2 request bodies are credited back only as
//! the application takes them (so the peer's window bounds what waits), new requests can be
//! gated by credits ([`Builder::request_credits`]) with a bounded pending-accept queue beyond
//! which HTTP/2 streams are refused, and HTTP/1 stops reading while taken-but-unread body
//! octets exceed [`Builder::max_buffered_body`].

mod core;
mod handles;
mod recv_body;
mod respond;
pub mod split;
mod tunnel;

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Request, request, response};
use pullhttp_proto::h2::ErrorCode;
use pullhttp_proto::{RequestKey, h1, h2};
use tokio::io::{AsyncRead, AsyncWrite};

use self::core::{Configs, Core, ServerProtocol, driven};
use crate::driver::{BodyGate, Driver, Pumped, Versioned, now};
use crate::error::{Error, Kind};
use crate::shutdown::ShutdownHandle;
use crate::upgrade::Upgraded;
use crate::{KeyMap, KeySet};

pub use handles::{Accepted, Acceptor, PingPong};
pub use pullhttp_proto::h1::Upgrade;
pub use recv_body::{FlowControl, RecvBody};
pub use respond::{Finished, Responder, SendBody};
pub use tunnel::Tunnel;

/// Which protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// Detect it: the HTTP/2 connection preface means HTTP/2 (prior knowledge), anything
    /// else HTTP/1.1. The default.
    Auto,
    /// HTTP/1.1 only (for example ALPN `http/1.1`).
    Http1,
    /// HTTP/2 only (for example ALPN `h2`).
    Http2,
}

/// Something the connection reports.
///
/// Heads are boxed: an event is then a few words, and the queues, the driver and the
/// application's futures move it without copying a head of about 250 octets at each step
/// (that copying was about a tenth of a small HTTP/2 exchange's instructions).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A new request: answer it by `key`. Its body follows as `Data`/`Trailers` unless
    /// `end_stream`.
    Request {
        /// The key to answer with.
        key: RequestKey,
        /// The request head (`version` says HTTP/1.x or HTTP/2).
        head: Box<request::Parts>,
        /// No body follows.
        end_stream: bool,
        /// HTTP/1.1 `Expect: 100-continue`: [`recv_data`](Connection::recv_data) sends the 100
        /// when the body is first read; or call [`send_continue`](Connection::send_continue),
        /// or answer with a final response instead.
        expect_continue: bool,
        /// HTTP/1.1 upgrade or CONNECT request: answer 101 (or 2xx to CONNECT) and take the
        /// transport with [`into_upgraded`](Connection::into_upgraded).
        upgrade: Option<Upgrade>,
    },
    /// Request body data.
    Data {
        /// The exchange.
        key: RequestKey,
        /// The octets.
        data: Bytes,
        /// Last data of the body.
        end_stream: bool,
    },
    /// Request trailers (the body is complete).
    Trailers {
        /// The exchange.
        key: RequestKey,
        /// The fields.
        trailers: HeaderMap,
    },
    /// `send_data` refused data for lack of room, and there is room again.
    Writable {
        /// The exchange.
        key: RequestKey,
    },
    /// The response's last octet was written and flushed.
    Sent {
        /// The exchange.
        key: RequestKey,
    },
    /// HTTP/2: the stream was reset (by the peer, or by us for a stream error).
    Reset {
        /// The exchange.
        key: RequestKey,
        /// The RST_STREAM code.
        code: ErrorCode,
    },
    /// HTTP/2: the answer to one of our PINGs ([`Connection::ping`]), with its payload.
    Pong {
        /// The payload the PING carried.
        payload: [u8; 8],
    },
    /// HTTP/1.1: the upgrade response is queued; take the transport with
    /// [`into_upgraded`](Connection::into_upgraded).
    Upgraded {
        /// The exchange.
        key: RequestKey,
    },
}

/// Counters of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Octets read from the transport.
    pub bytes_in: u64,
    /// Octets written to the transport.
    pub bytes_out: u64,
    /// Open streams (HTTP/2) or exchanges in progress (HTTP/1).
    pub open_streams: usize,
    /// Requests waiting for credits.
    pub pending_accepts: usize,
    /// Input octets held by the protocol core.
    pub buffered_in: usize,
    /// Request body octets read but not yet taken by the application.
    pub buffered_body: usize,
}

/// Options of a server connection: every option of the HTTP/1 and HTTP/2 cores (see
/// [`h1::Config`] and [`h2::Config`] for each default) and the driver's own.
#[derive(Clone, Debug)]
pub struct Builder {
    configs: Arc<Configs>,
    version: Version,
    detect_timeout: Duration,
    keep_alive_ping: Option<(Duration, Duration)>,
    request_credits: Option<usize>,
    max_pending_accepts: usize,
    max_buffered_body: usize,
    h2c: bool,
    manual_release: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: version detection within 10 s, h2c upgrades accepted, no PING
    /// keep-alive, no request credits
    /// (every request is delivered), at most 32 requests waiting for credits, 1 MiB of
    /// untaken HTTP/1 body before reading pauses.
    pub fn new() -> Self {
        Builder {
            configs: Configs::server(),
            version: Version::Auto,
            detect_timeout: Duration::from_secs(10),
            keep_alive_ping: None,
            request_credits: None,
            max_pending_accepts: 32,
            max_buffered_body: 1 << 20,
            h2c: true,
            manual_release: false,
        }
    }

    /// Request body octets count as consumed only when given to
    /// [`Connection::release_capacity`], not when `Data` events are taken: HTTP/2 credits
    /// them back to the client then, and HTTP/1 reading pauses while more than
    /// [`max_buffered_body`](Self::max_buffered_body) octets are unreleased. For consumers
    /// that queue events elsewhere (the handle layer). Default false.
    pub fn manual_release(&mut self, manual: bool) -> &mut Self {
        self.manual_release = manual;
        self
    }

    /// Accept HTTP/1.1 `Upgrade: h2c` requests without a body by switching to HTTP/2 (the
    /// request is answered as HTTP/2 stream 1). Default true; when false the request is
    /// served over HTTP/1.1 and its `upgrade` is reported.
    pub fn h2c_upgrade(&mut self, enabled: bool) -> &mut Self {
        self.h2c = enabled;
        self
    }

    /// The HTTP/1 core's options.
    pub fn http1(&mut self) -> &mut h1::Config {
        &mut Arc::make_mut(&mut self.configs).h1
    }

    /// The HTTP/2 core's options.
    pub fn http2(&mut self) -> &mut h2::Config {
        &mut Arc::make_mut(&mut self.configs).h2
    }

    /// The protocol: detected (default) or fixed (for example from ALPN).
    pub fn version(&mut self, version: Version) -> &mut Self {
        self.version = version;
        self
    }

    /// How long detection may wait for the first octets. Default 10 s.
    pub fn detect_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.detect_timeout = timeout;
        self
    }

    /// HTTP/2: advertise SETTINGS_ENABLE_CONNECT_PROTOCOL so clients may open extended
    /// CONNECT streams (RFC 8441, e.g. WebSocket over HTTP/2). Default false. Plain CONNECT
    /// is always accepted.
    pub fn enable_connect_protocol(&mut self, enabled: bool) -> &mut Self {
        self.http2().enable_connect_protocol = enabled;
        self
    }

    /// HTTP/2: PING after `interval` without input; close if no answer within `timeout`.
    pub fn keep_alive_ping(&mut self, interval: Duration, timeout: Duration) -> &mut Self {
        self.keep_alive_ping = Some((interval, timeout));
        self
    }

    /// Gates new requests by credits: `initial` are delivered, then one per credit granted
    /// with [`Connection::grant_requests`]; others wait in a bounded queue.
    pub fn request_credits(&mut self, initial: usize) -> &mut Self {
        self.request_credits = Some(initial);
        self
    }

    /// Requests waiting for credits at most; beyond, HTTP/2 streams are refused
    /// (REFUSED_STREAM, safe to retry). Default 32.
    pub fn max_pending_accepts(&mut self, n: usize) -> &mut Self {
        self.max_pending_accepts = n;
        self
    }

    /// HTTP/1: body octets read but not taken by the application (with
    /// [`manual_release`](Self::manual_release): not released; for the handle API: not read
    /// from a `RecvBody`) before reading pauses. Default 1 MiB.
    pub fn max_buffered_body(&mut self, n: usize) -> &mut Self {
        self.max_buffered_body = n;
        self
    }

    /// Wraps an accepted connection for the handle API ([`Acceptor`]): requests come with a
    /// [`Responder`] and a [`RecvBody`] that can move to other tasks.
    pub fn acceptor<IO: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
        &self,
        io: IO,
    ) -> Acceptor<IO> {
        let mut builder = self.clone();
        builder.manual_release = true;
        Acceptor::new(builder.handshake(io))
    }

    /// Wraps an accepted connection. Nothing is read until the first `next_event`.
    pub fn handshake<IO: AsyncRead + AsyncWrite + Unpin>(&self, io: IO) -> Connection<IO> {
        let now = now();
        let core = match self.version {
            Version::Auto => Core::Detect(BytesMut::new()),
            Version::Http1 => Core::Ready(Versioned::H1(Box::new(h1::Connection::new(
                self.configs.h1.clone(),
                now,
            )))),
            Version::Http2 => Core::Ready(Versioned::H2(Box::new(h2::Connection::new(
                driven(&self.configs.h2),
                now,
            )))),
        };
        let proto = ServerProtocol {
            core,
            configs: self.configs.clone(),
            h2c: self.h2c,
            detect_deadline: (self.version == Version::Auto).then(|| now + self.detect_timeout),
        };
        Connection {
            driver: Driver::new(io, proto, self.keep_alive_ping),
            stash: VecDeque::new(),
            admission: Admission {
                credits: self.request_credits,
                pending_accepts: VecDeque::new(),
                max_pending_accepts: self.max_pending_accepts,
                refused: KeySet::default(),
            },
            bodies: Bodies {
                manual_release: self.manual_release,
                expecting: KeySet::default(),
                body_ended: KeySet::default(),
                trailers: KeyMap::default(),
                gate: BodyGate::new(self.max_buffered_body),
            },
        }
    }
}

/// Wraps an accepted connection for the handle API with the default options.
pub fn acceptor<IO: AsyncRead + AsyncWrite + Unpin + Send + 'static>(io: IO) -> Acceptor<IO> {
    Builder::new().acceptor(io)
}

/// Wraps an accepted connection with the default options (see [`Builder`]).
pub fn handshake<IO: AsyncRead + AsyncWrite + Unpin>(io: IO) -> Connection<IO> {
    Builder::new().handshake(io)
}

/// A server connection: the one owner of the transport, the protocol core and the timer.
pub struct Connection<IO> {
    driver: Driver<IO, ServerProtocol>,
    /// Events taken from the core while a helper waited for another.
    stash: VecDeque<Event>,
    admission: Admission,
    bodies: Bodies,
}

/// Request admission: credits and the pending-accept queue.
#[derive(Debug)]
struct Admission {
    credits: Option<usize>,
    /// Requests (with their later events) waiting for credits.
    pending_accepts: VecDeque<(RequestKey, Vec<Event>)>,
    max_pending_accepts: usize,
    /// Streams refused for lack of credits: their events never reach the application,
    /// which never saw their request.
    refused: KeySet,
}

/// Request-body bookkeeping for the helpers.
#[derive(Debug)]
struct Bodies {
    /// Credit HTTP/2 windows only on `release_capacity`.
    manual_release: bool,
    /// HTTP/1.1 requests whose client waits for 100 Continue.
    expecting: KeySet,
    /// Requests whose body has ended (all its events are already out of the core).
    body_ended: KeySet,
    /// Trailers that ended a body read with `recv_data`, for `take_trailers`.
    trailers: KeyMap<HeaderMap>,
    /// Body octets taken from the core but not yet by the application (with manual
    /// release: not yet released).
    gate: BodyGate,
}

impl Bodies {
    /// The client of `key` no longer waits for 100 Continue. Most connections never see
    /// `Expect: 100-continue`, so the key is hashed only when some request did.
    fn no_expect(&mut self, key: &RequestKey) {
        if !self.expecting.is_empty() {
            self.expecting.remove(key);
        }
    }
}

impl<IO> std::fmt::Debug for Connection<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("server::Connection")
            .field("version", &self.version())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<IO> Connection<IO> {
    /// The protocol in use (`None` while it is being detected).
    pub fn version(&self) -> Option<http::Version> {
        self.driver.proto.core.version()
    }

    /// A handle to shut this connection down gracefully from any task.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.driver.shutdown.clone()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        let core = &self.driver.proto.core;
        Stats {
            bytes_in: self.driver.bytes_in,
            bytes_out: self.driver.bytes_out,
            open_streams: core.open_streams(),
            pending_accepts: self.admission.pending_accepts.len(),
            buffered_in: core.input_buffered(),
            buffered_body: self.bodies.gate.held(),
        }
    }

    /// For the handle layer: hold the output just made for one yield (`Driver::gather_output`).
    pub(crate) fn gather_output(&mut self) {
        self.driver.gather_output();
    }

    /// For the handle layer: the last poll yielded to gather output.
    pub(crate) fn gather_yielded(&self) -> bool {
        self.driver.gather_yielded()
    }

    fn body_paused(&self) -> bool {
        matches!(&self.driver.proto.core, Core::Ready(v) if self.bodies.gate.closed(v))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Connection<IO> {
    // ----- the pump -----

    /// Drives the connection until the next event. `Ok(None)`: the connection is over.
    /// Cancel-safe.
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        if let Some(event) = self.stash.pop_front() {
            return Ok(Some(self.hand_out(event)));
        }
        let event = poll_fn(|cx| self.poll_event(cx)).await?;
        Ok(event.map(|e| self.hand_out(e)))
    }

    /// Polls for the next event from the core, applying request credits.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>, Error>> {
        loop {
            if self.admission.credits.is_none_or(|c| c > 0) {
                if let Some((key, mut events)) = self.admission.pending_accepts.pop_front() {
                    self.take_credit();
                    let first = events.remove(0);
                    // The request's later events go ahead of anything newer.
                    for (i, e) in events.into_iter().enumerate() {
                        self.stash.insert(i, e);
                    }
                    let _ = key;
                    return Poll::Ready(Ok(Some(first)));
                }
            }
            let paused = self.body_paused();
            let event = match self.driver.poll_pump(cx, paused) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(Pumped::End)) => return Poll::Ready(Ok(None)),
                Poll::Ready(Ok(Pumped::Event(e))) => e,
            };
            match &event {
                Event::Data {
                    key,
                    data,
                    end_stream,
                } => {
                    self.bodies.gate.hold(data.len());
                    if *end_stream {
                        self.bodies.body_ended.insert(*key);
                    }
                }
                Event::Request {
                    key,
                    end_stream: true,
                    ..
                }
                | Event::Trailers { key, .. } => {
                    self.bodies.body_ended.insert(*key);
                }
                _ => {}
            }
            let Some(key) = event_key(&event) else {
                return Poll::Ready(Ok(Some(event)));
            };
            // Refusals are rare (request credits exhausted): skip hashing the key otherwise.
            if !self.admission.refused.is_empty() && self.admission.refused.contains(&key) {
                if matches!(event, Event::Reset { .. }) {
                    self.admission.refused.remove(&key);
                }
                continue;
            }
            if let Some(slot) = self
                .admission
                .pending_accepts
                .iter_mut()
                .find(|(k, _)| *k == key)
            {
                slot.1.push(event);
                continue;
            }
            if let Event::Request {
                key,
                expect_continue,
                ..
            } = &event
            {
                if *expect_continue {
                    self.bodies.expecting.insert(*key);
                }
                if self.admission.credits == Some(0) {
                    let key = *key;
                    if self.admission.pending_accepts.len() >= self.admission.max_pending_accepts {
                        // No room to wait: refuse (HTTP/2), safe for the client to retry.
                        let _ = self
                            .driver
                            .proto
                            .core
                            .ready()
                            .and_then(|c| c.reset(key, ErrorCode::REFUSED_STREAM, now()));
                        self.admission.refused.insert(key);
                        continue;
                    }
                    self.admission.pending_accepts.push_back((key, vec![event]));
                    continue;
                }
                self.take_credit();
            }
            return Poll::Ready(Ok(Some(event)));
        }
    }

    fn take_credit(&mut self) {
        if let Some(c) = &mut self.admission.credits {
            *c = c.saturating_sub(1);
        }
    }

    /// Bookkeeping for an event handed to the application: body octets are credited back.
    fn hand_out(&mut self, event: Event) -> Event {
        if let Event::Data { key, data, .. } = &event {
            // With manual release the octets count until released (see `release_capacity`):
            // the handle layer queues them for a `RecvBody`, and reading must pause when
            // that queue is full, not when the pull API's own is.
            if !self.bodies.manual_release {
                self.bodies.gate.release(data.len());
                if let Ok(core) = self.driver.proto.core.ready() {
                    core.release(*key, data.len());
                }
            }
        }
        if let Event::Sent { key } | Event::Reset { key, .. } = &event {
            self.bodies.no_expect(key);
            self.bodies.body_ended.remove(key);
            if matches!(event, Event::Reset { .. }) {
                self.bodies.trailers.remove(key);
            }
        }
        event
    }

    /// Waits for the first event matching `pred`, keeping the others for later.
    async fn wait_for(
        &mut self,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> Result<Option<Event>, Error> {
        if let Some(i) = self.stash.iter().position(&mut pred) {
            let event = self.stash.remove(i).expect("index from position");
            return Ok(Some(self.hand_out(event)));
        }
        loop {
            match poll_fn(|cx| self.poll_event(cx)).await? {
                None => return Ok(None),
                Some(event) if pred(&event) => return Ok(Some(self.hand_out(event))),
                Some(event) => self.stash.push_back(event),
            }
        }
    }

    // ----- helpers for one task per connection -----

    /// Waits for the next request, driving the connection; other events are kept for
    /// [`next_event`](Self::next_event) and the other helpers. `Ok(None)`: no more requests.
    pub async fn next_request(&mut self) -> Result<Option<(RequestKey, Request<()>)>, Error> {
        match self
            .wait_for(|e| matches!(e, Event::Request { .. }))
            .await?
        {
            Some(Event::Request { key, head, .. }) => {
                Ok(Some((key, Request::from_parts(*head, ()))))
            }
            _ => Ok(None),
        }
    }

    /// The next piece of the request body of `key`; `Ok(None)` at its end. Sends 100
    /// Continue first if the client waits for it.
    pub async fn recv_data(&mut self, key: RequestKey) -> Result<Option<Bytes>, Error> {
        if self.bodies.expecting.remove(&key) {
            self.driver.proto.core.ready()?.send_continue(key)?;
        }
        let is_body = |e: &Event| matches!(e, Event::Data { key: k, .. } | Event::Trailers { key: k, .. } | Event::Reset { key: k, .. } if *k == key);
        let stashed = self.stash.iter().any(is_body);
        if !stashed && self.bodies.body_ended.remove(&key) {
            return Ok(None);
        }
        loop {
            match self.wait_for(is_body).await? {
                Some(Event::Data { data, .. }) if data.is_empty() => {
                    // An empty final DATA frame: the end, seen on the next call.
                    if self.bodies.body_ended.remove(&key) {
                        return Ok(None);
                    }
                }
                Some(Event::Data { data, .. }) => return Ok(Some(data)),
                Some(Event::Reset { code, .. }) => {
                    return Err(Error::with(
                        Kind::Protocol,
                        format!("stream reset with {code}"),
                    ));
                }
                Some(Event::Trailers { trailers, .. }) => {
                    self.bodies.body_ended.remove(&key);
                    self.bodies.trailers.insert(key, trailers);
                    return Ok(None);
                }
                Some(_) => return Ok(None),
                None => return Ok(None),
            }
        }
    }

    /// The trailers that ended the request body of `key`, once
    /// [`recv_data`](Self::recv_data) returned `None`.
    pub fn take_trailers(&mut self, key: RequestKey) -> Option<HeaderMap> {
        self.bodies.trailers.remove(&key)
    }

    /// Sends all of `data`, waiting for buffer room as needed (driving the connection).
    pub async fn write_all(
        &mut self,
        key: RequestKey,
        mut data: Bytes,
        end_stream: bool,
    ) -> Result<(), Error> {
        loop {
            let n = self
                .driver
                .proto
                .core
                .ready()?
                .send_data(key, data.clone(), end_stream)?;
            if n == data.len() {
                return Ok(());
            }
            data = data.slice(n..);
            let event = self
                .wait_for(|e| matches!(e, Event::Writable { key: k } | Event::Reset { key: k, .. } if *k == key))
                .await?;
            match event {
                Some(Event::Writable { .. }) => {}
                _ => return Err(Error::with(Kind::Closed, "stream ended while writing")),
            }
        }
    }

    /// Waits until the response of `key` was written and flushed.
    pub async fn sent(&mut self, key: RequestKey) -> Result<(), Error> {
        let event = self
            .wait_for(
                |e| matches!(e, Event::Sent { key: k } | Event::Reset { key: k, .. } if *k == key),
            )
            .await?;
        match event {
            Some(Event::Sent { .. }) => Ok(()),
            Some(Event::Reset { code, .. }) => Err(Error::with(
                Kind::Protocol,
                format!("stream reset with {code}"),
            )),
            _ => Err(Error::new(Kind::Closed)),
        }
    }

    /// After [`Event::Upgraded`]: writes what is queued (the 101 or 2xx), then hands over the
    /// transport and the octets received past the boundary. No task is spawned.
    pub async fn into_upgraded(mut self, key: RequestKey) -> Result<Upgraded<IO>, Error> {
        let _ = key;
        let read_buf = self.driver.flush_and_take_upgraded().await?;
        Ok(Upgraded {
            io: self.driver.io,
            read_buf,
        })
    }

    // ----- commands (they only queue) -----

    /// Sends the response head; with `end_stream` no body follows.
    pub fn send_response(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
        end_stream: bool,
    ) -> Result<(), Error> {
        self.bodies.no_expect(&key);
        self.driver
            .proto
            .core
            .ready()?
            .send_response(key, head, end_stream)
    }

    /// Sends an informational (1xx) response.
    pub fn send_informational(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
    ) -> Result<(), Error> {
        self.driver
            .proto
            .core
            .ready()?
            .send_informational(key, head)
    }

    /// HTTP/1.1: answers `Expect: 100-continue`.
    pub fn send_continue(&mut self, key: RequestKey) -> Result<(), Error> {
        self.bodies.no_expect(&key);
        self.driver.proto.core.ready()?.send_continue(key)
    }

    /// Queues body data; returns how much was accepted (the rest: retry after
    /// [`Event::Writable`], or use [`write_all`](Self::write_all)).
    pub fn send_data(
        &mut self,
        key: RequestKey,
        data: Bytes,
        end_stream: bool,
    ) -> Result<usize, Error> {
        self.driver
            .proto
            .core
            .ready()?
            .send_data(key, data, end_stream)
    }

    /// Ends the response with trailers.
    pub fn send_trailers(&mut self, key: RequestKey, trailers: HeaderMap) -> Result<(), Error> {
        self.driver.proto.core.ready()?.send_trailers(key, trailers)
    }

    /// Abandons an exchange: HTTP/2 RST_STREAM(CANCEL); HTTP/1 closes the connection.
    pub fn reset(&mut self, key: RequestKey) -> Result<(), Error> {
        self.driver
            .proto
            .core
            .ready()?
            .reset(key, ErrorCode::CANCEL, now())
    }

    /// Like [`reset`](Self::reset), with an HTTP/2 error code.
    pub fn reset_with(&mut self, key: RequestKey, code: ErrorCode) -> Result<(), Error> {
        self.driver.proto.core.ready()?.reset(key, code, now())
    }

    /// With [`Builder::manual_release`]: `n` octets of the request body of `key` were
    /// consumed. HTTP/2 credits them back to the client; HTTP/1 counts them off the octets
    /// held before reading pauses ([`Builder::max_buffered_body`]).
    pub fn release_capacity(&mut self, key: RequestKey, n: usize) {
        if self.bodies.manual_release {
            self.bodies.gate.release(n);
        }
        if let Ok(core) = self.driver.proto.core.ready() {
            core.release(key, n);
        }
    }

    /// Sends a PING with an opaque payload; its acknowledgement comes back as
    /// [`Event::Pong`]. HTTP/2 only (a `Misuse` error on HTTP/1).
    pub fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error> {
        self.driver.proto.core.ready()?.ping(payload)
    }

    /// HTTP/2: promises a pushed response to `request` (a body-less `GET` or `HEAD` with an
    /// authority) on the stream of `parent`, if the client allows pushes. Returns the pushed
    /// exchange's key: answer it with [`send_response`](Self::send_response) like a request.
    pub fn push_promise(
        &mut self,
        parent: RequestKey,
        request: &request::Parts,
    ) -> Result<RequestKey, Error> {
        self.driver
            .proto
            .core
            .ready()?
            .push_promise(parent, request)
    }

    /// Ends the connection now: HTTP/2 GOAWAY with `code` and every open stream reset;
    /// HTTP/1 closes, cutting short an exchange in progress. Output that the transport does
    /// not take at once is dropped: a peer that stopped reading cannot delay the close.
    pub fn abrupt_shutdown(&mut self, code: ErrorCode) {
        self.driver.abrupt_shutdown(code);
    }

    /// Grants `n` more request credits (see [`Builder::request_credits`]).
    pub fn grant_requests(&mut self, n: usize) {
        if let Some(c) = &mut self.admission.credits {
            *c = c.saturating_add(n);
        }
    }

    /// Starts a graceful shutdown of this connection.
    pub fn graceful_shutdown(&mut self) {
        self.driver.graceful_shutdown();
    }
}

fn event_key(event: &Event) -> Option<RequestKey> {
    Some(match event {
        Event::Request { key, .. }
        | Event::Data { key, .. }
        | Event::Trailers { key, .. }
        | Event::Writable { key }
        | Event::Sent { key }
        | Event::Reset { key, .. }
        | Event::Upgraded { key } => *key,
        // Connection-level: never queued behind a pending accept.
        Event::Pong { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn builders_share_their_options_with_their_connections_until_changed() {
        let mut a = Builder::new();
        let b = Builder::new();
        // Defaults: one copy for every builder and connection.
        assert!(Arc::ptr_eq(&a.configs, &b.configs));
        let (io, _peer) = tokio::io::duplex(64);
        let conn = b.handshake(io);
        assert!(Arc::ptr_eq(&conn.driver.proto.configs, &b.configs));
        // A change copies the options for that builder only.
        a.enable_connect_protocol(true);
        assert!(!Arc::ptr_eq(&a.configs, &b.configs));
        assert!(a.configs.h2.enable_connect_protocol);
        assert!(!b.configs.h2.enable_connect_protocol);
        assert!(!Builder::new().configs.h2.enable_connect_protocol);
        assert!(!conn.driver.proto.configs.h2.enable_connect_protocol);
        // The driver runs HTTP/2 flow control itself, whatever the options say.
        a.http2().flow_control = h2::FlowControl::Auto;
        assert_eq!(driven(&a.configs.h2).flow_control, h2::FlowControl::Manual);
    }
}
