//! Errors caused by the peer, each naming the rule it broke (RFC 9113), and the one table
//! that maps them to the wire [`ErrorCode`].
//!
//! Whether a violation ends the connection (§5.4.1) or only a stream (§5.4.2) depends on
//! where it happened, not only on the rule, so the scope is carried by the error that wraps a
//! [`PeerError`] (for example [`FrameError`](super::frame::FrameError)).

use std::fmt;

use super::ErrorCode;
use super::frame::{FrameType, SettingId};

/// A rule of RFC 9113 (or a protection limit of ours) broken by the peer.
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
    /// A frame other than a CONTINUATION of the same stream inside a field block (§4.3,
    /// §6.10).
    HeaderBlockInterrupted {
        /// The frame type that interrupted the block.
        frame: FrameType,
    },
    /// A CONTINUATION that does not follow a HEADERS, PUSH_PROMISE or CONTINUATION without
    /// END_HEADERS (§6.10).
    UnexpectedContinuation,
    /// More CONTINUATION frames in one field block than our limit (a CONTINUATION flood).
    TooManyContinuations {
        /// The limit.
        limit: usize,
    },
    /// A field block larger than we buffer (a CONTINUATION flood or an oversized header
    /// list).
    HeaderBlockTooLarge {
        /// The limit.
        limit: usize,
    },
}

impl PeerError {
    /// The error code this violation is reported with: the one table of causes to codes.
    pub fn code(&self) -> ErrorCode {
        match self {
            PeerError::FrameTooLarge { .. } | PeerError::InvalidLength { .. } => {
                ErrorCode::FRAME_SIZE_ERROR
            }
            PeerError::InitialWindowSizeTooLarge { .. } => ErrorCode::FLOW_CONTROL_ERROR,
            PeerError::TooManyContinuations { .. } | PeerError::HeaderBlockTooLarge { .. } => {
                ErrorCode::ENHANCE_YOUR_CALM
            }
            PeerError::StreamIdRequired { .. }
            | PeerError::StreamIdForbidden { .. }
            | PeerError::PaddingTooLong { .. }
            | PeerError::InvalidSettingValue { .. }
            | PeerError::ZeroWindowIncrement
            | PeerError::SelfDependency
            | PeerError::HeaderBlockInterrupted { .. }
            | PeerError::UnexpectedContinuation => ErrorCode::PROTOCOL_ERROR,
        }
    }

    /// The section of RFC 9113 (or other RFC) that states the rule.
    pub fn rfc_section(&self) -> &'static str {
        match self {
            PeerError::FrameTooLarge { .. } => "RFC 9113 §4.2",
            PeerError::InvalidLength { frame, .. }
            | PeerError::StreamIdRequired { frame }
            | PeerError::StreamIdForbidden { frame } => frame.rfc_section(),
            PeerError::PaddingTooLong { .. } => "RFC 9113 §6.1",
            PeerError::InitialWindowSizeTooLarge { .. } => "RFC 9113 §6.5.2",
            PeerError::InvalidSettingValue { id, .. } => {
                if *id == SettingId::ENABLE_CONNECT_PROTOCOL {
                    "RFC 8441 §3"
                } else {
                    "RFC 9113 §6.5.2"
                }
            }
            PeerError::ZeroWindowIncrement => "RFC 9113 §6.9",
            PeerError::SelfDependency => "RFC 9113 §5.3.1",
            PeerError::HeaderBlockInterrupted { .. } => "RFC 9113 §4.3",
            PeerError::UnexpectedContinuation => "RFC 9113 §6.10",
            PeerError::TooManyContinuations { .. } | PeerError::HeaderBlockTooLarge { .. } => {
                "RFC 9113 §10.5"
            }
        }
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::FrameTooLarge { length, max } => {
                write!(
                    f,
                    "frame of {length} octets exceeds SETTINGS_MAX_FRAME_SIZE {max}"
                )
            }
            PeerError::InvalidLength { frame, length } => {
                write!(f, "{frame:?} frame with invalid length {length}")
            }
            PeerError::StreamIdRequired { frame } => write!(f, "{frame:?} frame on stream 0"),
            PeerError::StreamIdForbidden { frame } => {
                write!(f, "{frame:?} frame on a stream other than 0")
            }
            PeerError::PaddingTooLong { frame } => {
                write!(f, "{frame:?} padding as long as the payload")
            }
            PeerError::InitialWindowSizeTooLarge { value } => {
                write!(f, "SETTINGS_INITIAL_WINDOW_SIZE {value} above 2^31-1")
            }
            PeerError::InvalidSettingValue { id, value } => {
                write!(f, "invalid value {value} for {id:?}")
            }
            PeerError::ZeroWindowIncrement => f.write_str("WINDOW_UPDATE with increment 0"),
            PeerError::SelfDependency => f.write_str("stream depends on itself"),
            PeerError::HeaderBlockInterrupted { frame } => {
                write!(f, "{frame:?} frame inside a field block")
            }
            PeerError::UnexpectedContinuation => {
                f.write_str("CONTINUATION without a field block in progress")
            }
            PeerError::TooManyContinuations { limit } => {
                write!(
                    f,
                    "more than {limit} CONTINUATION frames in one field block"
                )
            }
            PeerError::HeaderBlockTooLarge { limit } => {
                write!(f, "field block larger than {limit} octets")
            }
        }?;
        write!(f, " ({}, {})", self.rfc_section(), self.code())
    }
}

impl std::error::Error for PeerError {}
