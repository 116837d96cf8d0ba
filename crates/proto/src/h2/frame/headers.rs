//! HEADERS frames (RFC 9113 §6.2) and the priority fields they may carry (§5.3.2, deprecated
//! but still parsed).
//!
//! ```text
//! +---------------+
//! |Pad Length? (8)|                               with PADDED
//! +-+-------------+-----------------------------------------------+
//! |E|                 Stream Dependency? (31)                     |  with PRIORITY
//! +-+-------------+-----------------------------------------------+
//! |  Weight? (8)  |                                                  with PRIORITY
//! +-+-------------+-----------------------------------------------+
//! |                   Field Block Fragment (*)                    ...
//! +---------------------------------------------------------------+
//! |                           Padding (*)                       ...
//! +---------------------------------------------------------------+
//! ```
//!
//! Rules: stream id not 0 (PROTOCOL_ERROR); payload long enough for the flagged fields
//! (FRAME_SIZE_ERROR); padding shorter than the payload (PROTOCOL_ERROR). A self-dependency
//! is a stream error the connection reports after decoding the block, because the block must
//! still reach HPACK ([`Headers::is_self_dependent`]).

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{FrameError, FrameType, Head, flags, payload_len, require_stream, strip_padding};
use crate::h2::StreamId;

/// The priority fields of HEADERS and PRIORITY frames (RFC 9113 §5.3.2, RFC 7540 §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrioritySpec {
    /// The stream this one depends on.
    pub dependency: StreamId,
    /// The E flag: exclusive dependency.
    pub exclusive: bool,
    /// Weight minus one, as on the wire (0..=255 means 1..=256).
    pub weight: u8,
}

impl PrioritySpec {
    /// Length on the wire.
    pub const LEN: usize = 5;

    pub(super) fn parse(src: &mut Bytes) -> PrioritySpec {
        let word = src.get_u32();
        PrioritySpec {
            dependency: StreamId::new(word),
            exclusive: word & 0x8000_0000 != 0,
            weight: src.get_u8(),
        }
    }

    pub(super) fn encode(&self, dst: &mut BytesMut) {
        let e = if self.exclusive { 0x8000_0000 } else { 0 };
        dst.put_u32(e | self.dependency.as_u32());
        dst.put_u8(self.weight);
    }
}

/// A HEADERS frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    /// The stream.
    pub stream_id: StreamId,
    /// END_STREAM.
    pub end_stream: bool,
    /// END_HEADERS: the block is complete (always true for frames from the reader).
    pub end_headers: bool,
    /// Priority fields, if the PRIORITY flag was set.
    pub priority: Option<PrioritySpec>,
    /// The field block (a fragment when `end_headers` is false), padding removed.
    pub block: Bytes,
}

impl Headers {
    /// A HEADERS frame with a complete block and no priority.
    pub fn new(stream_id: StreamId, block: Bytes, end_stream: bool) -> Self {
        Headers {
            stream_id,
            end_stream,
            end_headers: true,
            priority: None,
            block,
        }
    }

    /// True when the priority fields make the stream depend on itself, a stream error of
    /// type PROTOCOL_ERROR (§5.3.1).
    pub fn is_self_dependent(&self) -> bool {
        self.priority
            .is_some_and(|p| p.dependency == self.stream_id)
    }

    pub(super) fn decode(head: Head, payload: Bytes) -> Result<Headers, FrameError> {
        require_stream(&head)?;
        let has_priority = head.has_flag(flags::PRIORITY);
        let fixed = if has_priority { PrioritySpec::LEN } else { 0 };
        let mut block = strip_padding(&head, payload, fixed)?;
        let priority = has_priority.then(|| PrioritySpec::parse(&mut block));
        Ok(Headers {
            stream_id: head.stream_id,
            end_stream: head.has_flag(flags::END_STREAM),
            end_headers: head.has_flag(flags::END_HEADERS),
            priority,
            block,
        })
    }

    fn flags(&self) -> u8 {
        let mut f = 0;
        if self.end_stream {
            f |= flags::END_STREAM;
        }
        if self.priority.is_some() {
            f |= flags::PRIORITY;
        }
        f
    }

    /// Appends this frame as one HEADERS frame, END_HEADERS as stored.
    pub(super) fn encode_single(&self, dst: &mut BytesMut) {
        let mut f = self.flags();
        if self.end_headers {
            f |= flags::END_HEADERS;
        }
        let fixed = if self.priority.is_some() {
            PrioritySpec::LEN
        } else {
            0
        };
        let len = payload_len(fixed + self.block.len());
        Head::new(FrameType::HEADERS, f, self.stream_id, len).encode(dst);
        if let Some(p) = &self.priority {
            p.encode(dst);
        }
        dst.extend_from_slice(&self.block);
    }

    /// Appends the complete block as a HEADERS frame followed by as many CONTINUATION frames
    /// as `max_frame_size` requires (§4.3), END_HEADERS on the last.
    pub fn encode(&self, max_frame_size: u32, dst: &mut BytesMut) {
        let fixed = if self.priority.is_some() {
            PrioritySpec::LEN
        } else {
            0
        };
        let max = usize::try_from(max_frame_size).unwrap_or(usize::MAX);
        let first_len = self.block.len().min(max.saturating_sub(fixed));
        let mut f = self.flags();
        if first_len == self.block.len() {
            f |= flags::END_HEADERS;
        }
        Head::new(
            FrameType::HEADERS,
            f,
            self.stream_id,
            payload_len(fixed + first_len),
        )
        .encode(dst);
        if let Some(p) = &self.priority {
            p.encode(dst);
        }
        dst.extend_from_slice(&self.block[..first_len]);
        super::continuation::encode_rest(self.stream_id, &self.block[first_len..], max, dst);
    }
}
