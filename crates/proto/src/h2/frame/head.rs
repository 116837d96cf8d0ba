//! The 9-octet frame header (RFC 9113 §4.1).

use bytes::{BufMut, BytesMut};

use super::FrameType;
use crate::h2::StreamId;

/// Length of the frame header in octets.
pub const HEAD_LEN: usize = 9;

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Payload length (24 bits).
    pub length: u32,
    /// Frame type.
    pub kind: FrameType,
    /// Flags.
    pub flags: u8,
    /// Stream identifier, reserved bit cleared.
    pub stream_id: StreamId,
}

impl Head {
    /// A header with the given fields.
    pub fn new(kind: FrameType, flags: u8, stream_id: StreamId, length: u32) -> Self {
        Head {
            length,
            kind,
            flags,
            stream_id,
        }
    }

    /// Parses the first 9 octets of `src`, or returns `None` if there are fewer.
    pub fn parse(src: &[u8]) -> Option<Head> {
        let raw: &[u8; HEAD_LEN] = src.get(..HEAD_LEN)?.try_into().ok()?;
        Some(Head {
            length: u32::from_be_bytes([0, raw[0], raw[1], raw[2]]),
            kind: FrameType::from(raw[3]),
            flags: raw[4],
            stream_id: StreamId::new(u32::from_be_bytes([raw[5], raw[6], raw[7], raw[8]])),
        })
    }

    /// Appends the header to `dst`. The length must fit 24 bits.
    pub fn encode(&self, dst: &mut BytesMut) {
        debug_assert!(
            self.length < 1 << 24,
            "frame length {} over 24 bits",
            self.length
        );
        // One copy of all nine octets: four small puts cost more than the frame's payload.
        let len = self.length.to_be_bytes();
        let id = self.stream_id.as_u32().to_be_bytes();
        dst.put_slice(&[
            len[1],
            len[2],
            len[3],
            self.kind.as_u8(),
            self.flags,
            id[0],
            id[1],
            id[2],
            id[3],
        ]);
    }

    /// True when `flag` is set.
    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reserved_bit_set_is_ignored() {
        let raw = [0, 0, 8, 6, 1, 0x80, 0, 0, 0];
        let head = Head::parse(&raw).unwrap();
        assert_eq!(head.length, 8);
        assert_eq!(head.kind, FrameType::PING);
        assert_eq!(head.flags, 1);
        assert!(head.stream_id.is_zero());
    }

    #[test]
    fn parse_short_input_is_none() {
        assert_eq!(Head::parse(&[0; 8]), None);
    }

    #[test]
    fn encode_then_parse_roundtrips() {
        let head = Head::new(FrameType::DATA, 0x9, StreamId::new(7), 0xabcdef);
        let mut buf = BytesMut::new();
        head.encode(&mut buf);
        assert_eq!(buf.len(), HEAD_LEN);
        assert_eq!(Head::parse(&buf), Some(head));
    }
}
