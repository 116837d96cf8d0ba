//! The application's commands. Each is synchronous and bounded: it validates, changes state
//! and queues frames, and fails with a [`Misuse`] (changing nothing) when it cannot apply.

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method, request, response};

use super::event::Misuse;
use super::priority::Priority;
use super::stream::{RecvPhase, SendPhase, State, Stream};
use super::{Config, Connection, Phase, Role, SHUTDOWN_PING};
use crate::RequestKey;
use crate::h2::frame::{Ping, PushPromise, SettingId};
use crate::h2::hpack::FieldRef;
use crate::h2::message::{
    MessageError, PRIORITY_FIELD, PseudoHeader, RequestPseudo, is_dropped_on_send,
};
use crate::h2::{ErrorCode, StreamId};

impl Connection {
    /// Client: opens a stream and sends the request head. With `end_stream` no body
    /// follows; otherwise send it with [`send_data`](Self::send_data) and end it with
    /// `end_stream` or [`send_trailers`](Self::send_trailers).
    ///
    /// The pseudo-headers come from the head (§8.3.1): `:authority` from the `host` field if
    /// set, else the URI; `:scheme` from the URI or `Config::default_scheme`; `:path` from
    /// the URI ("/" when empty); `:protocol` from a [`Protocol`](crate::h2::Protocol)
    /// extension (extended CONNECT). Connection-specific fields are dropped.
    pub fn send_request(
        &mut self,
        head: &request::Parts,
        end_stream: bool,
    ) -> Result<RequestKey, Misuse> {
        if self.config.role != Role::Client {
            return Err(Misuse::WrongRole);
        }
        if self.phase == Phase::Closed || self.shutdown.peer.is_some() || self.shutdown.announced {
            return Err(Misuse::Closing);
        }
        let pseudo = RequestPseudo::from_head(head, self.config.default_scheme)
            .map_err(Misuse::InvalidHead)?;
        if pseudo.protocol.is_some() && !self.peer.enable_connect_protocol {
            return Err(Misuse::ConnectProtocolDisabled);
        }
        if !self.can_open_stream() {
            return Err(Misuse::StreamLimit);
        }
        let id = self.streams.take_local_id().ok_or(Misuse::Closing)?;
        let state = if end_stream {
            State::HalfClosedLocal
        } else {
            State::Open
        };
        let mut stream = Stream::new(
            id,
            state,
            self.config.initial_window_size,
            self.peer.initial_window_size,
        );
        stream.send.phase = SendPhase::Body;
        stream.send.head_request = head.method == Method::HEAD;
        if let Some(p) = head.headers.get(&PRIORITY_FIELD) {
            stream.send.priority = Priority::parse(p.as_bytes());
        }
        // A request opened with END_STREAM goes straight to half-closed (local): insert in
        // Open and let `finish_sending` move it, so the counts follow one path.
        stream.state = State::Open;
        self.streams.insert(stream);
        let order = self.config.pseudo_order;
        let fields = request_fields(&pseudo, &order, &head.headers);
        self.write_headers(id, fields, end_stream);
        let _ = state;
        Ok(self.key(id))
    }

    /// Server: sends the final response head for a request (or a promised push). With
    /// `end_stream` no body follows.
    pub fn send_response(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
        end_stream: bool,
    ) -> Result<(), Misuse> {
        if self.config.role != Role::Server {
            return Err(Misuse::WrongRole);
        }
        if head.status.is_informational() {
            return Err(Misuse::InvalidState("use send_informational for 1xx"));
        }
        let id = self.live_stream(key)?;
        let s = self.streams.get_mut(id).ok_or(Misuse::UnknownStream)?;
        if s.send.phase != SendPhase::Head || !s.state.is_send_open() {
            return Err(Misuse::InvalidState("response already sent"));
        }
        s.send.phase = SendPhase::Body;
        if s.state == State::ReservedLocal {
            self.streams.set_state(id, State::HalfClosedRemote);
        }
        let status = head.status;
        let fields = std::iter::once(FieldRef::new(b":status", status.as_str().as_bytes()))
            .chain(regular_fields(&head.headers));
        self.write_headers(id, fields, end_stream);
        Ok(())
    }

    /// Server: sends an informational (1xx) response before the final one (101 does not
    /// exist in HTTP/2, §8.6).
    pub fn send_informational(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
    ) -> Result<(), Misuse> {
        if self.config.role != Role::Server {
            return Err(Misuse::WrongRole);
        }
        if !head.status.is_informational() || head.status == http::StatusCode::SWITCHING_PROTOCOLS {
            return Err(Misuse::InvalidHead(MessageError::InvalidStatus));
        }
        let id = self.live_stream(key)?;
        let s = self.streams.get(id).ok_or(Misuse::UnknownStream)?;
        if s.send.phase != SendPhase::Head || !s.state.is_send_open() {
            return Err(Misuse::InvalidState("final response already sent"));
        }
        let status = head.status;
        let fields = std::iter::once(FieldRef::new(b":status", status.as_str().as_bytes()))
            .chain(regular_fields(&head.headers));
        self.write_headers(id, fields, false);
        Ok(())
    }

    /// Queues body data; returns how many octets were accepted, bounded by the stream's and
    /// the connection's send buffers (the rest is the caller's to retry after
    /// [`Event::Writable`](super::Event::Writable)). `end_stream` applies only if all of
    /// `data` was accepted.
    pub fn send_data(
        &mut self,
        key: RequestKey,
        data: Bytes,
        end_stream: bool,
    ) -> Result<usize, Misuse> {
        let id = self.live_stream(key)?;
        let total_room = self
            .config
            .max_send_buffer
            .saturating_sub(self.flow.buffered);
        let per_stream = self.config.max_send_buffer_per_stream;
        let s = self.streams.get_mut(id).ok_or(Misuse::UnknownStream)?;
        if s.send.phase != SendPhase::Body || s.send.end_queued || !s.state.is_send_open() {
            return Err(Misuse::InvalidState("no body can be sent now"));
        }
        if s.send.head_request && !data.is_empty() && self.config.role == Role::Server {
            return Err(Misuse::InvalidState("a response to HEAD has no body"));
        }
        let room = per_stream.saturating_sub(s.send.buffered).min(total_room);
        let accepted = data.len().min(room);
        if accepted < data.len() {
            s.send.wants_writable = true;
        }
        if accepted > 0 {
            s.send.buf.push_back(data.slice(..accepted));
            s.send.buffered += accepted;
        }
        if accepted == data.len() && end_stream {
            s.send.end_queued = true;
        }
        self.flow.buffered += accepted;
        self.schedule(id);
        Ok(accepted)
    }

    /// Room left in the stream's send buffer (also bounded by the connection's).
    pub fn send_capacity(&self, key: RequestKey) -> Result<usize, Misuse> {
        let id = self.live_stream(key)?;
        let s = self.streams.get(id).ok_or(Misuse::UnknownStream)?;
        let total_room = self
            .config
            .max_send_buffer
            .saturating_sub(self.flow.buffered);
        Ok(self
            .config
            .max_send_buffer_per_stream
            .saturating_sub(s.send.buffered)
            .min(total_room))
    }

    /// Ends our message with trailers, after any buffered data.
    pub fn send_trailers(&mut self, key: RequestKey, trailers: HeaderMap) -> Result<(), Misuse> {
        let id = self.live_stream(key)?;
        let s = self.streams.get_mut(id).ok_or(Misuse::UnknownStream)?;
        if s.send.phase != SendPhase::Body || s.send.end_queued || !s.state.is_send_open() {
            return Err(Misuse::InvalidState("no trailers can be sent now"));
        }
        s.send.trailers = Some(trailers);
        s.send.end_queued = true;
        self.schedule(id);
        Ok(())
    }

    /// Resets a stream with `code` (a local cancel: never counted against the peer).
    pub fn reset_stream(
        &mut self,
        key: RequestKey,
        code: ErrorCode,
        now: Instant,
    ) -> Result<(), Misuse> {
        let id = self.live_stream(key)?;
        self.send_reset(id, code, now);
        Ok(())
    }

    /// Manual flow control: the application consumed `n` octets of the stream's data, which
    /// may now be credited back. Ignored in automatic mode (credit is given when events are
    /// taken).
    pub fn release_capacity(&mut self, key: RequestKey, n: u32) -> Result<(), Misuse> {
        let id = self.resolve(key)?;
        if !self.is_manual() {
            return Ok(());
        }
        let held = self
            .streams
            .get(id)
            .map(|s| s.recv.flow.held())
            .ok_or(Misuse::UnknownStream)?;
        self.release(id, n.min(held));
        Ok(())
    }

    /// Sets the sending priority of a stream (RFC 9218 semantics).
    pub fn set_priority(&mut self, key: RequestKey, priority: Priority) -> Result<(), Misuse> {
        let id = self.live_stream(key)?;
        let s = self.streams.get_mut(id).ok_or(Misuse::UnknownStream)?;
        s.send.priority = priority;
        Ok(())
    }

    /// Server: promises a pushed response to a safe, body-less request (§8.4), on the stream
    /// of `parent`. Returns the pushed exchange's key: answer it with
    /// [`send_response`](Self::send_response).
    pub fn push_promise(
        &mut self,
        parent: RequestKey,
        head: &request::Parts,
    ) -> Result<RequestKey, Misuse> {
        if self.config.role != Role::Server {
            return Err(Misuse::WrongRole);
        }
        if !self.peer.enable_push || !(head.method == Method::GET || head.method == Method::HEAD) {
            return Err(Misuse::PushNotAllowed);
        }
        if self.phase == Phase::Closed || self.shutdown.announced || self.shutdown.peer.is_some() {
            return Err(Misuse::Closing);
        }
        let parent_id = self.live_stream(parent)?;
        let open = self
            .streams
            .get(parent_id)
            .is_some_and(|s| matches!(s.state, State::Open | State::HalfClosedRemote));
        if !open {
            return Err(Misuse::InvalidState("parent stream is not open"));
        }
        let pseudo = RequestPseudo::from_head(head, self.config.default_scheme)
            .map_err(Misuse::InvalidHead)?;
        if pseudo.authority.is_none() {
            return Err(Misuse::InvalidHead(MessageError::MissingPseudo(
                ":authority",
            )));
        }
        let id = self.streams.take_local_id().ok_or(Misuse::Closing)?;
        let mut stream = Stream::new(
            id,
            State::ReservedLocal,
            self.config.initial_window_size,
            self.peer.initial_window_size,
        );
        stream.parent = Some(parent_id);
        stream.recv.phase = RecvPhase::Done;
        stream.send.head_request = head.method == Method::HEAD;
        self.streams.insert(stream);
        let order = self.config.pseudo_order;
        let fields = request_fields(&pseudo, &order, &head.headers);
        let mut block = std::mem::take(&mut self.codec.block);
        block.clear();
        self.codec.encoder.encode(fields, &mut block);
        PushPromise {
            stream_id: parent_id,
            promised_id: id,
            end_headers: true,
            block: block.split().freeze(),
        }
        .encode(self.peer.max_frame_size, self.out.buf());
        self.codec.block = block;
        Ok(self.key(id))
    }

    /// Sends a PING with an opaque payload; the answer arrives as
    /// [`Event::PingAck`](super::Event::PingAck).
    pub fn ping(&mut self, payload: [u8; 8]) -> Result<(), Misuse> {
        if self.phase == Phase::Closed {
            return Err(Misuse::Closing);
        }
        Ping {
            ack: false,
            payload,
        }
        .encode(self.out.buf());
        Ok(())
    }

    /// Sends new SETTINGS; lowered limits apply once the peer acknowledges (§6.5.3).
    /// Receive windows follow SETTINGS_INITIAL_WINDOW_SIZE at the ACK.
    pub fn send_settings(
        &mut self,
        params: Vec<(SettingId, u32)>,
        now: Instant,
    ) -> Result<(), Misuse> {
        if self.phase == Phase::Closed {
            return Err(Misuse::Closing);
        }
        let valid = params.iter().all(|&(id, v)| match id {
            SettingId::ENABLE_PUSH => v <= 1 && (v == 0 || self.config.role == Role::Client),
            SettingId::ENABLE_CONNECT_PROTOCOL => v <= 1,
            SettingId::INITIAL_WINDOW_SIZE => v <= 0x7fff_ffff,
            SettingId::MAX_FRAME_SIZE => (1 << 14..1 << 24).contains(&v),
            _ => true,
        });
        if !valid {
            return Err(Misuse::InvalidSetting);
        }
        self.send_settings_frame(params, now);
        Ok(())
    }

    /// Starts a graceful shutdown (§6.8). Server: GOAWAY(2^31-1) and a PING, then, once the
    /// PING returns, GOAWAY with the last stream processed; streams in flight finish (within
    /// `graceful_drain_timeout`), new ones are ignored, and the connection closes when none
    /// are left. Client: GOAWAY, no new requests, closed when the streams finish.
    pub fn graceful_shutdown(&mut self, now: Instant) {
        if self.phase == Phase::Closed || self.shutdown.announced {
            return;
        }
        self.shutdown.announced = true;
        match self.config.role {
            Role::Server => {
                self.shutdown.last_stream_id = None;
                // The drain deadline runs from now: a client that never answers the PING
                // cannot hold the connection open.
                self.shutdown.drain_deadline = Some(now + self.config.graceful_drain_timeout);
                crate::h2::frame::GoAway {
                    last_stream_id: StreamId::MAX,
                    code: ErrorCode::NO_ERROR,
                    debug_data: Bytes::new(),
                }
                .encode(self.out.buf());
                let _ = self.ping(SHUTDOWN_PING);
                if self.phase != Phase::Open {
                    // No handshake to wait for: finish at once.
                    self.shutdown.last_stream_id = Some(self.streams.last_peer_id());
                    self.close(None);
                }
            }
            Role::Client => {
                self.go_away(ErrorCode::NO_ERROR, Bytes::new());
                self.shutdown.drain_deadline = Some(now + self.config.graceful_drain_timeout);
                self.maybe_close();
            }
        }
    }

    /// Ends the connection now: GOAWAY with `code`, every stream reset.
    pub fn abrupt_shutdown(&mut self, code: ErrorCode) {
        if self.phase == Phase::Closed {
            return;
        }
        self.go_away(code, Bytes::new());
        self.fail_streams(code, false);
        let error = (code != ErrorCode::NO_ERROR).then_some(super::ConnectionError::Local(code));
        self.close(error);
    }

    fn is_manual(&self) -> bool {
        self.config.flow_control == super::FlowControl::Manual
    }

    /// The live stream behind a key.
    fn live_stream(&self, key: RequestKey) -> Result<StreamId, Misuse> {
        let id = self.resolve(key)?;
        if self.streams.get(id).is_none() {
            return Err(Misuse::UnknownStream);
        }
        Ok(id)
    }
}

/// Request pseudo-headers in the configured order, then the regular fields.
fn request_fields<'a>(
    p: &'a RequestPseudo,
    order: &[PseudoHeader; 5],
    headers: &'a HeaderMap,
) -> impl Iterator<Item = FieldRef<'a>> {
    let pseudo = order.iter().filter_map(move |h| match h {
        PseudoHeader::Method => Some(FieldRef::new(b":method", p.method.as_str().as_bytes())),
        PseudoHeader::Scheme => p
            .scheme
            .as_deref()
            .map(|v| FieldRef::new(b":scheme", v.as_bytes())),
        PseudoHeader::Authority => p
            .authority
            .as_deref()
            .map(|v| FieldRef::new(b":authority", v.as_bytes())),
        PseudoHeader::Path => p
            .path
            .as_deref()
            .map(|v| FieldRef::new(b":path", v.as_bytes())),
        PseudoHeader::Protocol => p
            .protocol
            .as_ref()
            .map(|v| FieldRef::new(b":protocol", v.as_bytes())),
    });
    pseudo.chain(regular_fields(headers))
}

fn regular_fields(headers: &HeaderMap) -> impl Iterator<Item = FieldRef<'_>> {
    headers
        .iter()
        .filter(|(n, v)| !is_dropped_on_send(n, v))
        .map(|(n, v)| FieldRef::from_header(n, v))
}

impl Connection {
    /// Server: an HTTP/2 connection continuing an HTTP/1.1 `Upgrade: h2c` request (RFC 7540
    /// §3.2, still used by curl, nghttp, Go and h2o though RFC 9113 deprecates it). Call it
    /// after writing the `101` response; then feed the octets that follow (the client
    /// preface). `settings` is the `HTTP2-Settings` value (base64url), applied as the peer's
    /// SETTINGS without an ACK (the 101 acknowledges them). The request becomes stream 1,
    /// half-closed (remote): only body-less requests can be upgraded. Returns the connection
    /// and the key of that request, whose `Request` event is queued.
    pub fn upgrade_from_http1(
        mut config: Config,
        mut head: request::Parts,
        settings: &[u8],
        now: Instant,
    ) -> Result<(Connection, RequestKey), Misuse> {
        config.role = Role::Server;
        let payload = base64url_decode(settings).ok_or(Misuse::InvalidSetting)?;
        let length = u32::try_from(payload.len()).map_err(|_| Misuse::InvalidSetting)?;
        let head_frame = crate::h2::frame::Head::new(
            crate::h2::frame::FrameType::SETTINGS,
            0,
            StreamId::ZERO,
            length,
        );
        let params = match crate::h2::frame::decode(head_frame, Bytes::from(payload)) {
            Ok(crate::h2::frame::Frame::Settings(s)) => s.params,
            _ => return Err(Misuse::InvalidSetting),
        };
        let mut conn = Connection::new(config, now);
        conn.peer.apply(&params);
        conn.peer.received = params;
        conn.codec
            .encoder
            .set_max_table_size(conn.peer.header_table_size as usize);
        let id = StreamId::new(1);
        conn.streams.note_peer_id(id);
        let mut stream = Stream::new(
            id,
            State::HalfClosedRemote,
            conn.config.initial_window_size,
            conn.peer.initial_window_size,
        );
        stream.recv.phase = RecvPhase::Done;
        stream.send.head_request = head.method == Method::HEAD;
        conn.streams.insert(stream);
        head.version = http::Version::HTTP_2;
        let key = conn.key(id);
        conn.events.push_back(super::Event::Request {
            key,
            head: Box::new(head),
            end_stream: true,
        });
        Ok((conn, key))
    }
}

impl Connection {
    /// Client: the `HTTP2-Settings` value for an `Upgrade: h2c` request (RFC 7540 §3.2.1):
    /// the payload of the SETTINGS frame this configuration starts with, base64url without
    /// padding.
    pub fn http2_settings_value(config: &Config) -> String {
        let mut frame = bytes::BytesMut::new();
        crate::h2::frame::Settings {
            ack: false,
            params: config.initial_settings(),
        }
        .encode(&mut frame);
        base64url_encode(&frame[9..])
    }

    /// Client: the HTTP/2 connection after the server answered `101` to an `Upgrade: h2c`
    /// request (RFC 7540 §3.2). The request (`head`, sent over HTTP/1.1 without a body
    /// under `key`, the first of its connection) becomes stream 1, half-closed (local). The
    /// connection keeps the HTTP/1.1 connection's identity, so the response comes under that
    /// same `key`, as for any request. The configuration's settings are in force at once (the `101`
    /// acknowledged `HTTP2-Settings`); the connection preface with an empty SETTINGS frame
    /// is queued first. Feed the octets that followed the `101` as input.
    pub fn client_upgrade_from_http1(
        mut config: Config,
        key: RequestKey,
        head: &request::Parts,
        now: Instant,
    ) -> Result<Connection, Misuse> {
        if key.id() != 1 {
            return Err(Misuse::InvalidState(
                "only the first request of a connection can upgrade to h2c",
            ));
        }
        config.role = Role::Client;
        // The settings went in HTTP2-Settings and the 101 acknowledged them: the preface's
        // SETTINGS frame is empty (a server that re-applied the same values while encoding
        // the response could otherwise emit a table size update mid-block, as Go's x/net
        // 0.7 h2c handler does).
        let mut conn = Connection::with_settings_announced(config, now, false);
        conn.id = key.connection();
        let id = conn.streams.take_local_id().ok_or(Misuse::Closing)?;
        let mut stream = Stream::new(
            id,
            State::HalfClosedLocal,
            conn.config.initial_window_size,
            conn.peer.initial_window_size,
        );
        stream.send.phase = SendPhase::Done;
        stream.send.head_request = head.method == Method::HEAD;
        // The request went out over HTTP/1.1, whose `Sent` the caller already has.
        stream.send_reported = true;
        conn.streams.insert(stream);
        Ok(conn)
    }
}

/// Encodes base64url without padding (RFC 4648 §5).
fn base64url_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let index = (n >> (18 - 6 * i)) & 63;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

/// Decodes base64url without padding (RFC 4648 §5), as `HTTP2-Settings` is sent; trailing
/// `=` are tolerated.
fn base64url_decode(input: &[u8]) -> Option<Vec<u8>> {
    let input = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff).to_le_bytes()[0]);
        }
    }
    Some(out)
}
