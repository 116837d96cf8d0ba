//! The client's protocol for the shared driver: one HTTP/1.1 or HTTP/2 core (chosen by the
//! caller, for example from ALPN; commands dispatch through [`Versioned`]), its events mapped
//! to the client's [`Event`]s. It must not know about IO or timers.

use std::io::IoSlice;
use std::time::Instant;

use bytes::BytesMut;
use http::header::{CONNECTION, HeaderValue, UPGRADE};
use http::{StatusCode, request};
use pullhttp_proto::h2::ErrorCode;
use pullhttp_proto::{RequestKey, h1, h2};

use super::Event;
use crate::driver::{Protocol, Step, Versioned, now};
use crate::error::Error;

/// The protocol state of one client connection.
#[derive(Debug)]
pub(crate) struct ClientProtocol {
    pub(crate) core: Versioned,
    /// `Upgrade: h2c` on the first request: still to try, or tried and awaiting the answer.
    /// After the switch the HTTP/2 core keeps the connection's identity, so the upgraded
    /// request's key stays valid.
    pub(crate) upgrade: Option<H2cUpgrade>,
}

/// An `Upgrade: h2c` attempt (RFC 7540 §3.2).
#[derive(Debug)]
pub(crate) struct H2cUpgrade {
    pub(crate) config: h2::Config,
    /// The upgrading request's key and head, once sent.
    sent: Option<(RequestKey, request::Parts)>,
}

impl H2cUpgrade {
    pub(crate) fn new(config: h2::Config) -> Self {
        H2cUpgrade { config, sent: None }
    }
}

impl ClientProtocol {
    pub(crate) fn new(core: Versioned, upgrade: Option<H2cUpgrade>) -> Self {
        ClientProtocol { core, upgrade }
    }

    /// Sends a request; the first one carries `Upgrade: h2c` when asked for and it has no
    /// body (servers upgrade only body-less requests reliably: hypercorn answers a POST over
    /// HTTP/1.1).
    pub(crate) fn send_request(
        &mut self,
        head: &request::Parts,
        end_stream: bool,
    ) -> Result<RequestKey, Error> {
        let Some(upgrade) = self.upgrade.as_mut().filter(|u| u.sent.is_none()) else {
            return self.core.send_request(head, end_stream);
        };
        if !end_stream {
            self.upgrade = None;
            return self.core.send_request(head, end_stream);
        }
        let mut with = head.clone();
        let settings = h2::Connection::http2_settings_value(&upgrade.config);
        let connection = match with.headers.get(CONNECTION).and_then(|v| v.to_str().ok()) {
            Some(v) => format!("{v}, Upgrade, HTTP2-Settings"),
            None => "Upgrade, HTTP2-Settings".to_owned(),
        };
        if let Ok(v) = HeaderValue::from_str(&connection) {
            with.headers.insert(CONNECTION, v);
        }
        with.headers
            .insert(UPGRADE, HeaderValue::from_static("h2c"));
        if let Ok(v) = HeaderValue::from_str(&settings) {
            with.headers.insert("http2-settings", v);
        }
        let key = self.core.send_request(&with, true)?;
        upgrade.sent = Some((key, head.clone()));
        Ok(key)
    }

    /// The h1 core answered the upgrading request: swallow the `101` and switch, or give
    /// up on a refusal. Returns `true` when the event was consumed.
    fn upgrade_step(&mut self, event: &h1::Event) -> bool {
        let Some((up_key, _)) = self.upgrade.as_ref().and_then(|u| u.sent.as_ref()) else {
            return false;
        };
        let up_key = *up_key;
        match event {
            h1::Event::Response { key, head, .. } if *key == up_key => {
                if head.status == StatusCode::SWITCHING_PROTOCOLS {
                    return true;
                }
                self.upgrade = None;
                false
            }
            h1::Event::Upgraded { key } if *key == up_key => {
                let Some(H2cUpgrade {
                    config,
                    sent: Some((h1_key, head)),
                }) = self.upgrade.take()
                else {
                    return false;
                };
                let read_buf = self.core.take_upgraded().unwrap_or_default();
                let now = now();
                match h2::Connection::client_upgrade_from_http1(config, h1_key, &head, now) {
                    Ok(mut h2) => {
                        h2.handle_input(&read_buf, now);
                        self.core = Versioned::H2(Box::new(h2));
                        true
                    }
                    Err(_) => false,
                }
            }
            _ => false,
        }
    }

    /// Whether another request can be sent now (HTTP/2: under the peer's stream limit and
    /// not shutting down; HTTP/1.1: idle or within the pipelining depth).
    pub(crate) fn can_send(&self) -> bool {
        match &self.core {
            Versioned::H1(c) => c.can_send_request(),
            Versioned::H2(c) => c.can_open_stream(),
        }
    }

    /// How many more requests the connection takes now.
    pub(crate) fn request_room(&self) -> usize {
        match &self.core {
            Versioned::H1(c) => c.request_room(),
            Versioned::H2(c) => c.open_stream_room(),
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
                    Some(e) if self.upgrade.is_some() && self.upgrade_step(&e) => continue,
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

    fn release_idle(&mut self) -> bool {
        self.core.release_idle()
    }

    fn direct_input(&mut self) -> Option<&mut BytesMut> {
        self.core.direct_input()
    }

    fn input_appended(&mut self, now: Instant) {
        self.core.input_appended(now);
    }

    fn has_output(&mut self) -> bool {
        self.core.output_len() > 0
    }

    fn output<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize {
        self.core.output(slices)
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
