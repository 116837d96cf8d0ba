//! The client's protocol for the shared driver: one HTTP/1.1 or HTTP/2 core (chosen by the
//! caller, for example from ALPN), its events mapped to the client's [`Event`]s, and commands
//! dispatched by version. It must not know about IO or timers.

use std::io::IoSlice;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, request};
use pullhttp_proto::h2::ErrorCode;
use pullhttp_proto::{RequestKey, h1, h2};

use super::Event;
use crate::driver::{Protocol, Step};
use crate::error::{Error, Kind};

/// The protocol state of one client connection.
#[derive(Debug)]
pub(crate) enum ClientProtocol {
    H1(Box<h1::Connection>),
    H2(Box<h2::Connection>),
}

impl ClientProtocol {
    pub(crate) fn send_request(
        &mut self,
        head: &request::Parts,
        end_stream: bool,
    ) -> Result<RequestKey, Error> {
        match self {
            ClientProtocol::H1(c) => Ok(c.send_request(head, end_stream)?),
            ClientProtocol::H2(c) => Ok(c.send_request(head, end_stream)?),
        }
    }

    pub(crate) fn send_data(
        &mut self,
        key: RequestKey,
        data: Bytes,
        end: bool,
    ) -> Result<usize, Error> {
        match self {
            ClientProtocol::H1(c) => Ok(c.send_data(key, data, end)?),
            ClientProtocol::H2(c) => Ok(c.send_data(key, data, end)?),
        }
    }

    pub(crate) fn send_trailers(
        &mut self,
        key: RequestKey,
        trailers: HeaderMap,
    ) -> Result<(), Error> {
        match self {
            ClientProtocol::H1(c) => Ok(c.send_trailers(key, trailers)?),
            ClientProtocol::H2(c) => Ok(c.send_trailers(key, trailers)?),
        }
    }

    /// HTTP/2: RST_STREAM with `code`; HTTP/1: the connection is closed.
    pub(crate) fn reset(
        &mut self,
        key: RequestKey,
        code: ErrorCode,
        now: Instant,
    ) -> Result<(), Error> {
        match self {
            ClientProtocol::H1(c) => {
                c.abort();
                Ok(())
            }
            ClientProtocol::H2(c) => Ok(c.reset_stream(key, code, now)?),
        }
    }

    pub(crate) fn release(&mut self, key: RequestKey, n: usize) {
        if let ClientProtocol::H2(c) = self {
            let _ = c.release_capacity(key, u32::try_from(n).unwrap_or(u32::MAX));
        }
    }

    /// Whether another request can be sent now (HTTP/2: under the peer's stream limit and
    /// not shutting down; HTTP/1.1: idle or within the pipelining depth).
    pub(crate) fn can_send(&self) -> bool {
        match self {
            ClientProtocol::H1(c) => c.can_send_request(),
            ClientProtocol::H2(c) => c.can_open_stream(),
        }
    }

    pub(crate) fn h2(&self) -> Option<&h2::Connection> {
        match self {
            ClientProtocol::H2(c) => Some(c),
            ClientProtocol::H1(_) => None,
        }
    }

    /// After `Upgraded`: the octets received past the boundary.
    pub(crate) fn take_upgraded(&mut self) -> Option<BytesMut> {
        match self {
            ClientProtocol::H1(c) => Some(c.take_upgraded()),
            ClientProtocol::H2(_) => None,
        }
    }

    pub(crate) fn open_streams(&self) -> usize {
        match self {
            ClientProtocol::H1(c) => c.in_flight(),
            ClientProtocol::H2(c) => c.stream_count(),
        }
    }
}

impl Protocol for ClientProtocol {
    type Event = Event;

    fn next_step(&mut self, _preamble: &mut BytesMut) -> Step<Event> {
        loop {
            let mapped = match self {
                ClientProtocol::H1(c) => match c.next_event() {
                    None => return Step::Idle,
                    Some(e) => map_h1(e),
                },
                ClientProtocol::H2(c) => match c.next_event() {
                    None => return Step::Idle,
                    Some(h2::Event::PingAck { payload }) => return Step::PingAck(payload),
                    Some(e) => map_h2(e),
                },
            };
            match mapped {
                Some(step) => return step,
                None => continue,
            }
        }
    }

    fn pong(payload: [u8; 8]) -> Event {
        Event::Pong { payload }
    }

    fn handle_input(&mut self, data: &[u8], now: Instant) {
        match self {
            ClientProtocol::H1(c) => c.handle_input(data, now),
            ClientProtocol::H2(c) => c.handle_input(data, now),
        }
    }

    fn handle_eof(&mut self, now: Instant) -> bool {
        match self {
            ClientProtocol::H1(c) => c.handle_eof(now),
            ClientProtocol::H2(c) => c.handle_eof(now),
        }
        false
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        match self {
            ClientProtocol::H1(c) => c.handle_timeout(now),
            ClientProtocol::H2(c) => c.handle_timeout(now),
        }
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        match self {
            ClientProtocol::H1(c) => c.next_deadline(),
            ClientProtocol::H2(c) => c.next_deadline(),
        }
    }

    fn wants_read(&self) -> bool {
        match self {
            ClientProtocol::H1(c) => c.wants_read(),
            ClientProtocol::H2(c) => c.wants_read(),
        }
    }

    fn is_closed(&self) -> bool {
        match self {
            ClientProtocol::H1(c) => c.is_closed(),
            ClientProtocol::H2(c) => c.is_closed(),
        }
    }

    fn output<'a>(&'a mut self, slices: &mut Vec<IoSlice<'a>>, max: usize) {
        match self {
            ClientProtocol::H1(c) => slices.extend(c.output_chunks().take(max).map(IoSlice::new)),
            ClientProtocol::H2(c) => slices.extend(c.output_chunks().take(max).map(IoSlice::new)),
        }
    }

    fn advance_written(&mut self, n: usize) {
        match self {
            ClientProtocol::H1(c) => c.advance_written(n),
            ClientProtocol::H2(c) => c.advance_written(n),
        }
    }

    fn on_flushed(&mut self) {
        match self {
            ClientProtocol::H1(c) => c.on_flushed(),
            ClientProtocol::H2(c) => c.on_flushed(),
        }
    }

    fn graceful_shutdown(&mut self, now: Instant) -> bool {
        match self {
            ClientProtocol::H1(c) => c.graceful_shutdown(),
            ClientProtocol::H2(c) => c.graceful_shutdown(now),
        }
        false
    }

    fn abrupt_shutdown(&mut self, code: ErrorCode) {
        match self {
            ClientProtocol::H1(c) => c.abort(),
            ClientProtocol::H2(c) => c.abrupt_shutdown(code),
        }
    }

    fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error> {
        match self {
            ClientProtocol::H2(c) => Ok(c.ping(payload)?),
            ClientProtocol::H1(_) => Err(Error::with(Kind::Misuse, "PING needs HTTP/2")),
        }
    }
}

fn map_h1(e: h1::Event) -> Option<Step<Event>> {
    Some(Step::Event(match e {
        h1::Event::Response {
            key,
            head,
            end_stream,
        } => Event::Response {
            key,
            head,
            end_stream,
        },
        h1::Event::Informational { key, head } => Event::Informational { key, head },
        h1::Event::Data {
            key,
            data,
            end_stream,
        } => Event::Data {
            key,
            data,
            end_stream,
        },
        h1::Event::Trailers { key, trailers } => Event::Trailers { key, trailers },
        h1::Event::Writable { key } => Event::Writable { key },
        h1::Event::Sent { key } => Event::Sent { key },
        h1::Event::Upgraded { key } => Event::Upgraded { key },
        h1::Event::Closed { error } => return Some(Step::Closed(error.map(Error::from))),
        _ => return None,
    }))
}

fn map_h2(e: h2::Event) -> Option<Step<Event>> {
    Some(Step::Event(match e {
        h2::Event::Response {
            key,
            head,
            end_stream,
        } => Event::Response {
            key,
            head,
            end_stream,
        },
        h2::Event::Informational { key, head } => Event::Informational { key, head },
        h2::Event::PushPromise { parent, key, head } => Event::PushPromise { parent, key, head },
        h2::Event::Data {
            key,
            data,
            end_stream,
        } => Event::Data {
            key,
            data,
            end_stream,
        },
        h2::Event::Trailers { key, trailers } => Event::Trailers { key, trailers },
        h2::Event::Writable { key } => Event::Writable { key },
        h2::Event::Sent { key } => Event::Sent { key },
        h2::Event::Reset { key, reset } => Event::Reset {
            key,
            code: reset.code,
            retryable: reset.retryable,
            request_sent: false,
        },
        h2::Event::RecvReset { key, reset } => Event::Reset {
            key,
            code: reset.code,
            retryable: reset.retryable,
            request_sent: true,
        },
        h2::Event::GoAway {
            last_stream_id,
            code,
            ..
        } => Event::GoAway {
            last_stream_id: last_stream_id.as_u32(),
            code,
        },
        h2::Event::PeerSettings | h2::Event::Connected => Event::PeerSettings,
        h2::Event::Closed { error } => return Some(Step::Closed(error.map(Error::from))),
        _ => return None,
    }))
}
