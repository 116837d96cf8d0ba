//! The client's protocol for the shared driver: one HTTP/1.1 or HTTP/2 core (chosen by the
//! caller, for example from ALPN; commands dispatch through [`Versioned`]), its events mapped
//! to the client's [`Event`]s. It must not know about IO or timers.

use std::io::IoSlice;
use std::time::Instant;

use bytes::BytesMut;
use pullhttp_proto::h2::ErrorCode;
use pullhttp_proto::{h1, h2};

use super::Event;
use crate::driver::{Protocol, Step, Versioned};
use crate::error::Error;

/// The protocol state of one client connection.
#[derive(Debug)]
pub(crate) struct ClientProtocol {
    pub(crate) core: Versioned,
}

impl ClientProtocol {
    /// Whether another request can be sent now (HTTP/2: under the peer's stream limit and
    /// not shutting down; HTTP/1.1: idle or within the pipelining depth).
    pub(crate) fn can_send(&self) -> bool {
        match &self.core {
            Versioned::H1(c) => c.can_send_request(),
            Versioned::H2(c) => c.can_open_stream(),
        }
    }

    pub(crate) fn h2(&self) -> Option<&h2::Connection> {
        match &self.core {
            Versioned::H2(c) => Some(c),
            Versioned::H1(_) => None,
        }
    }
}

impl Protocol for ClientProtocol {
    type Event = Event;

    fn next_step(&mut self, _preamble: &mut BytesMut) -> Step<Event> {
        loop {
            let mapped = match &mut self.core {
                Versioned::H1(c) => match c.next_event() {
                    None => return Step::Idle,
                    Some(e) => map_h1(e),
                },
                Versioned::H2(c) => match c.next_event() {
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
        self.core.handle_input(data, now);
    }

    fn handle_eof(&mut self, now: Instant) -> bool {
        self.core.handle_eof(now);
        false
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.core.handle_timeout(now);
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.core.next_deadline()
    }

    fn wants_read(&self) -> bool {
        self.core.wants_read()
    }

    fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    fn output<'a>(&'a mut self, slices: &mut Vec<IoSlice<'a>>, max: usize) {
        self.core.output(slices, max);
    }

    fn advance_written(&mut self, n: usize) {
        self.core.advance_written(n);
    }

    fn on_flushed(&mut self) {
        self.core.on_flushed();
    }

    fn graceful_shutdown(&mut self, now: Instant) -> bool {
        self.core.graceful_shutdown(now);
        false
    }

    fn abrupt_shutdown(&mut self, code: ErrorCode) {
        self.core.abrupt_shutdown(code);
    }

    fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error> {
        self.core.ping(payload)
    }

    fn take_upgraded(&mut self) -> Option<BytesMut> {
        self.core.take_upgraded()
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
