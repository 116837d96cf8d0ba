//! PING frames (RFC 9113 §6.7).
//!
//! ```text
//! +---------------------------------------------------------------+
//! |                      Opaque Data (64)                         |
//! +---------------------------------------------------------------+
//! ```
//!
//! Rules: stream id 0 (PROTOCOL_ERROR); length exactly 8 (FRAME_SIZE_ERROR).

use bytes::{Bytes, BytesMut};

use super::{FrameError, FrameType, Head, flags, invalid_length, require_connection};
use crate::h2::StreamId;

/// A PING frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ping {
    /// ACK: this answers a PING.
    pub ack: bool,
    /// The opaque payload, echoed in the ACK.
    pub payload: [u8; 8],
}

impl Ping {
    pub(super) fn decode(head: Head, payload: &Bytes) -> Result<Ping, FrameError> {
        require_connection(&head)?;
        let payload: [u8; 8] = payload[..].try_into().map_err(|_| invalid_length(&head))?;
        Ok(Ping {
            ack: head.has_flag(flags::ACK),
            payload,
        })
    }

    /// Appends the frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let f = if self.ack { flags::ACK } else { 0 };
        Head::new(FrameType::PING, f, StreamId::ZERO, 8).encode(dst);
        dst.extend_from_slice(&self.payload);
    }
}
