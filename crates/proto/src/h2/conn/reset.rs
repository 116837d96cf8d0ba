//! Ending streams and connections: stream errors (§5.4.2) with RST_STREAM, connection
//! errors (§5.4.1) with GOAWAY, refusals, and the reporting that gives every key exactly one
//! `Sent` or `Reset`.
//!
//! Stream errors the peer causes are charged to the stream-error budget (MadeYouReset);
//! resets the application asks for are not.

use std::time::Instant;

use bytes::Bytes;
use http::StatusCode;

use super::event::{ConnectionError, Event, Initiator, StreamReset};
use super::stream::{RecvPhase, State, Stream};
use super::{Connection, Phase};
use crate::h2::frame::{FrameType, GoAway, RstStream};
use crate::h2::{ErrorCode, PeerError, StreamId};

impl Connection {
    /// Refuses a stream with REFUSED_STREAM (counted in the stream-error budget).
    pub(super) fn refuse(&mut self, id: StreamId, now: Instant) {
        if !self.budgets.stream_errors.spend(now) {
            let limit = self.budgets.stream_errors.limit();
            return self.connection_error(PeerError::TooManyStreamErrors { limit });
        }
        self.send_reset(id, ErrorCode::REFUSED_STREAM, now);
    }

    /// A request whose header list is over our limit: answer 431 (RFC 6585) and end the
    /// stream, without bothering the application.
    pub(super) fn reject_too_large(&mut self, id: StreamId, end_stream: bool, now: Instant) {
        if !self.budgets.stream_errors.spend(now) {
            let limit = self.budgets.stream_errors.limit();
            return self.connection_error(PeerError::TooManyStreamErrors { limit });
        }
        let state = if end_stream {
            State::HalfClosedRemote
        } else {
            State::Open
        };
        let mut stream = Stream::new(
            id,
            state,
            self.config.initial_window_size,
            self.peer.initial_window_size,
        );
        stream.send_reported = true;
        stream.recv.phase = RecvPhase::Done;
        self.streams.insert(stream);
        let status = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
        let fields = [crate::h2::hpack::FieldRef::new(
            b":status",
            status.as_str().as_bytes(),
        )];
        self.write_headers(id, fields, true);
        if !end_stream {
            // The request body is not wanted (§8.1).
            self.send_reset(id, ErrorCode::NO_ERROR, now);
        } else {
            self.maybe_remove(id);
        }
    }

    /// A stream error (§5.4.2) the peer caused: budgeted, RST_STREAM, `Reset` reported.
    pub(super) fn stream_error(&mut self, id: StreamId, error: PeerError, now: Instant) {
        if !self.budgets.stream_errors.spend(now) {
            let limit = self.budgets.stream_errors.limit();
            return self.connection_error(PeerError::TooManyStreamErrors { limit });
        }
        let code = error.code();
        self.write_rst(id, code, now);
        let reset = StreamReset {
            code,
            initiator: Initiator::Local,
            retryable: false,
            cause: Some(error),
        };
        self.report_reset(id, reset);
    }

    /// Sends RST_STREAM for a stream and reports it (a local decision, not budgeted).
    pub(super) fn send_reset(&mut self, id: StreamId, code: ErrorCode, now: Instant) {
        self.write_rst(id, code, now);
        let reset = StreamReset {
            code,
            initiator: Initiator::Local,
            retryable: false,
            cause: None,
        };
        self.report_reset(id, reset);
    }

    pub(super) fn write_rst(&mut self, id: StreamId, code: ErrorCode, now: Instant) {
        RstStream {
            stream_id: id,
            code,
        }
        .encode(self.out.buf());
        self.streams.remember_reset(id, now);
    }

    /// Reports the end of a reset stream and drops it.
    pub(super) fn report_reset(&mut self, id: StreamId, reset: StreamReset) {
        let key = self.key(id);
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        if !s.send_reported {
            s.send_reported = true;
            self.events.push_back(Event::Reset { key, reset });
        } else if s.recv.phase != RecvPhase::Done {
            self.events.push_back(Event::RecvReset { key, reset });
        }
        self.drop_stream(id);
    }

    pub(super) fn unexpected_frame(&mut self, frame: FrameType, id: StreamId) {
        let stream_id = id.as_u32();
        self.connection_error(PeerError::UnexpectedFrame { frame, stream_id });
    }

    /// A connection error (§5.4.1): GOAWAY with the code, every stream reset, closed.
    pub(super) fn connection_error(&mut self, error: PeerError) {
        if self.phase == Phase::Closed {
            return;
        }
        let debug = Bytes::from(error.to_string());
        self.go_away(error.code(), debug);
        self.fail_streams(error.code(), false);
        self.close(Some(ConnectionError::Peer(error)));
    }

    /// Queues a GOAWAY naming the last peer stream we processed.
    pub(super) fn go_away(&mut self, code: ErrorCode, debug_data: Bytes) {
        let last = self
            .shutdown
            .last_stream_id
            .unwrap_or(self.streams.last_peer_id())
            .min(self.streams.last_peer_id());
        GoAway {
            last_stream_id: last,
            code,
            debug_data,
        }
        .encode(self.out.buf());
    }

    /// Reports every live stream as reset (the connection is ending).
    pub(super) fn fail_streams(&mut self, code: ErrorCode, retryable: bool) {
        self.shutdown.failing = true;
        let mut ids = self.streams.ids();
        ids.sort();
        for id in ids {
            let reset = StreamReset {
                code,
                initiator: Initiator::Local,
                retryable,
                cause: None,
            };
            self.report_reset(id, reset);
        }
    }

    /// The PING of a graceful shutdown came back: send the final GOAWAY.
    pub(super) fn finish_graceful_shutdown(&mut self, now: Instant) {
        let last = self.streams.last_peer_id();
        self.shutdown.last_stream_id = Some(last);
        let deadline = now + self.config.graceful_drain_timeout;
        self.shutdown.drain_deadline.get_or_insert(deadline);
        self.go_away(ErrorCode::NO_ERROR, Bytes::new());
        self.maybe_close();
    }
}
