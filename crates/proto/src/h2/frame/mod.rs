//! HTTP/2 frames (RFC 9113 §4, §6): the [`Frame`] enum, one module per frame type, and the
//! [`FrameReader`] that cuts a byte stream into frames and reassembles field blocks.
//!
//! Every frame starts with a 9-octet header (§4.1):
//!
//! ```text
//! +-----------------------------------------------+
//! |                 Length (24)                   |
//! +---------------+---------------+---------------+
//! |   Type (8)    |   Flags (8)   |
//! +-+-------------+---------------+-------------------------------+
//! |R|                 Stream Identifier (31)                      |
//! +=+=============================================================+
//! |                   Frame Payload (0...)                      ...
//! +---------------------------------------------------------------+
//! ```
//!
//! This module owns the wire layout and the per-frame validity rules of §6 (lengths, stream
//! id 0 or not, padding, setting ranges), each reported as a [`FrameError`] with the scope
//! and code the RFC requires. It must not know about stream states, flow-control windows or
//! HPACK: a field block leaves here as opaque bytes. Unknown frame types are returned as
//! [`Frame::Unknown`] so the caller can ignore them (§5.5); unknown flags are ignored.

mod continuation;
mod data;
mod go_away;
mod head;
mod headers;
mod ping;
mod priority;
mod push_promise;
mod reader;
mod rst_stream;
mod settings;
mod window_update;

use std::fmt;

use bytes::{Bytes, BytesMut};

pub use continuation::Continuation;
pub use data::Data;
pub use go_away::GoAway;
pub use head::{HEAD_LEN, Head};
pub use headers::{Headers, PrioritySpec};
pub use ping::Ping;
pub use priority::Priority;
pub use push_promise::PushPromise;
pub use reader::{DEFAULT_MAX_CONTINUATION_FRAMES, DEFAULT_MAX_HEADER_BLOCK_SIZE, FrameReader};
pub use rst_stream::RstStream;
pub use settings::{SettingId, Settings};
pub use window_update::WindowUpdate;

use super::{ErrorCode, PeerError, StreamId};

/// The default and minimum SETTINGS_MAX_FRAME_SIZE: 16,384 octets (§6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 1 << 14;
/// The largest SETTINGS_MAX_FRAME_SIZE allowed: 2^24-1 octets (§6.5.2).
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;

/// Frame flags (§6): the bits are shared by several frame types.
pub mod flags {
    /// END_STREAM (DATA, HEADERS).
    pub const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING).
    pub const ACK: u8 = 0x1;
    /// END_HEADERS (HEADERS, PUSH_PROMISE, CONTINUATION).
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED (DATA, HEADERS, PUSH_PROMISE).
    pub const PADDED: u8 = 0x8;
    /// PRIORITY (HEADERS).
    pub const PRIORITY: u8 = 0x20;
}

/// A frame type octet (§6, §11.2). Unknown types are valid and ignored (§5.5).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameType(u8);

impl FrameType {
    /// DATA (§6.1).
    pub const DATA: FrameType = FrameType(0x0);
    /// HEADERS (§6.2).
    pub const HEADERS: FrameType = FrameType(0x1);
    /// PRIORITY (§6.3).
    pub const PRIORITY: FrameType = FrameType(0x2);
    /// RST_STREAM (§6.4).
    pub const RST_STREAM: FrameType = FrameType(0x3);
    /// SETTINGS (§6.5).
    pub const SETTINGS: FrameType = FrameType(0x4);
    /// PUSH_PROMISE (§6.6).
    pub const PUSH_PROMISE: FrameType = FrameType(0x5);
    /// PING (§6.7).
    pub const PING: FrameType = FrameType(0x6);
    /// GOAWAY (§6.8).
    pub const GOAWAY: FrameType = FrameType(0x7);
    /// WINDOW_UPDATE (§6.9).
    pub const WINDOW_UPDATE: FrameType = FrameType(0x8);
    /// CONTINUATION (§6.10).
    pub const CONTINUATION: FrameType = FrameType(0x9);

    /// The type octet.
    pub const fn as_u8(self) -> u8 {
        self.0
    }

    /// The RFC name of a known type.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "DATA",
            0x1 => "HEADERS",
            0x2 => "PRIORITY",
            0x3 => "RST_STREAM",
            0x4 => "SETTINGS",
            0x5 => "PUSH_PROMISE",
            0x6 => "PING",
            0x7 => "GOAWAY",
            0x8 => "WINDOW_UPDATE",
            0x9 => "CONTINUATION",
            _ => return None,
        })
    }

    /// The section of RFC 9113 that defines this frame type.
    pub const fn rfc_section(self) -> &'static str {
        match self.0 {
            0x0 => "RFC 9113 §6.1",
            0x1 => "RFC 9113 §6.2",
            0x2 => "RFC 9113 §6.3",
            0x3 => "RFC 9113 §6.4",
            0x4 => "RFC 9113 §6.5",
            0x5 => "RFC 9113 §6.6",
            0x6 => "RFC 9113 §6.7",
            0x7 => "RFC 9113 §6.8",
            0x8 => "RFC 9113 §6.9",
            0x9 => "RFC 9113 §6.10",
            _ => "RFC 9113 §5.5",
        }
    }
}

impl From<u8> for FrameType {
    fn from(value: u8) -> Self {
        FrameType(value)
    }
}

impl fmt::Debug for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "FrameType({:#x})", self.0),
        }
    }
}

/// A frame of an unknown type, kept whole so the caller can ignore it (§5.5) or handle an
/// extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The frame's type.
    pub kind: FrameType,
    /// Its flags, uninterpreted.
    pub flags: u8,
    /// Its stream.
    pub stream_id: StreamId,
    /// Its payload.
    pub payload: Bytes,
}

/// One HTTP/2 frame.
///
/// Frames from [`FrameReader`] have complete field blocks: it never yields
/// [`Frame::Continuation`], and its [`Headers`] and [`PushPromise`] frames carry the whole
/// block with `end_headers` set. [`decode`] works on single frames and yields all variants.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// DATA (§6.1).
    Data(Data),
    /// HEADERS (§6.2).
    Headers(Headers),
    /// PRIORITY (§6.3).
    Priority(Priority),
    /// RST_STREAM (§6.4).
    RstStream(RstStream),
    /// SETTINGS (§6.5).
    Settings(Settings),
    /// PUSH_PROMISE (§6.6).
    PushPromise(PushPromise),
    /// PING (§6.7).
    Ping(Ping),
    /// GOAWAY (§6.8).
    GoAway(GoAway),
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate(WindowUpdate),
    /// CONTINUATION (§6.10).
    Continuation(Continuation),
    /// A frame of an unknown type (§5.5).
    Unknown(Unknown),
}

impl Frame {
    /// The stream the frame belongs to (0 for connection frames).
    pub fn stream_id(&self) -> StreamId {
        match self {
            Frame::Data(f) => f.stream_id,
            Frame::Headers(f) => f.stream_id,
            Frame::Priority(f) => f.stream_id,
            Frame::RstStream(f) => f.stream_id,
            Frame::PushPromise(f) => f.stream_id,
            Frame::WindowUpdate(f) => f.stream_id,
            Frame::Continuation(f) => f.stream_id,
            Frame::Unknown(f) => f.stream_id,
            Frame::Settings(_) | Frame::Ping(_) | Frame::GoAway(_) => StreamId::ZERO,
        }
    }

    /// The frame's type.
    pub fn kind(&self) -> FrameType {
        match self {
            Frame::Data(_) => FrameType::DATA,
            Frame::Headers(_) => FrameType::HEADERS,
            Frame::Priority(_) => FrameType::PRIORITY,
            Frame::RstStream(_) => FrameType::RST_STREAM,
            Frame::Settings(_) => FrameType::SETTINGS,
            Frame::PushPromise(_) => FrameType::PUSH_PROMISE,
            Frame::Ping(_) => FrameType::PING,
            Frame::GoAway(_) => FrameType::GOAWAY,
            Frame::WindowUpdate(_) => FrameType::WINDOW_UPDATE,
            Frame::Continuation(_) => FrameType::CONTINUATION,
            Frame::Unknown(f) => f.kind,
        }
    }

    /// Appends exactly this frame to `dst`, flags as stored, without padding. A field block
    /// too large for one frame is the caller's to split ([`Headers::encode`] does).
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            Frame::Data(f) => f.encode(dst),
            Frame::Headers(f) => f.encode_single(dst),
            Frame::Priority(f) => f.encode(dst),
            Frame::RstStream(f) => f.encode(dst),
            Frame::Settings(f) => f.encode(dst),
            Frame::PushPromise(f) => f.encode_single(dst),
            Frame::Ping(f) => f.encode(dst),
            Frame::GoAway(f) => f.encode(dst),
            Frame::WindowUpdate(f) => f.encode(dst),
            Frame::Continuation(f) => f.encode(dst),
            Frame::Unknown(f) => {
                Head::new(f.kind, f.flags, f.stream_id, payload_len(f.payload.len())).encode(dst);
                dst.extend_from_slice(&f.payload);
            }
        }
    }
}

/// A frame that breaks a rule of §4 or §6, with the scope the RFC gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A connection error (§5.4.1): send GOAWAY with [`PeerError::code`] and close.
    Connection(PeerError),
    /// A stream error (§5.4.2): the frame was consumed; reset only this stream.
    Stream {
        /// The stream to reset.
        stream_id: StreamId,
        /// The rule broken.
        error: PeerError,
    },
}

impl FrameError {
    /// The error code to send.
    pub fn code(&self) -> ErrorCode {
        self.peer_error().code()
    }

    /// The rule broken.
    pub fn peer_error(&self) -> &PeerError {
        match self {
            FrameError::Connection(error) | FrameError::Stream { error, .. } => error,
        }
    }

    /// True for connection errors.
    pub fn is_connection_error(&self) -> bool {
        matches!(self, FrameError::Connection(_))
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Connection(error) => write!(f, "connection error: {error}"),
            FrameError::Stream { stream_id, error } => {
                write!(f, "stream error on stream {stream_id}: {error}")
            }
        }
    }
}

impl std::error::Error for FrameError {}

impl From<PeerError> for FrameError {
    fn from(error: PeerError) -> Self {
        FrameError::Connection(error)
    }
}

/// Decodes one frame from its header and complete payload (`payload.len() == head.length`).
///
/// Length, stream-id, padding and setting rules of §6 are checked here; size against
/// SETTINGS_MAX_FRAME_SIZE and field-block assembly are the [`FrameReader`]'s.
pub fn decode(head: Head, payload: Bytes) -> Result<Frame, FrameError> {
    debug_assert_eq!(payload.len(), head.length as usize);
    match head.kind {
        FrameType::DATA => Data::decode(head, payload).map(Frame::Data),
        FrameType::HEADERS => Headers::decode(head, payload).map(Frame::Headers),
        FrameType::PRIORITY => Priority::decode(head, &payload).map(Frame::Priority),
        FrameType::RST_STREAM => RstStream::decode(head, &payload).map(Frame::RstStream),
        FrameType::SETTINGS => Settings::decode(head, &payload).map(Frame::Settings),
        FrameType::PUSH_PROMISE => PushPromise::decode(head, payload).map(Frame::PushPromise),
        FrameType::PING => Ping::decode(head, &payload).map(Frame::Ping),
        FrameType::GOAWAY => GoAway::decode(head, payload).map(Frame::GoAway),
        FrameType::WINDOW_UPDATE => WindowUpdate::decode(head, &payload).map(Frame::WindowUpdate),
        FrameType::CONTINUATION => Continuation::decode(head, payload).map(Frame::Continuation),
        kind => Ok(Frame::Unknown(Unknown {
            kind,
            flags: head.flags,
            stream_id: head.stream_id,
            payload,
        })),
    }
}

/// Checks that a stream-scoped frame is not on stream 0.
fn require_stream(head: &Head) -> Result<(), FrameError> {
    if head.stream_id.is_zero() {
        return Err(PeerError::StreamIdRequired { frame: head.kind }.into());
    }
    Ok(())
}

/// Checks that a connection-scoped frame is on stream 0.
fn require_connection(head: &Head) -> Result<(), FrameError> {
    if !head.stream_id.is_zero() {
        return Err(PeerError::StreamIdForbidden { frame: head.kind }.into());
    }
    Ok(())
}

/// A connection-level FRAME_SIZE_ERROR for this frame's length.
fn invalid_length(head: &Head) -> FrameError {
    PeerError::InvalidLength {
        frame: head.kind,
        length: head.length,
    }
    .into()
}

/// Strips padding (§6.1): returns the payload without the Pad Length octet and padding.
/// `fixed` is the length of the fields between the Pad Length octet and the data.
fn strip_padding(head: &Head, mut payload: Bytes, fixed: usize) -> Result<Bytes, FrameError> {
    if head.flags & flags::PADDED == 0 {
        if payload.len() < fixed {
            return Err(invalid_length(head));
        }
        return Ok(payload);
    }
    let Some(&pad_len) = payload.first() else {
        return Err(invalid_length(head));
    };
    if payload.len() < 1 + fixed {
        return Err(invalid_length(head));
    }
    let pad_len = usize::from(pad_len);
    if pad_len + 1 + fixed > payload.len() {
        return Err(PeerError::PaddingTooLong { frame: head.kind }.into());
    }
    let end = payload.len() - pad_len;
    payload.truncate(end);
    Ok(payload.slice(1..))
}

/// A payload length for a frame header. Callers never build payloads over 2^24-1 octets
/// (frames are split by SETTINGS_MAX_FRAME_SIZE first); the conversion saturates rather than
/// truncating if they do.
fn payload_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}
