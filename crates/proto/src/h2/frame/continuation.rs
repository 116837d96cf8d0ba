//! CONTINUATION frames (RFC 9113 §6.10): the rest of a field block that did not fit in its
//! HEADERS or PUSH_PROMISE frame.
//!
//! ```text
//! +---------------------------------------------------------------+
//! |                   Field Block Fragment (*)                    ...
//! +---------------------------------------------------------------+
//! ```
//!
//! Rules: stream id not 0 (PROTOCOL_ERROR). Whether a CONTINUATION may appear at all is a
//! sequencing rule checked by the [`FrameReader`](super::FrameReader).

use bytes::{Bytes, BytesMut};

use super::{FrameError, FrameType, Head, flags, payload_len, require_stream};
use crate::h2::StreamId;

/// A CONTINUATION frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Continuation {
    /// The stream.
    pub stream_id: StreamId,
    /// END_HEADERS: the block is complete.
    pub end_headers: bool,
    /// The fragment.
    pub fragment: Bytes,
}

impl Continuation {
    pub(super) fn decode(head: Head, payload: Bytes) -> Result<Continuation, FrameError> {
        require_stream(&head)?;
        Ok(Continuation {
            stream_id: head.stream_id,
            end_headers: head.has_flag(flags::END_HEADERS),
            fragment: payload,
        })
    }

    /// Appends the frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        let f = if self.end_headers {
            flags::END_HEADERS
        } else {
            0
        };
        let len = payload_len(self.fragment.len());
        Head::new(FrameType::CONTINUATION, f, self.stream_id, len).encode(dst);
        dst.extend_from_slice(&self.fragment);
    }
}

/// Appends `rest` of a field block as CONTINUATION frames of at most `max` octets, the last
/// one with END_HEADERS. Writes nothing when `rest` is empty.
pub(super) fn encode_rest(stream_id: StreamId, rest: &[u8], max: usize, dst: &mut BytesMut) {
    let mut chunks = rest.chunks(max.max(1)).peekable();
    while let Some(chunk) = chunks.next() {
        let f = if chunks.peek().is_none() {
            flags::END_HEADERS
        } else {
            0
        };
        Head::new(
            FrameType::CONTINUATION,
            f,
            stream_id,
            payload_len(chunk.len()),
        )
        .encode(dst);
        dst.extend_from_slice(chunk);
    }
}
