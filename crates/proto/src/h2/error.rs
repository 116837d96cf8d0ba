//! Errors caused by the peer, each naming the rule it broke (RFC 9113 unless said), and the
//! one table that maps them to the wire [`ErrorCode`] and their RFC section.
//!
//! Whether a violation ends the connection (§5.4.1) or only a stream (§5.4.2) depends on
//! where it happened, not only on the rule, so the scope is carried by the error that wraps a
//! [`PeerError`] ([`FrameError`](super::frame::FrameError), or the connection's
//! [`CloseReason`](super::CloseReason) and [`StreamReset`](super::StreamReset)).

use std::fmt;

use super::ErrorCode;
use super::frame::{FrameType, SettingId};
use super::hpack::DecoderError;
use super::message::MessageError;

/// A rule of RFC 9113 (or a protection limit of ours, §10.5) broken by the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerError {
    /// A frame longer than the SETTINGS_MAX_FRAME_SIZE we advertised (§4.2).
    FrameTooLarge {
        /// The frame's length field.
        length: u32,
        /// Our acknowledged maximum.
        max: u32,
    },
    /// A frame whose length is wrong for its type, or too short for its mandatory fields
    /// (§4.2, §6).
    InvalidLength {
        /// The frame type.
        frame: FrameType,
        /// The frame's length field.
        length: u32,
    },
    /// A frame that belongs to a stream was sent on stream 0 (§6).
    StreamIdRequired {
        /// The frame type.
        frame: FrameType,
    },
    /// A connection-level frame was sent on a stream other than 0 (§6).
    StreamIdForbidden {
        /// The frame type.
        frame: FrameType,
    },
    /// The padding is as long as the frame payload or longer (§6.1).
    PaddingTooLong {
        /// The frame type.
        frame: FrameType,
    },
    /// SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (§6.5.2).
    InitialWindowSizeTooLarge {
        /// The value sent.
        value: u32,
    },
    /// A setting with a value outside its range (§6.5.2; RFC 8441 §3).
    InvalidSettingValue {
        /// The setting.
        id: SettingId,
        /// The value sent.
        value: u32,
    },
    /// A WINDOW_UPDATE with an increment of 0 (§6.9).
    ZeroWindowIncrement,
    /// A stream made dependent on itself (§5.3.1).
    SelfDependency,
    /// A frame other than a CONTINUATION of the same stream inside a field block (§4.3).
    HeaderBlockInterrupted {
        /// The frame type that interrupted the block.
        frame: FrameType,
    },
    /// A CONTINUATION that does not continue a field block (§6.10).
    UnexpectedContinuation,
    /// More CONTINUATION frames in one field block than our limit (a CONTINUATION flood).
    TooManyContinuations {
        /// The limit.
        limit: usize,
    },
    /// A field block larger than we buffer: more than four times our
    /// SETTINGS_MAX_HEADER_LIST_SIZE, or a CONTINUATION flood.
    HeaderBlockTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The client connection preface is missing or wrong (§3.4).
    InvalidPreface,
    /// The first frame after the preface is not SETTINGS (§3.4).
    FirstFrameNotSettings {
        /// The frame that came instead.
        frame: FrameType,
    },
    /// Our SETTINGS were not acknowledged in time (§6.5.3).
    SettingsTimeout,
    /// A server sent SETTINGS_ENABLE_PUSH = 1 (§6.5.2).
    PushEnabledByServer,
    /// A stream identifier of the wrong parity, or not above those already used (§5.1.1).
    InvalidStreamId {
        /// The frame that used it.
        frame: FrameType,
        /// The identifier.
        stream_id: u32,
    },
    /// A frame other than HEADERS or PRIORITY on an idle stream, or one the state does not
    /// allow (§5.1).
    UnexpectedFrame {
        /// The frame type.
        frame: FrameType,
        /// The stream.
        stream_id: u32,
    },
    /// A frame on a stream that was closed, or half-closed by the peer (§5.1).
    StreamClosed {
        /// The frame type.
        frame: FrameType,
    },
    /// A PUSH_PROMISE while push is disabled, sent by a client, or promising an invalid
    /// stream (§6.6, §8.4).
    InvalidPushPromise,
    /// DATA beyond the flow-control window we advertised (§6.9.1).
    FlowControlViolation,
    /// A WINDOW_UPDATE or SETTINGS change that takes a window above 2^31-1 (§6.9.1).
    WindowOverflow,
    /// The field block could not be decoded (§4.3; RFC 7541).
    Compression(DecoderError),
    /// A malformed request or response (§8.1.1).
    Malformed(MessageError),
    /// More resets of not-yet-accepted streams than the budget allows (the Rapid Reset
    /// attack, CVE-2023-44487; §10.5).
    RapidReset {
        /// The budget.
        limit: u32,
    },
    /// The peer made us generate more stream errors than the budget allows (the MadeYouReset
    /// attack; §10.5).
    TooManyStreamErrors {
        /// The budget.
        limit: u32,
    },
    /// Too many empty or tiny DATA frames (§10.5).
    DataFlood,
    /// A SETTINGS frame with more entries than our limit, or the same identifier twice
    /// (§10.5).
    SettingsFlood,
    /// SETTINGS or PING frames faster than their acknowledgements are written (§10.5).
    ControlFlood,
}

impl PeerError {
    /// The error code this violation is reported with: the one table of causes to codes.
    pub fn code(&self) -> ErrorCode {
        use PeerError as E;
        match self {
            E::FrameTooLarge { .. } | E::InvalidLength { .. } => ErrorCode::FRAME_SIZE_ERROR,
            E::InitialWindowSizeTooLarge { .. } | E::FlowControlViolation | E::WindowOverflow => {
                ErrorCode::FLOW_CONTROL_ERROR
            }
            E::SettingsTimeout => ErrorCode::SETTINGS_TIMEOUT,
            E::StreamClosed { .. } => ErrorCode::STREAM_CLOSED,
            E::Compression(_) => ErrorCode::COMPRESSION_ERROR,
            E::TooManyContinuations { .. }
            | E::HeaderBlockTooLarge { .. }
            | E::RapidReset { .. }
            | E::TooManyStreamErrors { .. }
            | E::DataFlood
            | E::SettingsFlood
            | E::ControlFlood => ErrorCode::ENHANCE_YOUR_CALM,
            E::StreamIdRequired { .. }
            | E::StreamIdForbidden { .. }
            | E::PaddingTooLong { .. }
            | E::InvalidSettingValue { .. }
            | E::ZeroWindowIncrement
            | E::SelfDependency
            | E::HeaderBlockInterrupted { .. }
            | E::UnexpectedContinuation
            | E::InvalidPreface
            | E::FirstFrameNotSettings { .. }
            | E::PushEnabledByServer
            | E::InvalidStreamId { .. }
            | E::UnexpectedFrame { .. }
            | E::InvalidPushPromise
            | E::Malformed(_) => ErrorCode::PROTOCOL_ERROR,
        }
    }

    /// The section of the RFC that states the rule.
    pub fn rfc_section(&self) -> &'static str {
        use PeerError as E;
        match self {
            E::FrameTooLarge { .. } => "RFC 9113 §4.2",
            E::InvalidLength { frame, .. }
            | E::StreamIdRequired { frame }
            | E::StreamIdForbidden { frame } => frame.rfc_section(),
            E::PaddingTooLong { .. } => "RFC 9113 §6.1",
            E::InitialWindowSizeTooLarge { .. } | E::PushEnabledByServer => "RFC 9113 §6.5.2",
            E::InvalidSettingValue { id, .. } => {
                if *id == SettingId::ENABLE_CONNECT_PROTOCOL {
                    "RFC 8441 §3"
                } else {
                    "RFC 9113 §6.5.2"
                }
            }
            E::ZeroWindowIncrement => "RFC 9113 §6.9",
            E::SelfDependency => "RFC 9113 §5.3.1",
            E::HeaderBlockInterrupted { .. } => "RFC 9113 §4.3",
            E::UnexpectedContinuation => "RFC 9113 §6.10",
            E::InvalidPreface | E::FirstFrameNotSettings { .. } => "RFC 9113 §3.4",
            E::SettingsTimeout => "RFC 9113 §6.5.3",
            E::InvalidStreamId { .. } => "RFC 9113 §5.1.1",
            E::UnexpectedFrame { .. } | E::StreamClosed { .. } => "RFC 9113 §5.1",
            E::InvalidPushPromise => "RFC 9113 §8.4",
            E::FlowControlViolation | E::WindowOverflow => "RFC 9113 §6.9.1",
            E::Compression(e) => e.rfc_section(),
            E::Malformed(e) => e.rfc_section(),
            E::TooManyContinuations { .. }
            | E::HeaderBlockTooLarge { .. }
            | E::RapidReset { .. }
            | E::TooManyStreamErrors { .. }
            | E::DataFlood
            | E::SettingsFlood
            | E::ControlFlood => "RFC 9113 §10.5",
        }
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PeerError as E;
        match self {
            E::FrameTooLarge { length, max } => {
                write!(
                    f,
                    "frame of {length} octets exceeds SETTINGS_MAX_FRAME_SIZE {max}"
                )
            }
            E::InvalidLength { frame, length } => {
                write!(f, "{frame:?} frame with invalid length {length}")
            }
            E::StreamIdRequired { frame } => write!(f, "{frame:?} frame on stream 0"),
            E::StreamIdForbidden { frame } => write!(f, "{frame:?} frame on a stream other than 0"),
            E::PaddingTooLong { frame } => write!(f, "{frame:?} padding as long as the payload"),
            E::InitialWindowSizeTooLarge { value } => {
                write!(f, "SETTINGS_INITIAL_WINDOW_SIZE {value} above 2^31-1")
            }
            E::InvalidSettingValue { id, value } => write!(f, "invalid value {value} for {id:?}"),
            E::ZeroWindowIncrement => f.write_str("WINDOW_UPDATE with increment 0"),
            E::SelfDependency => f.write_str("stream depends on itself"),
            E::HeaderBlockInterrupted { frame } => {
                write!(f, "{frame:?} frame inside a field block")
            }
            E::UnexpectedContinuation => f.write_str("CONTINUATION without a field block"),
            E::TooManyContinuations { limit } => {
                write!(
                    f,
                    "more than {limit} CONTINUATION frames in one field block"
                )
            }
            E::HeaderBlockTooLarge { limit } => write!(f, "field block larger than {limit} octets"),
            E::InvalidPreface => f.write_str("invalid connection preface"),
            E::FirstFrameNotSettings { frame } => {
                write!(f, "first frame is {frame:?}, not SETTINGS")
            }
            E::SettingsTimeout => f.write_str("SETTINGS not acknowledged in time"),
            E::PushEnabledByServer => f.write_str("server sent SETTINGS_ENABLE_PUSH = 1"),
            E::InvalidStreamId { frame, stream_id } => {
                write!(
                    f,
                    "{frame:?} frame with invalid stream identifier {stream_id}"
                )
            }
            E::UnexpectedFrame { frame, stream_id } => {
                write!(
                    f,
                    "{frame:?} frame not allowed on stream {stream_id} in its state"
                )
            }
            E::StreamClosed { frame } => write!(f, "{frame:?} frame on a closed stream"),
            E::InvalidPushPromise => f.write_str("PUSH_PROMISE not allowed or invalid"),
            E::FlowControlViolation => f.write_str("DATA beyond the flow-control window"),
            E::WindowOverflow => f.write_str("flow-control window above 2^31-1"),
            E::Compression(e) => write!(f, "field block decoding failed: {e}"),
            E::Malformed(e) => write!(f, "malformed message: {e}"),
            E::RapidReset { limit } => {
                write!(f, "more than {limit} resets of streams not yet accepted")
            }
            E::TooManyStreamErrors { limit } => {
                write!(f, "more than {limit} stream errors caused by the peer")
            }
            E::DataFlood => f.write_str("too many empty or tiny DATA frames"),
            E::SettingsFlood => f.write_str("SETTINGS frame with too many or duplicate entries"),
            E::ControlFlood => f.write_str("SETTINGS or PING faster than their ACKs are written"),
        }?;
        write!(f, " ({}, {})", self.rfc_section(), self.code())
    }
}

impl std::error::Error for PeerError {}
