//! Prefix-coded integers (RFC 7541 §5.1).
//!
//! ```text
//!   0   1   2   3   4   5   6   7
//! +---+---+---+---+---+---+---+---+
//! | ? | ? | ? | 1   1   1   1   1 |   N-bit prefix all ones: value continues
//! +---+---+---+-------------------+
//! | 1 |    Value-(2^N-1) LSB      |   continuation bytes, 7 bits each,
//! +---+---------------------------+   high bit set while more follow
//! | 0 |    Value-(2^N-1) MSB      |
//! +---+---------------------------+
//! ```
//!
//! Decoding accepts at most five continuation bytes and values that fit a `u32`; anything
//! longer is [`DecoderError::IntegerOverflow`]. No legitimate HPACK value (an index, a string
//! length, a table size) needs more.

use bytes::{BufMut, BytesMut};

use super::DecoderError;

/// The most continuation bytes a decoded integer may use.
const MAX_CONTINUATION_BYTES: usize = 5;

/// Decodes an integer whose prefix occupies the low `prefix_bits` bits of `buf[*pos]`, and
/// advances `pos` past it.
///
/// The caller guarantees `*pos < buf.len()` and `1 <= prefix_bits <= 8`.
pub(super) fn decode(buf: &[u8], pos: &mut usize, prefix_bits: u8) -> Result<u32, DecoderError> {
    let mask = (1u32 << prefix_bits) - 1;
    let first = u32::from(buf[*pos]) & mask;
    *pos += 1;
    if first < mask {
        return Ok(first);
    }
    let mut value = u64::from(mask);
    for shift in (0..MAX_CONTINUATION_BYTES).map(|i| 7 * i) {
        let Some(&byte) = buf.get(*pos) else {
            return Err(DecoderError::Truncated);
        };
        *pos += 1;
        value += u64::from(byte & 0x7f) << shift;
        if value > u64::from(u32::MAX) {
            return Err(DecoderError::IntegerOverflow);
        }
        if byte & 0x80 == 0 {
            // Checked just above: value fits a u32.
            return u32::try_from(value).map_err(|_| DecoderError::IntegerOverflow);
        }
    }
    Err(DecoderError::IntegerOverflow)
}

/// Encodes `value` with an N-bit prefix; `flags` supplies the bits above the prefix in the
/// first byte.
pub(super) fn encode(value: usize, prefix_bits: u8, flags: u8, dst: &mut BytesMut) {
    let mask = (1usize << prefix_bits) - 1;
    if value < mask {
        dst.put_u8(flags | low_byte(value));
        return;
    }
    dst.put_u8(flags | low_byte(mask));
    let mut rest = value - mask;
    while rest >= 0x80 {
        dst.put_u8(0x80 | low_byte(rest & 0x7f));
        rest >>= 7;
    }
    dst.put_u8(low_byte(rest));
}

/// The low eight bits of `value` (callers have masked it already).
fn low_byte(value: usize) -> u8 {
    value.to_le_bytes()[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(value: usize, prefix: u8) -> u32 {
        let mut buf = BytesMut::new();
        encode(value, prefix, 0, &mut buf);
        let mut pos = 0;
        let out = decode(&buf, &mut pos, prefix).unwrap();
        assert_eq!(pos, buf.len());
        out
    }

    #[test]
    fn encode_rfc7541_c1_examples_produce_exact_bytes() {
        let mut buf = BytesMut::new();
        encode(10, 5, 0, &mut buf);
        assert_eq!(&buf[..], [0x0a]); // C.1.1
        buf.clear();
        encode(1337, 5, 0, &mut buf);
        assert_eq!(&buf[..], [0x1f, 0x9a, 0x0a]); // C.1.2
        buf.clear();
        encode(42, 8, 0, &mut buf);
        assert_eq!(&buf[..], [0x2a]); // C.1.3
    }

    #[test]
    fn decode_values_up_to_u32_max_roundtrip() {
        for prefix in 1..=8 {
            for value in [
                0usize,
                1,
                30,
                31,
                127,
                128,
                255,
                1337,
                1 << 20,
                u32::MAX as usize,
            ] {
                assert_eq!(roundtrip(value, prefix) as usize, value);
            }
        }
    }

    #[test]
    fn decode_value_above_u32_is_overflow() {
        // 2^32 with a 5-bit prefix: 31 + (2^32 - 31).
        let mut buf = BytesMut::new();
        encode((u32::MAX as usize) + 1, 5, 0, &mut buf);
        assert_eq!(decode(&buf, &mut 0, 5), Err(DecoderError::IntegerOverflow));
    }

    #[test]
    fn decode_sixth_continuation_byte_is_overflow() {
        // Leading zero-valued continuation bytes keep the value small but the encoding long.
        let buf = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(decode(&buf, &mut 0, 5), Err(DecoderError::IntegerOverflow));
        let ok = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(decode(&ok, &mut 0, 5), Ok(31));
    }

    #[test]
    fn decode_missing_continuation_is_truncated() {
        assert_eq!(
            decode(&[0x1f, 0x9a], &mut 0, 5),
            Err(DecoderError::Truncated)
        );
    }
}
