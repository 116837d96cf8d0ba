//! The HTTP/2 connection state machine (RFC 9113), server and client roles, without IO.
//!
//! [`Connection`] owns everything one connection needs (frame reader, HPACK contexts, stream
//! store, flow-control windows, output queue, timers) and nothing it does not: no socket,
//! no clock, no waker, no lock. Bytes and timestamps come in, [`Event`]s and bytes go out.
//!
//! Submodules: `config` (options and defaults), `settings`, `stream` (§5.1 states), `store`
//! (ids, concurrency, reset memory), `flow` (windows), `priority` (RFC 9218), `send`
//! (buffers and the DATA scheduler), `recv` (incoming frames), `command` (the application's
//! commands), `budget` (token buckets),
//! `event` (what is reported).

mod budget;
mod command;
mod config;
mod event;
mod flow;
mod priority;
mod recv;
mod reset;
mod send;
mod settings;
mod store;
mod stream;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{BufMut, BytesMut};

pub use budget::Rate;
pub use config::{Config, FlowControl, Role};
pub use event::{ConnectionError, Event, Initiator, Misuse, StreamReset};
pub use priority::Priority;
pub use recv::DIRECT_READ;
pub use settings::PeerSettings;

use super::frame::{FrameReader, Settings, WindowUpdate};
use super::hpack::{Decoder, Encoder};
use super::message::LastAuthority;
use super::{ErrorCode, StreamId};
use crate::RequestKey;
use crate::output::{Marker, OutQueue, release};
use budget::Bucket;
use flow::{DEFAULT_WINDOW, RecvFlow, Window};
use send::Scheduler;
use settings::LocalSettings;
use store::Store;

/// The client connection preface (§3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The PING payload of a graceful shutdown's round trip.
const SHUTDOWN_PING: [u8; 8] = *b"pullhttp";

/// Where the connection's life stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Server: waiting for the client preface.
    AwaitPreface,
    /// Waiting for the peer's first SETTINGS frame.
    AwaitSettings,
    /// Established.
    Open,
    /// No more input is processed; pending output is the last.
    Closed,
}

/// Graceful shutdown progress (§6.8).
#[derive(Debug, Default)]
struct Shutdown {
    /// We sent GOAWAY(2^31-1) and a PING; waiting for its ACK.
    announced: bool,
    /// The last stream id of our final GOAWAY: peer streams above it are ignored.
    last_stream_id: Option<StreamId>,
    /// Streams still open at the final GOAWAY must finish by then.
    drain_deadline: Option<Instant>,
    /// The peer's GOAWAY: last stream id and code.
    peer: Option<(StreamId, ErrorCode)>,
    /// Streams are being failed because the connection ends with an error: do not close
    /// cleanly when the last one goes.
    failing: bool,
}

/// The codecs: frame reader and HPACK contexts.
#[derive(Debug)]
struct Codec {
    reader: FrameReader,
    decoder: Decoder,
    encoder: Encoder,
    /// Scratch for encoding field blocks.
    block: BytesMut,
    /// The last `:authority` received, parsed.
    authority: LastAuthority,
}

/// The misbehaviour budget (DESIGN.md §3).
#[derive(Debug)]
struct Budgets {
    rapid_reset: Bucket,
    stream_errors: Bucket,
    small_data: Bucket,
}

/// The connection-level flow-control state.
#[derive(Debug)]
struct ConnFlow {
    recv: RecvFlow,
    send: Window,
    /// Octets buffered for sending across all streams.
    buffered: usize,
}

/// An HTTP/2 connection, server or client, as a deterministic state machine.
///
/// # Method groups
///
/// - **Inputs**: [`handle_input`](Self::handle_input) (bytes read from the transport),
///   [`handle_eof`](Self::handle_eof) (the transport's read side ended),
///   [`handle_timeout`](Self::handle_timeout) (the deadline from
///   [`next_deadline`](Self::next_deadline) passed).
/// - **Outputs**: [`next_event`](Self::next_event); the bytes to write, through
///   [`output_chunks`](Self::output_chunks) + [`advance_written`](Self::advance_written), or
///   [`write_output`](Self::write_output) which copies them; [`on_flushed`](Self::on_flushed)
///   once the transport flushed what was written (this is what makes
///   [`Event::Sent`] exact); [`next_deadline`](Self::next_deadline);
///   [`wants_read`](Self::wants_read); [`is_closed`](Self::is_closed).
/// - **Commands** (synchronous and bounded; they only queue frames):
///   `send_request`, `send_response`, `send_informational`, `send_data`, `send_trailers`,
///   `reset_stream`, `release_capacity`, `set_priority`, `push_promise`, `ping`,
///   `send_settings`, `graceful_shutdown`, `abrupt_shutdown`.
/// - **Getters**: role, settings of both sides, stream counts, buffered octets.
///
/// # Call order
///
/// After any input or command: drain [`next_event`](Self::next_event) until `None`, then
/// write the output, then read [`next_deadline`](Self::next_deadline) and arm one timer for
/// it. Read more input only while [`wants_read`](Self::wants_read) is true. After
/// [`Event::Closed`], write what output remains and close the transport.
///
/// # Keys
///
/// Every exchange is named by a [`RequestKey`] carrying this connection's id; a key from
/// another connection is refused with [`Misuse::ForeignKey`].
#[derive(Debug)]
pub struct Connection {
    config: Config,
    id: u32,
    phase: Phase,
    input: BytesMut,
    codec: Codec,
    local: LocalSettings,
    peer: PeerSettings,
    streams: Store,
    scheduler: Scheduler,
    flow: ConnFlow,
    out: OutQueue,
    events: VecDeque<Event>,
    budgets: Budgets,
    shutdown: Shutdown,
    /// The error that ended the connection, once it did (sticky).
    error: Option<ConnectionError>,
    /// Server: when the preface and first SETTINGS are due.
    handshake_deadline: Option<Instant>,
}

impl Connection {
    /// A connection in the given role. A client queues its preface at once; both sides
    /// queue their SETTINGS (and a WINDOW_UPDATE opening the connection window).
    pub fn new(config: Config, now: Instant) -> Self {
        Connection::with_settings_announced(config, now, true)
    }

    /// `announce`: our first SETTINGS frame carries the configuration's parameters; without,
    /// they are already in force (an h2c upgrade's `HTTP2-Settings`, acknowledged by the
    /// `101`) and the preface's SETTINGS frame is empty.
    pub(crate) fn with_settings_announced(config: Config, now: Instant, announce: bool) -> Self {
        let mut reader = FrameReader::new();
        reader.set_max_continuation_frames(config.max_continuation_frames);
        reader.set_max_header_block_size(config.max_header_block_size);
        let mut decoder = Decoder::default();
        decoder.set_max_header_list_size(config.max_header_list_size as usize);
        let streams = Store::new(
            config.role,
            config.reset_stream_memory,
            config.reset_stream_duration,
        );
        let budgets = Budgets {
            rapid_reset: Bucket::new(config.rapid_reset_budget),
            stream_errors: Bucket::new(config.stream_error_budget),
            small_data: Bucket::new(config.small_data_budget),
        };
        let (phase, handshake_deadline) = match config.role {
            Role::Server => (Phase::AwaitPreface, Some(now + config.preface_timeout)),
            Role::Client => (Phase::AwaitSettings, None),
        };
        let mut conn = Connection {
            id: crate::key::next_connection_id(),
            phase,
            input: BytesMut::new(),
            codec: Codec {
                reader,
                decoder,
                encoder: Encoder::new(),
                block: BytesMut::new(),
                authority: LastAuthority::default(),
            },
            local: LocalSettings::new(),
            peer: PeerSettings::default(),
            streams,
            scheduler: Scheduler::default(),
            flow: ConnFlow {
                recv: RecvFlow::new(
                    DEFAULT_WINDOW,
                    config.connection_window_size.max(DEFAULT_WINDOW),
                ),
                send: Window::new(DEFAULT_WINDOW),
                buffered: 0,
            },
            out: OutQueue::default(),
            events: VecDeque::new(),
            budgets,
            shutdown: Shutdown::default(),
            error: None,
            handshake_deadline,
            config,
        };
        conn.start(now, announce);
        conn
    }

    fn start(&mut self, now: Instant, announce: bool) {
        if self.config.role == Role::Client {
            self.out.buf().put_slice(PREFACE);
        }
        let params = self.config.initial_settings();
        if announce {
            self.send_settings_frame(params, now);
        } else {
            // In force already (RFC 7540 §3.2.1: the 101 acknowledges HTTP2-Settings).
            self.local.sent(params, now);
            if let Some(params) = self.local.acked() {
                self.apply_local_settings(&params);
            }
            self.send_settings_frame(Vec::new(), now);
        }
        if let Some(extra) = self
            .config
            .connection_window_size
            .checked_sub(DEFAULT_WINDOW)
            .filter(|&n| n > 0)
        {
            self.flow.recv.grow(extra);
            // Announced now whatever its size: batching applies to released data only.
            if let Some(increment) = self.flow.recv.take_update(true) {
                WindowUpdate {
                    stream_id: StreamId::ZERO,
                    increment,
                }
                .encode(self.out.buf());
            }
        }
    }

    fn send_settings_frame(&mut self, params: Vec<(super::frame::SettingId, u32)>, now: Instant) {
        Settings {
            ack: false,
            params: params.clone(),
        }
        .encode(self.out.buf());
        self.local.sent(params, now + self.config.settings_timeout);
    }

    // ----- getters -----

    /// Our role.
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The peer's settings (protocol defaults until its SETTINGS arrive).
    pub fn peer_settings(&self) -> &PeerSettings {
        &self.peer
    }

    /// Our settings as acknowledged by the peer.
    pub fn local_settings(&self) -> &PeerSettings {
        self.local.acked_values()
    }

    /// Live streams (any state short of removed).
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Streams the peer opened that count toward our SETTINGS_MAX_CONCURRENT_STREAMS.
    pub fn peer_open_streams(&self) -> usize {
        self.streams.peer_active()
    }

    /// Streams we opened that count toward the peer's SETTINGS_MAX_CONCURRENT_STREAMS.
    pub fn local_open_streams(&self) -> usize {
        self.streams.local_active()
    }

    /// Octets buffered for sending across all streams.
    pub fn send_buffered(&self) -> usize {
        self.flow.buffered
    }

    /// Octets of input held unprocessed.
    pub fn input_buffered(&self) -> usize {
        self.input.len()
    }

    /// Locally reset streams currently remembered.
    pub fn remembered_resets(&self) -> usize {
        self.streams.remembered_resets()
    }

    /// The error that ended the connection, if one did.
    pub fn error(&self) -> Option<&ConnectionError> {
        self.error.as_ref()
    }

    /// Client: a new request can be opened now (the peer's stream limit leaves room and
    /// the connection is not shutting down).
    pub fn can_open_stream(&self) -> bool {
        let limit = self
            .peer
            .max_concurrent_streams
            .map_or(usize::MAX, |n| n as usize);
        self.phase != Phase::Closed
            && self.shutdown.peer.is_none()
            && self.shutdown.last_stream_id.is_none()
            && !self.shutdown.announced
            && self.streams.local_active() < limit
            && self.streams.peek_local_id().is_some()
    }

    /// Client: how many more requests can be opened now (0 when
    /// [`can_open_stream`](Self::can_open_stream) is false; `usize::MAX` while the peer
    /// sets no stream limit).
    pub fn open_stream_room(&self) -> usize {
        if !self.can_open_stream() {
            return 0;
        }
        self.peer.max_concurrent_streams.map_or(usize::MAX, |n| {
            (n as usize).saturating_sub(self.streams.local_active())
        })
    }

    // ----- outputs -----

    /// Frees the buffers an idle connection does not need (no stream open, no input,
    /// events or output waiting): an idle connection then holds no capacity beyond its own
    /// state, and the next frames allocate afresh. Drivers call it when a connection has
    /// waited a while; true if it was idle (nothing to free otherwise).
    pub fn release_idle(&mut self) -> bool {
        if self.streams.len() > 0 || !self.events.is_empty() || !self.input.is_empty() {
            return false;
        }
        release(&mut self.events);
        if self.input.capacity() > 0 {
            self.input = BytesMut::new();
        }
        if self.codec.block.capacity() > 0 {
            self.codec.block = BytesMut::new();
        }
        self.codec.decoder.release_idle();
        self.codec.authority.release();
        self.streams.release_idle();
        self.scheduler.release_idle();
        self.out.release_idle()
    }

    /// Takes the next event.
    pub fn next_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        match &event {
            Event::Request { key, .. } => {
                if let Some(s) = self.streams.get_mut(stream_of(*key)) {
                    s.recv.accepted = true;
                }
            }
            Event::Data { key, data, .. } if self.config.flow_control == FlowControl::Auto => {
                let n = u32::try_from(data.len()).unwrap_or(u32::MAX);
                self.release(stream_of(*key), n);
            }
            _ => {}
        }
        Some(event)
    }

    /// The output waiting to be written, as slices in order (for a vectored write). DATA
    /// frames are generated first while less than `output_low_water` octets wait.
    pub fn output_chunks(&mut self) -> impl Iterator<Item = &[u8]> {
        self.fill_output();
        self.out.chunks()
    }

    /// Octets waiting to be written (after generating DATA as `output_chunks` does).
    pub fn output_len(&mut self) -> usize {
        self.fill_output();
        self.out.len()
    }

    /// The transport accepted the first `n` octets of the output.
    pub fn advance_written(&mut self, n: usize) {
        self.out.advance(n);
    }

    /// Copies all waiting output into `dst` and counts it as written; returns the count.
    pub fn write_output(&mut self, dst: &mut BytesMut) -> usize {
        self.fill_output();
        let mut n = 0;
        for chunk in self.out.chunks() {
            dst.extend_from_slice(chunk);
            n += chunk.len();
        }
        self.out.advance(n);
        n
    }

    /// The transport flushed everything written so far: `Sent` fires for messages whose
    /// END_STREAM frame is now out.
    pub fn on_flushed(&mut self) {
        self.out.flush();
        while let Some(marker) = self.out.next_reached() {
            if let Marker::End(id) = marker {
                self.report_sent(StreamId::new(u32::try_from(id).unwrap_or(0)));
            }
        }
        self.maybe_close();
    }

    /// The next time [`handle_timeout`](Self::handle_timeout) must be called.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        [
            self.handshake_deadline,
            self.local.deadline(),
            self.streams.next_expiry(),
            self.shutdown.drain_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// True while input should be read: false once closed, and while ACKs pile up unwritten
    /// (a peer that floods SETTINGS or PING without reading its ACKs is not read from).
    pub fn wants_read(&self) -> bool {
        self.phase != Phase::Closed && self.out.unwritten_acks() < self.config.max_pending_acks
    }

    /// True once the connection is over and its last output is written.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed && self.out.len() == 0
    }

    /// True once the connection is over (output may remain to be written).
    pub fn is_terminated(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Checks the internal invariants (for property tests and fuzzing, through
    /// `pullhttp_proto::__private`): windows within 2^31-1, buffered octets summed right and
    /// within their bounds, concurrency counts matching the streams.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let mut buffered = 0;
        let (mut peer_active, mut local_active) = (0, 0);
        for id in self.streams.ids() {
            let Some(s) = self.streams.get(id) else {
                return Err(format!("stream {id} listed but missing"));
            };
            if i64::from(s.send.window.available()) > flow::MAX_WINDOW {
                return Err(format!("stream {id} send window above 2^31-1"));
            }
            if s.send.buffered > self.config.max_send_buffer_per_stream {
                return Err(format!("stream {id} buffers {} octets", s.send.buffered));
            }
            let chunks: usize = s.send.buf.iter().map(|b| b.len()).sum();
            if chunks != s.send.buffered {
                return Err(format!(
                    "stream {id} buffer count {} != {chunks}",
                    s.send.buffered
                ));
            }
            buffered += s.send.buffered;
            if matches!(
                s.state,
                stream::State::Open
                    | stream::State::HalfClosedLocal
                    | stream::State::HalfClosedRemote
            ) {
                if self.streams.is_peer_initiated(id) {
                    peer_active += 1;
                } else {
                    local_active += 1;
                }
            }
        }
        if buffered != self.flow.buffered || buffered > self.config.max_send_buffer {
            return Err(format!(
                "connection buffers {} but streams hold {buffered}",
                self.flow.buffered
            ));
        }
        if (peer_active, local_active) != (self.streams.peer_active(), self.streams.local_active())
        {
            return Err(format!(
                "active counts {:?} != recount {:?}",
                (self.streams.peer_active(), self.streams.local_active()),
                (peer_active, local_active)
            ));
        }
        if self.streams.remembered_resets() > self.config.reset_stream_memory {
            return Err("reset memory over its bound".into());
        }
        if self.codec.reader.buffered() > self.config.max_header_block_size {
            return Err("field block buffer over its bound".into());
        }
        Ok(())
    }

    // ----- shared internals -----

    fn key(&self, id: StreamId) -> RequestKey {
        RequestKey::new(self.id, u64::from(id.as_u32()))
    }

    /// Resolves a key to a stream id, refusing keys of other connections.
    fn resolve(&self, key: RequestKey) -> Result<StreamId, Misuse> {
        if key.connection() != self.id {
            return Err(Misuse::ForeignKey);
        }
        u32::try_from(key.id())
            .map(StreamId::new)
            .map_err(|_| Misuse::UnknownStream)
    }

    /// Releases received octets on a stream (if still live) and the connection, queueing
    /// WINDOW_UPDATEs that have become worthwhile.
    fn release(&mut self, id: StreamId, n: u32) {
        if self.config.flow_control == FlowControl::Auto {
            // In manual mode the connection window was credited on receipt.
            self.flow.recv.release(n);
        }
        let recv_open = match self.streams.get_mut(id) {
            Some(s) => {
                s.recv.flow.release(n);
                s.state.is_recv_open()
            }
            None => false,
        };
        self.flush_window_updates(recv_open.then_some(id));
    }

    /// Queues the connection's WINDOW_UPDATE and the stream's, if worthwhile.
    fn flush_window_updates(&mut self, stream: Option<StreamId>) {
        if self.phase == Phase::Closed {
            return;
        }
        if let Some(increment) = self.flow.recv.take_update(false) {
            WindowUpdate {
                stream_id: StreamId::ZERO,
                increment,
            }
            .encode(self.out.buf());
        }
        let Some(id) = stream else {
            return;
        };
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        if let Some(increment) = s.recv.flow.take_update(false) {
            WindowUpdate {
                stream_id: id,
                increment,
            }
            .encode(self.out.buf());
        }
    }

    /// Reports `Sent` for a stream whose END_STREAM frame was flushed.
    fn report_sent(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        if s.send_reported {
            return;
        }
        s.send_reported = true;
        let key = self.key(id);
        self.events.push_back(Event::Sent { key });
        self.maybe_remove(id);
    }

    /// Drops a stream once it is closed and its `Sent`/`Reset` is out.
    fn maybe_remove(&mut self, id: StreamId) {
        let done = self
            .streams
            .get(id)
            .is_some_and(|s| s.state == stream::State::Closed && s.send_reported);
        if done {
            self.drop_stream(id);
        }
    }

    /// Removes a stream, returning its buffered send octets.
    fn drop_stream(&mut self, id: StreamId) {
        if let Some(s) = self.streams.remove(id) {
            self.flow.buffered -= s.send.buffered;
        }
        self.maybe_close();
    }

    /// Ends the connection gracefully once a shutdown has nothing left in flight.
    fn maybe_close(&mut self) {
        if self.phase == Phase::Closed || self.shutdown.failing || self.streams.len() > 0 {
            return;
        }
        // A server keeps serving a client that sent GOAWAY (PING, and streams it already
        // opened) until the client closes the transport; a client stops once the server's
        // GOAWAY leaves it nothing to do.
        let draining = self.shutdown.last_stream_id.is_some()
            || (self.config.role == Role::Client
                && (self.shutdown.peer.is_some() || self.shutdown.announced));
        if !draining {
            return;
        }
        let error = match self.shutdown.peer {
            Some((_, code)) if code != ErrorCode::NO_ERROR => self.error.clone(),
            _ => None,
        };
        self.close(error);
    }

    /// Enters the closed phase and reports `Closed` (once).
    fn close(&mut self, error: Option<ConnectionError>) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        if error.is_some() {
            self.error = error.clone();
        }
        self.events.push_back(Event::Closed { error });
    }
}

/// The stream id behind a key (keys are built from stream ids on this connection).
fn stream_of(key: RequestKey) -> StreamId {
    StreamId::new(u32::try_from(key.id()).unwrap_or(0))
}
