//! Connection configuration: our SETTINGS, the order they are sent in, buffer bounds,
//! timeouts and the misbehaviour budget (DESIGN.md §3), each with its default.
//!
//! Fields are public: start from [`Config::server`] or [`Config::client`] and change what
//! you need. The connection copies the configuration when it is created.

use std::time::Duration;

use super::super::frame::{DEFAULT_MAX_FRAME_SIZE, SettingId};
use super::super::message::{DEFAULT_PSEUDO_ORDER, PseudoHeader};
use super::budget::Rate;
pub use crate::Role;

/// How received DATA is credited back to the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowControl {
    /// Window is released as soon as a `Data` event is taken from
    /// [`next_event`](super::Connection::next_event) (the default).
    Auto,
    /// Stream windows are released only by
    /// [`release_capacity`](super::Connection::release_capacity); the connection window is
    /// credited as data arrives, so a stream the application is not reading cannot starve
    /// the one it is (what is buffered stays bounded by the stream windows).
    Manual,
}

/// Configuration of an HTTP/2 connection. See each field for its default.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Our role.
    pub role: Role,
    /// SETTINGS_HEADER_TABLE_SIZE we advertise: the peer's encoder table size limit.
    /// Default 4,096.
    pub header_table_size: u32,
    /// Client only: accept server push (SETTINGS_ENABLE_PUSH = 1). Default false (we send
    /// ENABLE_PUSH = 0 and a PUSH_PROMISE is a connection error).
    pub enable_push: bool,
    /// SETTINGS_MAX_CONCURRENT_STREAMS we advertise; streams beyond it are refused with
    /// REFUSED_STREAM. Default 100.
    pub max_concurrent_streams: u32,
    /// SETTINGS_INITIAL_WINDOW_SIZE we advertise (per-stream receive window). Default
    /// 1 MiB.
    pub initial_window_size: u32,
    /// The connection receive window we open with a WINDOW_UPDATE at start. Default 1 MiB.
    pub connection_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE we advertise. Default 16,384.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE we advertise; a larger request gets 431, other
    /// sections REFUSED_STREAM. Default 16 KiB.
    pub max_header_list_size: u32,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): accept extended CONNECT. Default false.
    pub enable_connect_protocol: bool,
    /// The order of our SETTINGS parameters. A known setting left out is not sent (its
    /// protocol default then applies on the peer's side). Default: header table size,
    /// enable push, max concurrent streams, initial window size, max frame size, max header
    /// list size, enable connect protocol.
    pub settings_order: Vec<SettingId>,
    /// Extra parameters appended to our SETTINGS as they are (for example GREASE values).
    /// Default none.
    pub extra_settings: Vec<(SettingId, u32)>,
    /// Client only: the order of request pseudo-headers. Default method, scheme, authority,
    /// path, protocol.
    pub pseudo_order: [PseudoHeader; 5],
    /// Client only: `:scheme` for request URIs without a scheme. Default `https`.
    pub default_scheme: &'static str,
    /// How received DATA is credited back. Default [`FlowControl::Auto`].
    pub flow_control: FlowControl,
    /// Most octets buffered for sending on one stream. Default 256 KiB.
    pub max_send_buffer_per_stream: usize,
    /// Most octets buffered for sending on the whole connection. Default 4 MiB.
    pub max_send_buffer: usize,
    /// Output produced ahead of the writer: DATA frames are generated only while less than
    /// this is waiting to be written. Default 64 KiB.
    pub output_low_water: usize,
    /// Locally reset streams remembered, so their late frames are tolerated. Default 50.
    pub reset_stream_memory: usize,
    /// How long a locally reset stream is remembered. Default 1 s.
    pub reset_stream_duration: Duration,
    /// CONTINUATION frames allowed in one field block. Default 8.
    pub max_continuation_frames: usize,
    /// Octets of one field block buffered at most; beyond is ENHANCE_YOUR_CALM. Default four
    /// times `max_header_list_size` (64 KiB).
    pub max_header_block_size: usize,
    /// Time for the peer to acknowledge our SETTINGS; then SETTINGS_TIMEOUT. Default 10 s.
    pub settings_timeout: Duration,
    /// Server only: time for the client preface and its first SETTINGS. Default 10 s.
    pub preface_timeout: Duration,
    /// Resets of streams the application has not yet taken (Rapid Reset). Default 20 at
    /// once, refilled at 10 per second.
    pub rapid_reset_budget: Rate,
    /// Stream errors the peer makes us send, REFUSED_STREAM included (MadeYouReset);
    /// locally initiated cancels never count. Default 100 at once, 20 per second.
    pub stream_error_budget: Rate,
    /// Empty DATA frames without END_STREAM and DATA frames under 32 octets. Default 1,000
    /// at once, 1,000 per second.
    pub small_data_budget: Rate,
    /// Most parameters in one SETTINGS frame. Default 32.
    pub max_settings_entries: usize,
    /// Refuse SETTINGS frames that repeat an identifier (ENHANCE_YOUR_CALM). Repeats are
    /// legal (RFC 9113 §6.5.3: the last value wins) and conformance suites send them, so
    /// this is off by default; the entry limit bounds the work either way.
    pub reject_duplicate_settings: bool,
    /// SETTINGS and PING ACKs waiting to be written before we stop reading input. Default
    /// 32; input buffered beyond `max_input_buffer` meanwhile is ENHANCE_YOUR_CALM.
    pub max_pending_acks: usize,
    /// Input held while processing is paused. Default 1 MiB.
    pub max_input_buffer: usize,
    /// Time granted to in-flight streams after a graceful shutdown's final GOAWAY before the
    /// connection is closed. Default 30 s.
    pub graceful_drain_timeout: Duration,
}

impl Config {
    /// The defaults for a server.
    pub fn server() -> Self {
        Config::new(Role::Server)
    }

    /// The defaults for a client.
    pub fn client() -> Self {
        Config::new(Role::Client)
    }

    fn new(role: Role) -> Self {
        Config {
            role,
            header_table_size: 4096,
            enable_push: false,
            max_concurrent_streams: 100,
            initial_window_size: 1 << 20,
            connection_window_size: 1 << 20,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: 16 << 10,
            enable_connect_protocol: false,
            settings_order: vec![
                SettingId::HEADER_TABLE_SIZE,
                SettingId::ENABLE_PUSH,
                SettingId::MAX_CONCURRENT_STREAMS,
                SettingId::INITIAL_WINDOW_SIZE,
                SettingId::MAX_FRAME_SIZE,
                SettingId::MAX_HEADER_LIST_SIZE,
                SettingId::ENABLE_CONNECT_PROTOCOL,
            ],
            extra_settings: Vec::new(),
            pseudo_order: DEFAULT_PSEUDO_ORDER,
            default_scheme: "https",
            flow_control: FlowControl::Auto,
            max_send_buffer_per_stream: 256 << 10,
            max_send_buffer: 4 << 20,
            output_low_water: 64 << 10,
            reset_stream_memory: 50,
            reset_stream_duration: Duration::from_secs(1),
            max_continuation_frames: 8,
            max_header_block_size: 64 << 10,
            settings_timeout: Duration::from_secs(10),
            preface_timeout: Duration::from_secs(10),
            rapid_reset_budget: Rate::new(20, 10),
            stream_error_budget: Rate::new(100, 20),
            small_data_budget: Rate::new(1000, 1000),
            max_settings_entries: 32,
            reject_duplicate_settings: false,
            max_pending_acks: 32,
            max_input_buffer: 1 << 20,
            graceful_drain_timeout: Duration::from_secs(30),
        }
    }

    /// The parameters of our first SETTINGS frame, in order.
    pub fn initial_settings(&self) -> Vec<(SettingId, u32)> {
        let mut params = Vec::new();
        for &id in &self.settings_order {
            let value = match id {
                SettingId::HEADER_TABLE_SIZE => self.header_table_size,
                // A server must not send 1 (§6.5.2); it has nothing to say with 0 either.
                SettingId::ENABLE_PUSH if self.role == Role::Server => continue,
                SettingId::ENABLE_PUSH => u32::from(self.enable_push),
                SettingId::MAX_CONCURRENT_STREAMS => self.max_concurrent_streams,
                SettingId::INITIAL_WINDOW_SIZE => self.initial_window_size,
                SettingId::MAX_FRAME_SIZE => self.max_frame_size,
                SettingId::MAX_HEADER_LIST_SIZE => self.max_header_list_size,
                SettingId::ENABLE_CONNECT_PROTOCOL if self.enable_connect_protocol => 1,
                _ => continue,
            };
            params.push((id, value));
        }
        params.extend_from_slice(&self.extra_settings);
        params
    }
}
