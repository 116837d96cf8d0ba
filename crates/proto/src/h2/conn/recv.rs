//! Receiving: the input loop, and one handler per frame type applying §5.1 (stream states),
//! §5.2/§6.9 (flow control), §6.5 (SETTINGS), §6.7 (PING), §6.8 (GOAWAY) and §8 (messages).
//!
//! Scope of errors: a rule the RFC states as a stream error resets only that stream (RST_STREAM
//! and a `Reset` event); everything else is a connection error: GOAWAY with the code, then
//! closed. Field blocks are always decoded, even for streams being refused or ignored, so the
//! HPACK context never falls out of step. Reporting and resetting live in `reset`.

use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use http::{Method, StatusCode};

use super::event::{ConnectionError, Event, Initiator, StreamReset};
use super::priority::{PRIORITY_UPDATE, Priority};
use super::settings::check_flood;
use super::store::Absent;
use super::stream::{RecvPhase, SendPhase, State, Stream};
use super::{Connection, PREFACE, Phase, Role, SHUTDOWN_PING};
use crate::h2::frame::{
    Data, Frame, FrameError, FrameType, GoAway, Headers, Ping, PushPromise, RstStream, SettingId,
    Settings, Unknown, WindowUpdate,
};
use crate::h2::hpack::DecoderError;
use crate::h2::message::{MessageError, PRIORITY_FIELD, Section, SectionBuilder, SectionKind};
use crate::h2::{ErrorCode, PeerError, StreamId};
use crate::output::Marker;

/// Octets reserved for a read into [`Connection::direct_input`].
pub const DIRECT_READ: usize = 64 << 10;

/// Why a header section could not be turned into a message.
enum SectionError {
    /// The HPACK context is lost: connection error.
    Compression(DecoderError),
    /// Over our header list limit; HPACK is in sync.
    TooLarge,
    /// Malformed (§8.1.1): stream error.
    Malformed(MessageError),
}

impl Connection {
    /// Feeds bytes read from the transport. Processing pauses (input stays buffered) while
    /// more ACKs than `max_pending_acks` wait to be written.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        self.input.extend_from_slice(data);
        self.process_input(now);
    }

    /// Where the next read may land directly, or `None` to hand it to
    /// [`handle_input`](Self::handle_input) instead. `Some` while a frame is incomplete (in
    /// a large upload nearly every read ends inside a DATA frame): the input buffer,
    /// with at least [`DIRECT_READ`] octets reserved. Reading into it saves copying every
    /// octet of a body once more (a read buffer shared by idle connections serves the rest).
    /// After appending, call [`input_appended`](Self::input_appended).
    pub fn direct_input(&mut self) -> Option<&mut BytesMut> {
        if self.phase == Phase::Closed || self.input.is_empty() || !self.wants_read() {
            return None;
        }
        if self.input.capacity() - self.input.len() < DIRECT_READ {
            // A fresh buffer holding only the incomplete frame: growing this one in place
            // would copy the frames already handed out too (their payloads share it).
            let mut fresh = BytesMut::with_capacity(self.input.len() + DIRECT_READ);
            fresh.extend_from_slice(&self.input);
            self.input = fresh;
        }
        Some(&mut self.input)
    }

    /// Octets were appended to the buffer [`direct_input`](Self::direct_input) gave.
    pub fn input_appended(&mut self, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        self.process_input(now);
    }

    /// The transport's read side ended.
    pub fn handle_eof(&mut self, now: Instant) {
        let _ = now;
        if self.phase == Phase::Closed {
            return;
        }
        let idle = self.phase == Phase::Open && self.streams.len() == 0;
        let error = (!idle).then_some(ConnectionError::UnexpectedEof);
        self.fail_streams(ErrorCode::CANCEL, false);
        self.close(error);
    }

    /// The deadline from [`next_deadline`](Self::next_deadline) has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        self.streams.handle_timeout(now);
        if self.handshake_deadline.is_some_and(|t| t <= now) {
            self.handshake_deadline = None;
            self.fail_streams(ErrorCode::CANCEL, false);
            self.close(Some(ConnectionError::HandshakeTimeout));
            return;
        }
        if self.local.deadline().is_some_and(|t| t <= now) {
            self.connection_error(PeerError::SettingsTimeout);
            return;
        }
        if self.shutdown.drain_deadline.is_some_and(|t| t <= now) {
            self.shutdown.drain_deadline = None;
            self.go_away(ErrorCode::NO_ERROR, Bytes::new());
            self.fail_streams(ErrorCode::CANCEL, false);
            self.close(Some(ConnectionError::DrainTimeout));
        }
        // The input loop may have paused for ACKs; try again.
        self.process_input(now);
    }

    pub(super) fn process_input(&mut self, now: Instant) {
        while self.phase != Phase::Closed {
            if !self.wants_read() {
                if self.input.len() > self.config.max_input_buffer {
                    self.connection_error(PeerError::ControlFlood);
                }
                return;
            }
            if self.phase == Phase::AwaitPreface {
                let n = self.input.len().min(PREFACE.len());
                if self.input[..n] != PREFACE[..n] {
                    self.fail_streams(ErrorCode::PROTOCOL_ERROR, false);
                    self.close(Some(ConnectionError::Peer(PeerError::InvalidPreface)));
                    return;
                }
                if n < PREFACE.len() {
                    return;
                }
                self.input.advance(PREFACE.len());
                self.phase = Phase::AwaitSettings;
            }
            match self.codec.reader.decode(&mut self.input) {
                Ok(None) => return,
                Ok(Some(frame)) => self.handle_frame(frame, now),
                Err(FrameError::Connection(e)) => return self.connection_error(e),
                Err(FrameError::Stream { stream_id, error }) => {
                    self.stream_error(stream_id, error, now);
                }
            }
        }
    }

    fn handle_frame(&mut self, frame: Frame, now: Instant) {
        if self.phase == Phase::AwaitSettings {
            match &frame {
                Frame::Settings(s) if !s.ack => {
                    self.phase = Phase::Open;
                    self.handshake_deadline = None;
                }
                other => {
                    let frame = other.kind();
                    return self.connection_error(PeerError::FirstFrameNotSettings { frame });
                }
            }
        }
        match frame {
            Frame::Data(f) => self.on_data(f, now),
            Frame::Headers(f) => self.on_headers(f, now),
            Frame::Settings(f) => self.on_settings(f, now),
            Frame::RstStream(f) => self.on_rst_stream(f, now),
            Frame::Ping(f) => self.on_ping(f, now),
            Frame::GoAway(f) => self.on_go_away(f),
            Frame::WindowUpdate(f) => self.on_window_update(f, now),
            Frame::PushPromise(f) => self.on_push_promise(f, now),
            Frame::Unknown(f) if f.kind == FrameType::from(PRIORITY_UPDATE) => {
                self.on_priority_update(f);
            }
            // PRIORITY is validated by the reader and otherwise ignored (§5.3.2); unknown
            // frames are ignored (§5.5); the reader never yields CONTINUATION.
            _ => {}
        }
    }

    // ----- connection-level frames -----

    fn on_settings(&mut self, f: Settings, now: Instant) {
        if f.ack {
            if let Some(params) = self.local.acked() {
                self.apply_local_settings(&params);
            }
            return;
        }
        if let Err(e) = check_flood(
            &f,
            self.config.max_settings_entries,
            self.config.reject_duplicate_settings,
        ) {
            return self.connection_error(e);
        }
        if self.config.role == Role::Client && f.get(SettingId::ENABLE_PUSH) == Some(1) {
            return self.connection_error(PeerError::PushEnabledByServer);
        }
        let first = self.peer.received.is_empty();
        let old_window = i64::from(self.peer.initial_window_size);
        self.peer.apply(&f.params);
        self.peer.received = f.params;
        if let Some(size) = f_value(&self.peer.received, SettingId::HEADER_TABLE_SIZE) {
            self.codec.encoder.set_max_table_size(size as usize);
        }
        let delta = i64::from(self.peer.initial_window_size) - old_window;
        if delta != 0 {
            let overflow = self
                .streams
                .iter_mut()
                .any(|s| s.send.window.adjust(delta).is_err());
            if overflow {
                return self.connection_error(PeerError::WindowOverflow);
            }
            for id in self.streams.ids() {
                self.schedule(id);
            }
        }
        Settings::ack().encode(self.out.buf());
        self.out.mark(Marker::Ack);
        let _ = now;
        self.events.push_back(if first {
            Event::Connected
        } else {
            Event::PeerSettings
        });
    }

    /// Our SETTINGS were acknowledged: receive-side values take effect (§6.5.3).
    pub(super) fn apply_local_settings(&mut self, params: &[(SettingId, u32)]) {
        let limits = self.local.limits().clone();
        self.codec
            .decoder
            .set_max_table_size(limits.header_table_size as usize);
        self.codec.reader.set_max_frame_size(limits.max_frame_size);
        if let Some(size) = f_value(params, SettingId::MAX_HEADER_LIST_SIZE) {
            self.codec.decoder.set_max_header_list_size(size as usize);
        }
        if let Some(size) = f_value(params, SettingId::INITIAL_WINDOW_SIZE) {
            let old = i64::from(self.config.initial_window_size);
            let delta = i64::from(size) - old;
            self.config.initial_window_size = size;
            for s in self.streams.iter_mut() {
                // Our own values: an overflow here would be our bug; clamp by ignoring.
                let _ = s.recv.flow.apply_settings_delta(delta, size);
            }
        }
    }

    fn on_ping(&mut self, f: Ping, now: Instant) {
        if !f.ack {
            Ping {
                ack: true,
                payload: f.payload,
            }
            .encode(self.out.buf());
            self.out.mark(Marker::Ack);
            return;
        }
        if f.payload == SHUTDOWN_PING && self.shutdown.announced {
            self.finish_graceful_shutdown(now);
            return;
        }
        self.events.push_back(Event::PingAck { payload: f.payload });
    }

    fn on_go_away(&mut self, f: GoAway) {
        let last = f.last_stream_id;
        self.shutdown.peer = Some((last, f.code));
        if f.code != ErrorCode::NO_ERROR {
            self.error = Some(ConnectionError::Remote {
                code: f.code,
                debug_data: f.debug_data.clone(),
            });
        }
        self.events.push_back(Event::GoAway {
            last_stream_id: last,
            code: f.code,
            debug_data: f.debug_data,
        });
        // Our streams above `last` were not processed: refused, safe to retry (§6.8).
        let mut refused: Vec<StreamId> = self
            .streams
            .ids()
            .into_iter()
            .filter(|&id| !self.streams.is_peer_initiated(id) && id > last)
            .collect();
        refused.sort();
        for id in refused {
            let reset = StreamReset {
                code: ErrorCode::REFUSED_STREAM,
                initiator: Initiator::Peer,
                retryable: true,
                cause: None,
            };
            self.report_reset(id, reset);
        }
        self.maybe_close();
    }

    fn on_window_update(&mut self, f: WindowUpdate, now: Instant) {
        let increment = i64::from(f.increment);
        if f.stream_id.is_zero() {
            if self.flow.send.adjust(increment).is_err() {
                return self.connection_error(PeerError::WindowOverflow);
            }
            return;
        }
        let Some(s) = self.streams.get_mut(f.stream_id) else {
            if self.streams.absent(f.stream_id, now) == Absent::Idle {
                self.unexpected_frame(FrameType::WINDOW_UPDATE, f.stream_id);
            }
            return;
        };
        if reserved_forbids(s.state, FrameType::WINDOW_UPDATE) {
            return self.unexpected_frame(FrameType::WINDOW_UPDATE, f.stream_id);
        }
        if s.send.window.adjust(increment).is_err() {
            return self.stream_error(f.stream_id, PeerError::WindowOverflow, now);
        }
        self.schedule(f.stream_id);
    }

    fn on_priority_update(&mut self, f: Unknown) {
        // RFC 9218 §7.1: on stream 0, at least the 4-octet prioritized stream id.
        if !f.stream_id.is_zero() {
            let frame = f.kind;
            return self.connection_error(PeerError::StreamIdForbidden { frame });
        }
        let mut payload = f.payload;
        if payload.len() < 4 {
            let (frame, length) = (f.kind, payload_len(&payload));
            return self.connection_error(PeerError::InvalidLength { frame, length });
        }
        let id = StreamId::new(payload.get_u32());
        let priority = Priority::parse(&payload);
        if let Some(s) = self.streams.get_mut(id) {
            s.send.priority = priority;
        }
    }

    // ----- stream-level frames -----

    fn on_rst_stream(&mut self, f: RstStream, now: Instant) {
        let id = f.stream_id;
        let Some(s) = self.streams.get(id) else {
            if self.streams.absent(id, now) == Absent::Idle {
                self.unexpected_frame(FrameType::RST_STREAM, id);
            }
            return;
        };
        let unaccepted = self.config.role == Role::Server
            && self.streams.is_peer_initiated(id)
            && !s.recv.accepted;
        if unaccepted && !self.budgets.rapid_reset.spend(now) {
            let limit = self.budgets.rapid_reset.limit();
            return self.connection_error(PeerError::RapidReset { limit });
        }
        let reset = StreamReset {
            code: f.code,
            initiator: Initiator::Peer,
            retryable: f.code == ErrorCode::REFUSED_STREAM,
            cause: None,
        };
        self.report_reset(id, reset);
    }

    fn on_data(&mut self, f: Data, now: Instant) {
        let id = f.stream_id;
        if self.flow.recv.receive(f.flow_len).is_err() {
            return self.connection_error(PeerError::FlowControlViolation);
        }
        let tiny = !f.end_stream && f.data.len() < 32;
        if tiny && !self.budgets.small_data.spend(now) {
            return self.connection_error(PeerError::DataFlood);
        }
        let Some(s) = self.streams.get_mut(id) else {
            // Not delivered to anyone: return the connection window at once.
            self.flow.recv.release(f.flow_len);
            self.flush_window_updates(None);
            match self.streams.absent(id, now) {
                Absent::Idle => self.unexpected_frame(FrameType::DATA, id),
                Absent::RecentlyReset => {}
                Absent::Closed | Absent::Skipped => {
                    let frame = FrameType::DATA;
                    self.connection_error(PeerError::StreamClosed { frame });
                }
            }
            return;
        };
        if reserved_forbids(s.state, FrameType::DATA) {
            return self.unexpected_frame(FrameType::DATA, id);
        }
        let error = if !s.state.is_recv_open() {
            Some(PeerError::StreamClosed {
                frame: FrameType::DATA,
            })
        } else if s.recv.phase != RecvPhase::Body {
            Some(PeerError::Malformed(MessageError::InvalidSequence))
        } else if s.recv.flow.receive(f.flow_len).is_err() {
            Some(PeerError::FlowControlViolation)
        } else {
            s.recv.data_total += f.data.len() as u64;
            let over = s.recv.content_length.is_some_and(|cl| {
                s.recv.data_total > cl || (f.end_stream && s.recv.data_total != cl)
            });
            over.then_some(PeerError::Malformed(MessageError::ContentLengthMismatch))
        };
        if let Some(error) = error {
            self.flow.recv.release(f.flow_len);
            self.flush_window_updates(None);
            return self.stream_error(id, error, now);
        }
        // Padding is never delivered: release it now. In manual mode the connection window
        // is credited for the data too (see `FlowControl::Manual`).
        let padding = f.flow_len - payload_len(&f.data);
        if padding > 0 {
            s.recv.flow.release(padding);
        }
        let conn_release = if self.config.flow_control == super::FlowControl::Manual {
            f.flow_len
        } else {
            padding
        };
        self.flow.recv.release(conn_release);
        let key = self.key(id);
        if f.end_stream {
            self.recv_finished(id);
        }
        if !f.data.is_empty() || f.end_stream {
            self.events.push_back(Event::Data {
                key,
                data: f.data,
                end_stream: f.end_stream,
            });
        }
        if conn_release > 0 {
            self.flush_window_updates(Some(id));
        }
    }

    /// The peer's message on `id` ended.
    fn recv_finished(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        s.recv.phase = RecvPhase::Done;
        let next = s.state.recv_end();
        self.streams.set_state(id, next);
        self.maybe_remove(id);
    }

    fn on_headers(&mut self, f: Headers, now: Instant) {
        let id = f.stream_id;
        if let Some(s) = self.streams.get(id) {
            let kind = match (s.recv.phase, self.config.role) {
                (RecvPhase::Head | RecvPhase::Informational, _) => SectionKind::Response,
                _ => SectionKind::Trailers,
            };
            let recv_open = s.state.is_recv_open() || s.state == State::ReservedRemote;
            let forbidden = reserved_forbids(s.state, FrameType::HEADERS);
            let section = self.decode_section(&f.block, kind);
            if forbidden {
                if let Err(SectionError::Compression(e)) = section {
                    return self.connection_error(PeerError::Compression(e));
                }
                return self.unexpected_frame(FrameType::HEADERS, id);
            }
            if !recv_open {
                if let Err(SectionError::Compression(e)) = section {
                    return self.connection_error(PeerError::Compression(e));
                }
                let frame = FrameType::HEADERS;
                return self.stream_error(id, PeerError::StreamClosed { frame }, now);
            }
            return self.on_stream_headers(id, f, section, now);
        }
        match self.streams.absent(id, now) {
            Absent::Idle
                if self.streams.is_peer_initiated(id) && self.config.role == Role::Server =>
            {
                self.open_peer_stream(f, now);
            }
            Absent::Idle => {
                let (frame, stream_id) = (FrameType::HEADERS, id.as_u32());
                self.connection_error(PeerError::InvalidStreamId { frame, stream_id });
            }
            absent => {
                // Late HEADERS on a closed stream: keep HPACK in step, then judge.
                if let Err(SectionError::Compression(e)) =
                    self.decode_section(&f.block, SectionKind::Trailers)
                {
                    return self.connection_error(PeerError::Compression(e));
                }
                match absent {
                    Absent::Closed => {
                        let frame = FrameType::HEADERS;
                        self.connection_error(PeerError::StreamClosed { frame });
                    }
                    // §5.1.1: a new stream must use a higher id than all before it.
                    Absent::Skipped => {
                        let (frame, stream_id) = (FrameType::HEADERS, id.as_u32());
                        self.connection_error(PeerError::InvalidStreamId { frame, stream_id });
                    }
                    _ => {}
                }
            }
        }
    }

    /// A HEADERS frame opening a new stream from the client (server side).
    fn open_peer_stream(&mut self, f: Headers, now: Instant) {
        let id = f.stream_id;
        let section = self.decode_section(&f.block, SectionKind::Request);
        if let Err(SectionError::Compression(e)) = section {
            return self.connection_error(PeerError::Compression(e));
        }
        self.streams.note_peer_id(id);
        if self.shutdown.last_stream_id.is_some_and(|last| id > last) {
            // Above our final GOAWAY: ignored (§6.8).
            return;
        }
        let limit = self
            .local
            .limits()
            .max_concurrent_streams
            .unwrap_or(u32::MAX);
        if self.streams.peer_active() >= limit as usize {
            return self.refuse(id, now);
        }
        if f.is_self_dependent() {
            return self.stream_error(id, PeerError::SelfDependency, now);
        }
        let (head, content_length, priority) = match section {
            Ok(Section::Request {
                head,
                content_length,
                priority,
            }) => (head, content_length, priority),
            Err(SectionError::TooLarge) => return self.reject_too_large(id, f.end_stream, now),
            Err(SectionError::Malformed(e)) => {
                return self.stream_error(id, PeerError::Malformed(e), now);
            }
            _ => {
                return self.stream_error(
                    id,
                    PeerError::Malformed(MessageError::InvalidSequence),
                    now,
                );
            }
        };
        let state = if f.end_stream {
            State::HalfClosedRemote
        } else {
            State::Open
        };
        let recv_window = self.config.initial_window_size;
        let send_window = self.peer.initial_window_size;
        let mut stream = Stream::new(id, state, recv_window, send_window);
        stream.recv.phase = if f.end_stream {
            RecvPhase::Done
        } else {
            RecvPhase::Body
        };
        stream.recv.content_length = content_length;
        if f.end_stream && content_length.is_some_and(|n| n != 0) {
            let e = PeerError::Malformed(MessageError::ContentLengthMismatch);
            return self.stream_error(id, e, now);
        }
        stream.send.head_request = head.method == Method::HEAD;
        if let Some(p) = priority
            .then(|| head.headers.get(&PRIORITY_FIELD))
            .flatten()
        {
            stream.send.priority = Priority::parse(p.as_bytes());
        }
        self.streams.insert(stream);
        let key = self.key(id);
        self.events.push_back(Event::Request {
            key,
            head,
            end_stream: f.end_stream,
        });
    }

    /// HEADERS on a live stream: a response (client), or trailers.
    fn on_stream_headers(
        &mut self,
        id: StreamId,
        f: Headers,
        section: Result<Section, SectionError>,
        now: Instant,
    ) {
        let section = match section {
            Ok(section) => section,
            Err(SectionError::Compression(e)) => {
                return self.connection_error(PeerError::Compression(e));
            }
            Err(SectionError::TooLarge) => return self.refuse(id, now),
            Err(SectionError::Malformed(e)) => {
                return self.stream_error(id, PeerError::Malformed(e), now);
            }
        };
        let key = self.key(id);
        match section {
            Section::Trailers(trailers) => {
                if !f.end_stream {
                    let e = PeerError::Malformed(MessageError::InvalidSequence);
                    return self.stream_error(id, e, now);
                }
                let mismatch = self.streams.get(id).is_some_and(|s| {
                    s.recv
                        .content_length
                        .is_some_and(|cl| cl != s.recv.data_total)
                });
                if mismatch {
                    let e = PeerError::Malformed(MessageError::ContentLengthMismatch);
                    return self.stream_error(id, e, now);
                }
                self.recv_finished(id);
                self.events.push_back(Event::Trailers { key, trailers });
            }
            Section::Response {
                head,
                content_length,
            } => {
                if head.status.is_informational() {
                    if f.end_stream {
                        let e = PeerError::Malformed(MessageError::InvalidSequence);
                        return self.stream_error(id, e, now);
                    }
                    if let Some(s) = self.streams.get_mut(id) {
                        s.recv.phase = RecvPhase::Informational;
                    }
                    self.events.push_back(Event::Informational { key, head });
                    return;
                }
                let Some(s) = self.streams.get_mut(id) else {
                    return;
                };
                let no_body = s.send.head_request
                    || head.status == StatusCode::NO_CONTENT
                    || head.status == StatusCode::NOT_MODIFIED;
                s.recv.content_length = if no_body { None } else { content_length };
                s.recv.phase = RecvPhase::Body;
                if s.state == State::ReservedRemote {
                    self.streams.set_state(id, State::HalfClosedLocal);
                }
                if f.end_stream && content_length.is_some_and(|n| n != 0) && !no_body {
                    let e = PeerError::Malformed(MessageError::ContentLengthMismatch);
                    return self.stream_error(id, e, now);
                }
                self.events.push_back(Event::Response {
                    key,
                    head,
                    end_stream: f.end_stream,
                });
                if f.end_stream {
                    self.recv_finished(id);
                }
            }
            Section::Request { .. } => {}
        }
    }

    fn on_push_promise(&mut self, f: PushPromise, now: Instant) {
        let promised = f.promised_id;
        // §8.4: only on a stream we (the client) opened, and only with push enabled.
        let allowed = self.config.role == Role::Client
            && self.config.enable_push
            && !self.streams.is_peer_initiated(f.stream_id);
        let fresh = promised.is_server_initiated()
            && self.streams.absent(promised, now) == Absent::Idle
            && self.streams.get(promised).is_none();
        if !allowed || !fresh {
            return self.connection_error(PeerError::InvalidPushPromise);
        }
        let section = self.decode_section(&f.block, SectionKind::Request);
        if let Err(SectionError::Compression(e)) = section {
            return self.connection_error(PeerError::Compression(e));
        }
        self.streams.note_peer_id(promised);
        let parent_open = self
            .streams
            .get(f.stream_id)
            .is_some_and(|s| s.state.is_recv_open());
        let head = match section {
            Ok(Section::Request { head, .. })
                if head.method == Method::GET || head.method == Method::HEAD =>
            {
                head
            }
            _ => {
                let e = PeerError::Malformed(MessageError::InvalidTarget);
                return self.stream_error(promised, e, now);
            }
        };
        if !parent_open {
            // The request it belongs to is gone: cancel the push (not the peer's fault).
            return self.send_reset(promised, ErrorCode::CANCEL, now);
        }
        let recv_window = self.config.initial_window_size;
        let mut stream = Stream::new(
            promised,
            State::ReservedRemote,
            recv_window,
            self.peer.initial_window_size,
        );
        stream.parent = Some(f.stream_id);
        stream.send.phase = SendPhase::Done;
        stream.send_reported = true;
        self.streams.insert(stream);
        let (parent, key) = (self.key(f.stream_id), self.key(promised));
        self.events
            .push_back(Event::PushPromise { parent, key, head });
    }

    // ----- helpers -----

    fn decode_section(
        &mut self,
        block: &Bytes,
        kind: SectionKind,
    ) -> Result<Section, SectionError> {
        let mut builder = SectionBuilder::new(kind);
        match self
            .codec
            .decoder
            .decode(block, |field| builder.push(field))
        {
            Ok(()) => {}
            Err(DecoderError::HeaderListTooLarge { .. }) => return Err(SectionError::TooLarge),
            Err(e) => return Err(SectionError::Compression(e)),
        }
        let connect = self.local.limits().enable_connect_protocol;
        builder
            .finish(connect, &mut self.codec.authority)
            .map_err(SectionError::Malformed)
    }
}

/// §5.1: in the reserved states only some frames may be received; others are connection
/// errors of type PROTOCOL_ERROR.
fn reserved_forbids(state: State, frame: FrameType) -> bool {
    match state {
        State::ReservedLocal => !matches!(
            frame,
            FrameType::RST_STREAM | FrameType::PRIORITY | FrameType::WINDOW_UPDATE
        ),
        State::ReservedRemote => !matches!(
            frame,
            FrameType::HEADERS | FrameType::RST_STREAM | FrameType::PRIORITY
        ),
        _ => false,
    }
}

fn f_value(params: &[(SettingId, u32)], id: SettingId) -> Option<u32> {
    params.iter().rev().find(|(i, _)| *i == id).map(|&(_, v)| v)
}

fn payload_len(b: &Bytes) -> u32 {
    u32::try_from(b.len()).unwrap_or(u32::MAX)
}
