//! GOAWAY frames (RFC 9113 §6.8).
//!
//! ```text
//! +-+-------------------------------------------------------------+
//! |R|                  Last-Stream-ID (31)                        |
//! +-+-------------------------------------------------------------+
//! |                      Error Code (32)                          |
//! +---------------------------------------------------------------+
//! |                  Additional Debug Data (*)                    |
//! +---------------------------------------------------------------+
//! ```
//!
//! Rules: stream id 0 (PROTOCOL_ERROR); at least 8 octets (FRAME_SIZE_ERROR).

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{FrameError, FrameType, Head, invalid_length, payload_len, require_connection};
use crate::h2::{ErrorCode, StreamId};

/// A GOAWAY frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoAway {
    /// The highest stream the sender may have processed.
    pub last_stream_id: StreamId,
    /// Why the connection is closing.
    pub code: ErrorCode,
    /// Opaque diagnostic data.
    pub debug_data: Bytes,
}

impl GoAway {
    pub(super) fn decode(head: Head, mut payload: Bytes) -> Result<GoAway, FrameError> {
        require_connection(&head)?;
        if payload.len() < 8 {
            return Err(invalid_length(&head));
        }
        Ok(GoAway {
            last_stream_id: StreamId::new(payload.get_u32()),
            code: ErrorCode::from(payload.get_u32()),
            debug_data: payload,
        })
    }

    /// Appends the frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let len = payload_len(8 + self.debug_data.len());
        Head::new(FrameType::GOAWAY, 0, StreamId::ZERO, len).encode(dst);
        dst.put_u32(self.last_stream_id.as_u32());
        dst.put_u32(self.code.as_u32());
        dst.extend_from_slice(&self.debug_data);
    }
}
