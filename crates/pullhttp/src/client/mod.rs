//! The client side, layer 1: wrap a connected transport and send requests by key, pulling
//! responses from the same pump the server uses ([`Connection::next_event`]).
//!
//! The version is the caller's choice (HTTP/1.1, or HTTP/2 by prior knowledge or from ALPN):
//! see [`Builder::version`]. The request target is written exactly as the head's URI gives
//! it (origin-form `/path`, absolute-form `http://host/path` for proxies, authority-form for
//! CONNECT), and `Host` is the caller's (derived from the URI only when absent). HTTP/1
//! header case and order are written as a request's
//! [`HeaderCase`](pullhttp_proto::h1::HeaderCase) extension gives them (and kept on
//! responses with `h1::Config::preserve_header_case`), HTTP/2 pseudo-header order and
//! SETTINGS through [`Builder::http2`].

pub mod handle;
mod protocol;

pub use self::handle::{ResponseFuture, SendRequest, tunnel};
pub use crate::server::{Finished, FlowControl, PingPong, RecvBody, SendBody, Tunnel};

use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, request, response};
use pullhttp_proto::h2::ErrorCode;
use pullhttp_proto::{RequestKey, h1, h2};
use tokio::io::{AsyncRead, AsyncWrite};

use self::protocol::{ClientProtocol, H2cUpgrade};
use crate::driver::{BodyGate, Driver, Pumped, Versioned, now};
use crate::error::Error;
use crate::shutdown::ShutdownHandle;

/// Which protocol a client connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Version {
    /// HTTP/1.1 (the default).
    Http1,
    /// HTTP/2 by prior knowledge (h2c) or negotiated by ALPN `h2`.
    Http2,
    /// HTTP/1.1 whose first request carries `Upgrade: h2c` (RFC 7540 §3.2, cleartext only):
    /// if the server answers `101`, the connection continues as HTTP/2 and the request's
    /// response comes over stream 1 (under the key `send_request` returned). A first request
    /// with a body is sent without the upgrade offer (servers differ on upgrading those),
    /// and a server that ignores the offer keeps the connection on HTTP/1.1.
    H2cUpgrade,
}

/// Something a client connection reports.
///
/// Heads are boxed: an event is then a few words, and the queues, the driver and the
/// application's futures move it without copying a head of about 250 octets at each step
/// (that copying was about a tenth of a small HTTP/2 exchange's instructions).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The final response to the request of `key`; its body follows unless `end_stream`.
    Response {
        /// The request's key.
        key: RequestKey,
        /// The response head.
        head: Box<response::Parts>,
        /// No body follows.
        end_stream: bool,
    },
    /// An informational (1xx) response (100 Continue, 103 Early Hints, ...); the final one
    /// follows.
    Informational {
        /// The request's key.
        key: RequestKey,
        /// The 1xx head.
        head: Box<response::Parts>,
    },
    /// HTTP/2: the server promised a pushed response (only when pushes are enabled).
    PushPromise {
        /// The request the promise was made on.
        parent: RequestKey,
        /// The pushed exchange: its response comes as for a request.
        key: RequestKey,
        /// The promised request.
        head: Box<request::Parts>,
    },
    /// Response body data.
    Data {
        /// The exchange.
        key: RequestKey,
        /// The octets.
        data: Bytes,
        /// Last data of the body.
        end_stream: bool,
    },
    /// Response trailers (the body is complete).
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
    /// The request's last octet was written and flushed.
    Sent {
        /// The exchange.
        key: RequestKey,
    },
    /// HTTP/2: the stream was reset (by the server, a stream error, or a GOAWAY that did not
    /// cover it). No more events follow for the key.
    Reset {
        /// The exchange.
        key: RequestKey,
        /// The RST_STREAM code (REFUSED_STREAM for streams refused by GOAWAY).
        code: ErrorCode,
        /// The server did not process the request: it is safe to send it again (on this
        /// or another connection). Nothing is retried by the library.
        retryable: bool,
        /// The whole request had been sent (the server reset while answering, e.g.
        /// RST_STREAM(NO_ERROR) after an early response).
        request_sent: bool,
    },
    /// HTTP/2: the server is shutting down; streams above `last_stream_id` are reported as
    /// retryable resets, no new requests can be sent.
    GoAway {
        /// The last stream the server may process.
        last_stream_id: u32,
        /// Why.
        code: ErrorCode,
    },
    /// HTTP/2: the server's SETTINGS arrived or changed; see [`Connection::peer_settings`].
    PeerSettings,
    /// HTTP/2: the answer to one of our PINGs.
    Pong {
        /// The payload the PING carried.
        payload: [u8; 8],
    },
    /// HTTP/1.1: a `101` or a 2xx to CONNECT; take the transport with
    /// [`Connection::into_parts`].
    Upgraded {
        /// The exchange.
        key: RequestKey,
    },
}

/// Options of a client connection.
#[derive(Clone, Debug)]
pub struct Builder {
    h1: h1::Config,
    h2: h2::Config,
    version: Version,
    keep_alive_ping: Option<(Duration, Duration)>,
    max_buffered_body: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: HTTP/1.1, the cores' client defaults, no PING keep-alive.
    pub fn new() -> Self {
        Builder {
            h1: h1::Config::client(),
            h2: h2::Config::client(),
            version: Version::Http1,
            keep_alive_ping: None,
            max_buffered_body: 1 << 20,
        }
    }

    /// The protocol: HTTP/1.1 (default) or HTTP/2 (prior knowledge, or ALPN `h2`).
    pub fn version(&mut self, version: Version) -> &mut Self {
        self.version = version;
        self
    }

    /// The HTTP/1 core's options (pipelining depth, limits, timeouts).
    pub fn http1(&mut self) -> &mut h1::Config {
        &mut self.h1
    }

    /// The HTTP/2 core's options (SETTINGS values and order, pseudo-header order, windows,
    /// push).
    pub fn http2(&mut self) -> &mut h2::Config {
        &mut self.h2
    }

    /// HTTP/2: PING after `interval` without input; close if no answer within `timeout`.
    pub fn keep_alive_ping(&mut self, interval: Duration, timeout: Duration) -> &mut Self {
        self.keep_alive_ping = Some((interval, timeout));
        self
    }

    /// Wraps a connected transport for the handle API: see [`handshake`].
    pub fn handshake<IO: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: IO,
    ) -> (SendRequest, handle::Connection<IO>) {
        let mut conn = self.connect(io);
        // Response bodies wait in the handles' queues: HTTP/1.1 reading pauses when they
        // hold too much (HTTP/2 is bounded by its windows).
        conn.h1_gate = Some(BodyGate::new(self.max_buffered_body));
        handle::Connection::new(conn)
    }

    /// Handles: HTTP/1.1 response body octets read but not yet taken from their
    /// `RecvBody` before reading pauses. Default 1 MiB. (HTTP/2 bodies are bounded by the
    /// flow-control windows; the pull API reads only as its events are taken.)
    pub fn max_buffered_body(&mut self, n: usize) -> &mut Self {
        self.max_buffered_body = n;
        self
    }

    /// Wraps a connected transport for the pull API. Nothing is written until the first
    /// `next_event` (HTTP/2: the preface and SETTINGS go first).
    pub fn connect<IO: AsyncRead + AsyncWrite + Unpin>(&self, io: IO) -> Connection<IO> {
        let now = now();
        let mut h2 = self.h2.clone();
        // The application credits data back as it takes it.
        h2.flow_control = h2::FlowControl::Manual;
        let h1 = || Versioned::H1(Box::new(h1::Connection::new(self.h1.clone(), now)));
        let proto = match self.version {
            Version::Http1 => ClientProtocol::new(h1(), None),
            Version::Http2 => {
                ClientProtocol::new(Versioned::H2(Box::new(h2::Connection::new(h2, now))), None)
            }
            Version::H2cUpgrade => ClientProtocol::new(h1(), Some(H2cUpgrade::new(h2))),
        };
        Connection {
            driver: Driver::new(io, proto, self.keep_alive_ping),
            h1_gate: None,
        }
    }
}

/// Wraps a connected transport for the handle API with the default options (HTTP/1.1):
/// a [`SendRequest`] for any task and the [`handle::Connection`] future that drives the
/// transport (spawn it, select on it, or use its `drive_while`).
pub fn handshake<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
) -> (SendRequest, handle::Connection<IO>) {
    Builder::new().handshake(io)
}

/// Wraps a connected transport for the pull API with the default options (HTTP/1.1).
pub fn connect<IO: AsyncRead + AsyncWrite + Unpin>(io: IO) -> Connection<IO> {
    Builder::new().connect(io)
}

/// The transport handed back after an upgrade or a CONNECT: speak the new protocol on `io`,
/// starting with `read_buf` (what the server sent past its response). The same type the
/// server's upgrades give.
pub type Parts<IO> = crate::upgrade::Upgraded<IO>;

/// A client connection (pull API): the one owner of the transport, the core and the timer.
pub struct Connection<IO> {
    driver: Driver<IO, ClientProtocol>,
    /// Set for the handle layer: body octets handed out count until released, and HTTP/1.1
    /// reading pauses when too many are held.
    h1_gate: Option<BodyGate>,
}

impl<IO> std::fmt::Debug for Connection<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("client::Connection")
            .field("version", &self.version())
            .finish_non_exhaustive()
    }
}

impl<IO> Connection<IO> {
    /// The protocol in use.
    pub fn version(&self) -> http::Version {
        self.driver.proto.core.version()
    }

    /// HTTP/2: the server's SETTINGS as last received (`None` on HTTP/1.1).
    pub fn peer_settings(&self) -> Option<&h2::PeerSettings> {
        self.driver.proto.h2().map(h2::Connection::peer_settings)
    }

    /// Whether a request can be sent now (HTTP/2: under the server's stream limit and not
    /// shutting down; HTTP/1.1: no request in flight, or fewer than the pipelining depth).
    pub fn can_send_request(&self) -> bool {
        self.driver.proto.can_send()
    }

    /// How many more requests the connection takes now (0 when
    /// [`can_send_request`](Self::can_send_request) is false).
    pub fn request_room(&self) -> usize {
        self.driver.proto.request_room()
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.driver.proto.core.open_streams()
    }

    /// A handle that shuts this connection down from any task.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.driver.shutdown.clone()
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Connection<IO> {
    /// Drives the connection until the next event. `Ok(None)`: the connection is over.
    /// Cancel-safe.
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Polls for the next event.
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>, Error>> {
        let paused = self
            .h1_gate
            .is_some_and(|g| g.closed(&self.driver.proto.core));
        match self.driver.poll_pump(cx, paused) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(Pumped::End)) => Poll::Ready(Ok(None)),
            Poll::Ready(Ok(Pumped::Event(e))) => {
                if let (Some(gate), Event::Data { data, .. }) = (&mut self.h1_gate, &e) {
                    gate.hold(data.len());
                }
                Poll::Ready(Ok(Some(e)))
            }
        }
    }

    /// Sends a request head; with `end_stream` no body follows. Returns the key its response
    /// comes back with. `Misuse` when no request can be sent now (see
    /// [`can_send_request`](Self::can_send_request)).
    pub fn send_request(
        &mut self,
        head: &request::Parts,
        end_stream: bool,
    ) -> Result<RequestKey, Error> {
        self.driver.proto.send_request(head, end_stream)
    }

    /// Queues request body data; returns how much was accepted (retry the rest after
    /// [`Event::Writable`]).
    pub fn send_data(
        &mut self,
        key: RequestKey,
        data: Bytes,
        end_stream: bool,
    ) -> Result<usize, Error> {
        self.driver.proto.core.send_data(key, data, end_stream)
    }

    /// Ends the request body with trailers.
    pub fn send_trailers(&mut self, key: RequestKey, trailers: HeaderMap) -> Result<(), Error> {
        self.driver.proto.core.send_trailers(key, trailers)
    }

    /// Abandons a request: HTTP/2 RST_STREAM with `code`; HTTP/1.1 closes the connection.
    pub fn reset(&mut self, key: RequestKey, code: ErrorCode) -> Result<(), Error> {
        self.driver.proto.core.reset(key, code, now())
    }

    /// HTTP/2: `n` octets of the response body of `key` were consumed; credit them back.
    /// (Data is not credited automatically: the consumer decides when it has room.)
    pub fn release_capacity(&mut self, key: RequestKey, n: usize) {
        self.release_buffered(n);
        self.driver.proto.core.release(key, n);
    }

    /// For the handle layer: hold the output just made for one yield (`Driver::gather_output`).
    pub(crate) fn gather_output(&mut self) {
        self.driver.gather_output();
    }

    /// For the handle layer: the last poll yielded to gather output.
    pub(crate) fn gather_yielded(&self) -> bool {
        self.driver.gather_yielded()
    }

    /// `n` body octets handed out were taken: the read gate counts them off.
    pub(crate) fn release_buffered(&mut self, n: usize) {
        if let Some(gate) = &mut self.h1_gate {
            gate.release(n);
        }
    }

    /// Sends a PING; the answer comes back as [`Event::Pong`]. HTTP/2 only.
    pub fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error> {
        self.driver.proto.core.ping(payload)
    }

    /// Starts a graceful shutdown: HTTP/2 GOAWAY (requests in flight complete); HTTP/1.1
    /// closes once the exchange in flight is done.
    pub fn graceful_shutdown(&mut self) {
        self.driver.graceful_shutdown();
    }

    /// Ends the connection now.
    pub fn abrupt_shutdown(&mut self, code: ErrorCode) {
        self.driver.abrupt_shutdown(code);
    }

    /// After [`Event::Upgraded`]: writes what is queued, then hands over the transport and
    /// the octets the server sent past its response. No task is spawned.
    pub async fn into_parts(mut self) -> Result<Parts<IO>, Error> {
        let read_buf = self.driver.flush_and_take_upgraded().await?;
        Ok(Parts {
            io: self.driver.io,
            read_buf,
        })
    }
}
