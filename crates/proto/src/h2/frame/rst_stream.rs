//! RST_STREAM frames (RFC 9113 §6.4).
//!
//! ```text
//! +---------------------------------------------------------------+
//! |                        Error Code (32)                        |
//! +---------------------------------------------------------------+
//! ```
//!
//! Rules: stream id not 0 (PROTOCOL_ERROR); length exactly 4 (connection FRAME_SIZE_ERROR).

use bytes::{BufMut, Bytes, BytesMut};

use super::{FrameError, FrameType, Head, invalid_length, require_stream};
use crate::h2::{ErrorCode, StreamId};

/// A RST_STREAM frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RstStream {
    /// The stream to reset.
    pub stream_id: StreamId,
    /// Why.
    pub code: ErrorCode,
}

impl RstStream {
    pub(super) fn decode(head: Head, payload: &Bytes) -> Result<RstStream, FrameError> {
        require_stream(&head)?;
        let raw: [u8; 4] = payload[..].try_into().map_err(|_| invalid_length(&head))?;
        Ok(RstStream {
            stream_id: head.stream_id,
            code: ErrorCode::from(u32::from_be_bytes(raw)),
        })
    }

    /// Appends the frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        Head::new(FrameType::RST_STREAM, 0, self.stream_id, 4).encode(dst);
        dst.put_u32(self.code.as_u32());
    }
}
