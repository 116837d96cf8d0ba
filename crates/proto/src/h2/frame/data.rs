//! DATA frames (RFC 9113 §6.1).
//!
//! ```text
//! +---------------+
//! |Pad Length? (8)|   present with PADDED
//! +---------------+-----------------------------------------------+
//! |                            Data (*)                         ...
//! +---------------------------------------------------------------+
//! |                           Padding (*)                       ...
//! +---------------------------------------------------------------+
//! ```
//!
//! Rules: stream id not 0 (PROTOCOL_ERROR); padding shorter than the payload
//! (PROTOCOL_ERROR). The whole payload, padding included, counts against flow control, so
//! it is kept as [`Data::flow_len`].

use bytes::{Bytes, BytesMut};

use super::{FrameError, FrameType, Head, flags, payload_len, require_stream, strip_padding};
use crate::h2::StreamId;

/// A DATA frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Data {
    /// The stream.
    pub stream_id: StreamId,
    /// END_STREAM: the sender's last frame on this stream.
    pub end_stream: bool,
    /// The data, padding removed.
    pub data: Bytes,
    /// The frame's whole payload length, padding included: what flow control counts.
    pub flow_len: u32,
}

impl Data {
    /// An unpadded DATA frame.
    pub fn new(stream_id: StreamId, data: Bytes, end_stream: bool) -> Self {
        let flow_len = payload_len(data.len());
        Data {
            stream_id,
            end_stream,
            data,
            flow_len,
        }
    }

    pub(super) fn decode(head: Head, payload: Bytes) -> Result<Data, FrameError> {
        require_stream(&head)?;
        let data = strip_padding(&head, payload, 0)?;
        Ok(Data {
            stream_id: head.stream_id,
            end_stream: head.has_flag(flags::END_STREAM),
            data,
            flow_len: head.length,
        })
    }

    /// Appends the frame (unpadded) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        Self::encode_head(self.stream_id, self.data.len(), self.end_stream, dst);
        dst.extend_from_slice(&self.data);
    }

    /// Appends only the frame header of an unpadded DATA frame carrying `len` octets, for
    /// callers that write the payload separately (vectored IO).
    pub fn encode_head(stream_id: StreamId, len: usize, end_stream: bool, dst: &mut BytesMut) {
        let flags = if end_stream { flags::END_STREAM } else { 0 };
        Head::new(FrameType::DATA, flags, stream_id, payload_len(len)).encode(dst);
    }
}
