//! SETTINGS frames (RFC 9113 §6.5) and setting identifiers (§6.5.2, RFC 8441 §3,
//! RFC 9218 §2.1).
//!
//! ```text
//! +-------------------------------+
//! |       Identifier (16)         |   repeated: 6 octets per setting
//! +-------------------------------+-------------------------------+
//! |                        Value (32)                             |
//! +---------------------------------------------------------------+
//! ```
//!
//! Rules: stream id 0 (PROTOCOL_ERROR); length a multiple of 6 (FRAME_SIZE_ERROR); an ACK
//! with a payload (FRAME_SIZE_ERROR); ENABLE_PUSH and ENABLE_CONNECT_PROTOCOL 0 or 1 and
//! MAX_FRAME_SIZE within 2^14..=2^24-1 (PROTOCOL_ERROR); INITIAL_WINDOW_SIZE at most 2^31-1
//! (FLOW_CONTROL_ERROR). Unknown identifiers are kept in order (they must be ignored, §6.5.2,
//! but a proxy may want to see them). Role-specific rules (a server sending ENABLE_PUSH) and
//! limits on the number of entries belong to the connection.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    DEFAULT_MAX_FRAME_SIZE, FrameError, FrameType, Head, MAX_MAX_FRAME_SIZE, flags, invalid_length,
    payload_len, require_connection,
};
use crate::h2::{PeerError, StreamId};

/// A setting identifier. Unknown identifiers are valid and ignored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SettingId(u16);

impl SettingId {
    /// SETTINGS_HEADER_TABLE_SIZE (0x1).
    pub const HEADER_TABLE_SIZE: SettingId = SettingId(0x1);
    /// SETTINGS_ENABLE_PUSH (0x2).
    pub const ENABLE_PUSH: SettingId = SettingId(0x2);
    /// SETTINGS_MAX_CONCURRENT_STREAMS (0x3).
    pub const MAX_CONCURRENT_STREAMS: SettingId = SettingId(0x3);
    /// SETTINGS_INITIAL_WINDOW_SIZE (0x4).
    pub const INITIAL_WINDOW_SIZE: SettingId = SettingId(0x4);
    /// SETTINGS_MAX_FRAME_SIZE (0x5).
    pub const MAX_FRAME_SIZE: SettingId = SettingId(0x5);
    /// SETTINGS_MAX_HEADER_LIST_SIZE (0x6).
    pub const MAX_HEADER_LIST_SIZE: SettingId = SettingId(0x6);
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8, RFC 8441).
    pub const ENABLE_CONNECT_PROTOCOL: SettingId = SettingId(0x8);
    /// SETTINGS_NO_RFC7540_PRIORITIES (0x9, RFC 9218).
    pub const NO_RFC7540_PRIORITIES: SettingId = SettingId(0x9);

    /// The identifier as on the wire.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The RFC name of a known identifier.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x1 => "SETTINGS_HEADER_TABLE_SIZE",
            0x2 => "SETTINGS_ENABLE_PUSH",
            0x3 => "SETTINGS_MAX_CONCURRENT_STREAMS",
            0x4 => "SETTINGS_INITIAL_WINDOW_SIZE",
            0x5 => "SETTINGS_MAX_FRAME_SIZE",
            0x6 => "SETTINGS_MAX_HEADER_LIST_SIZE",
            0x8 => "SETTINGS_ENABLE_CONNECT_PROTOCOL",
            0x9 => "SETTINGS_NO_RFC7540_PRIORITIES",
            _ => return None,
        })
    }

    /// Checks a value against this setting's range.
    fn validate(self, value: u32) -> Result<(), PeerError> {
        let ok = match self {
            SettingId::ENABLE_PUSH
            | SettingId::ENABLE_CONNECT_PROTOCOL
            | SettingId::NO_RFC7540_PRIORITIES => value <= 1,
            SettingId::INITIAL_WINDOW_SIZE if value > 0x7fff_ffff => {
                return Err(PeerError::InitialWindowSizeTooLarge { value });
            }
            SettingId::MAX_FRAME_SIZE => {
                (DEFAULT_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value)
            }
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(PeerError::InvalidSettingValue { id: self, value })
        }
    }
}

impl From<u16> for SettingId {
    fn from(value: u16) -> Self {
        SettingId(value)
    }
}

impl fmt::Debug for SettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "SettingId({:#x})", self.0),
        }
    }
}

/// A SETTINGS frame: its parameters in the order sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// ACK: acknowledges the peer's SETTINGS; carries no parameters.
    pub ack: bool,
    /// The parameters, in wire order, unknown identifiers included.
    pub params: Vec<(SettingId, u32)>,
}

impl Settings {
    /// Length of one parameter on the wire.
    pub const PARAM_LEN: usize = 6;

    /// A SETTINGS ACK.
    pub fn ack() -> Self {
        Settings {
            ack: true,
            params: Vec::new(),
        }
    }

    /// The last value given for `id`, if any (§6.5.3: processed in order, last one wins).
    pub fn get(&self, id: SettingId) -> Option<u32> {
        self.params
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map(|&(_, v)| v)
    }

    pub(super) fn decode(head: Head, payload: &Bytes) -> Result<Settings, FrameError> {
        require_connection(&head)?;
        let ack = head.has_flag(flags::ACK);
        if (ack && !payload.is_empty()) || payload.len() % Self::PARAM_LEN != 0 {
            return Err(invalid_length(&head));
        }
        let params = payload
            .chunks_exact(Self::PARAM_LEN)
            .map(|p| {
                let id = SettingId(u16::from_be_bytes([p[0], p[1]]));
                let value = u32::from_be_bytes([p[2], p[3], p[4], p[5]]);
                id.validate(value).map(|()| (id, value))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings { ack, params })
    }

    /// Appends the frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let f = if self.ack { flags::ACK } else { 0 };
        let len = payload_len(self.params.len() * Self::PARAM_LEN);
        Head::new(FrameType::SETTINGS, f, StreamId::ZERO, len).encode(dst);
        for &(id, value) in &self.params {
            dst.put_u16(id.0);
            dst.put_u32(value);
        }
    }
}
