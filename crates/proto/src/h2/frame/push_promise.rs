//! PUSH_PROMISE frames (RFC 9113 §6.6).
//!
//! ```text
//! +---------------+
//! |Pad Length? (8)|                                 with PADDED
//! +-+-------------+-----------------------------------------------+
//! |R|                  Promised Stream ID (31)                    |
//! +-+-----------------------------+-------------------------------+
//! |                   Field Block Fragment (*)                    ...
//! +---------------------------------------------------------------+
//! |                           Padding (*)                       ...
//! +---------------------------------------------------------------+
//! ```
//!
//! Rules: stream id not 0 (PROTOCOL_ERROR); payload long enough for the promised id
//! (FRAME_SIZE_ERROR); padding shorter than the payload (PROTOCOL_ERROR). Whether push is
//! enabled and the promised id valid is the connection's to check.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{FrameError, FrameType, Head, flags, payload_len, require_stream, strip_padding};
use crate::h2::StreamId;

/// A PUSH_PROMISE frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushPromise {
    /// The stream the promise is associated with (a client-initiated stream).
    pub stream_id: StreamId,
    /// The reserved stream the server will push on.
    pub promised_id: StreamId,
    /// END_HEADERS: the block is complete (always true for frames from the reader).
    pub end_headers: bool,
    /// The field block of the promised request (a fragment when `end_headers` is false).
    pub block: Bytes,
}

impl PushPromise {
    pub(super) fn decode(head: Head, payload: Bytes) -> Result<PushPromise, FrameError> {
        require_stream(&head)?;
        let mut block = strip_padding(&head, payload, 4)?;
        let promised_id = StreamId::new(block.get_u32());
        Ok(PushPromise {
            stream_id: head.stream_id,
            promised_id,
            end_headers: head.has_flag(flags::END_HEADERS),
            block,
        })
    }

    pub(super) fn encode_single(&self, dst: &mut BytesMut) {
        let f = if self.end_headers {
            flags::END_HEADERS
        } else {
            0
        };
        let len = payload_len(4 + self.block.len());
        Head::new(FrameType::PUSH_PROMISE, f, self.stream_id, len).encode(dst);
        dst.put_u32(self.promised_id.as_u32());
        dst.extend_from_slice(&self.block);
    }

    /// Appends the complete block as a PUSH_PROMISE frame followed by as many CONTINUATION
    /// frames as `max_frame_size` requires, END_HEADERS on the last.
    pub fn encode(&self, max_frame_size: u32, dst: &mut BytesMut) {
        let max = usize::try_from(max_frame_size).unwrap_or(usize::MAX);
        let first_len = self.block.len().min(max.saturating_sub(4));
        let f = if first_len == self.block.len() {
            flags::END_HEADERS
        } else {
            0
        };
        let len = payload_len(4 + first_len);
        Head::new(FrameType::PUSH_PROMISE, f, self.stream_id, len).encode(dst);
        dst.put_u32(self.promised_id.as_u32());
        dst.extend_from_slice(&self.block[..first_len]);
        super::continuation::encode_rest(self.stream_id, &self.block[first_len..], max, dst);
    }
}
