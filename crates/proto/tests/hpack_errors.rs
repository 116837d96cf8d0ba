//! One malformed-input test per HPACK decoding error, and the memory and synchronisation
//! guarantees around oversized header lists (RFC 7541 §4, §5, §6; RFC 9113 §6.5.2).

use bytes::{Bytes, BytesMut};
use pullhttp_proto::h2::hpack::{Decoder, DecoderError, Encoder, FieldRef, HeaderField};

fn decode(decoder: &mut Decoder, block: &[u8]) -> Result<Vec<HeaderField>, DecoderError> {
    let mut out = Vec::new();
    decoder
        .decode(&Bytes::copy_from_slice(block), |f| out.push(f))
        .map(|()| out)
}

fn error_of(block: &[u8]) -> DecoderError {
    decode(&mut Decoder::default(), block).expect_err("block is malformed")
}

#[test]
fn decode_integer_over_u32_is_integer_overflow() {
    // Indexed field, 7-bit prefix full, then 2^32 worth of continuation.
    let block = [0xff, 0x81, 0xff, 0xff, 0xff, 0x0f];
    assert_eq!(error_of(&block), DecoderError::IntegerOverflow);
    assert!(DecoderError::IntegerOverflow.is_compression_error());
}

#[test]
fn decode_integer_with_six_continuation_bytes_is_integer_overflow() {
    let block = [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
    assert_eq!(error_of(&block), DecoderError::IntegerOverflow);
}

#[test]
fn decode_string_longer_than_block_is_truncated() {
    // Literal with indexing, new name of length 5 but one octet present.
    assert_eq!(error_of(&[0x40, 0x05, b'a']), DecoderError::Truncated);
    // Literal whose value length is missing altogether.
    assert_eq!(error_of(&[0x40, 0x01, b'a']), DecoderError::Truncated);
    // Integer cut inside its continuation bytes.
    assert_eq!(error_of(&[0xff]), DecoderError::Truncated);
}

#[test]
fn decode_index_zero_is_invalid_index() {
    assert_eq!(error_of(&[0x80]), DecoderError::InvalidIndex { index: 0 });
}

#[test]
fn decode_index_past_dynamic_table_is_invalid_index() {
    assert_eq!(error_of(&[0xbe]), DecoderError::InvalidIndex { index: 62 });
    // A literal naming a missing entry.
    assert_eq!(
        error_of(&[0x7e, 0x00]),
        DecoderError::InvalidIndex { index: 62 }
    );
}

#[test]
fn decode_huffman_string_with_eos_is_huffman_eos() {
    // Literal without indexing, name `:path` (index 4), Huffman value of 32 one bits.
    let block = [0x04, 0x84, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(error_of(&block), DecoderError::HuffmanEos);
}

#[test]
fn decode_huffman_padding_over_seven_bits_is_huffman_padding() {
    // 'a' (00011) followed by 11 one bits.
    let block = [0x04, 0x82, 0x1f, 0xff];
    assert_eq!(error_of(&block), DecoderError::HuffmanPadding);
}

#[test]
fn decode_huffman_padding_of_zeros_is_huffman_padding() {
    let block = [0x04, 0x81, 0x18];
    assert_eq!(error_of(&block), DecoderError::HuffmanPadding);
}

#[test]
fn decode_size_update_after_field_is_not_at_start() {
    assert_eq!(error_of(&[0x82, 0x20]), DecoderError::SizeUpdateNotAtStart);
}

#[test]
fn decode_two_size_updates_at_start_are_accepted() {
    let mut decoder = Decoder::default();
    let fields = decode(&mut decoder, &[0x20, 0x3f, 0xe1, 0x1f, 0x82]).unwrap();
    assert_eq!(fields.len(), 1);
    assert_eq!(decoder.table_capacity(), 4096);
}

#[test]
fn decode_size_update_above_setting_is_too_large() {
    // 4097 = 31 + 4066 = 0x3f 0xe2 0x1f.
    assert_eq!(
        error_of(&[0x3f, 0xe2, 0x1f]),
        DecoderError::SizeUpdateTooLarge {
            requested: 4097,
            max: 4096
        }
    );
}

#[test]
fn decode_after_lowered_setting_without_update_is_size_update_missing() {
    let mut decoder = Decoder::default();
    decoder.set_max_table_size(100);
    assert_eq!(
        decode(&mut decoder, &[0x82]),
        Err(DecoderError::SizeUpdateMissing)
    );
}

#[test]
fn decode_after_lowered_setting_with_update_succeeds() {
    let mut decoder = Decoder::default();
    decoder.set_max_table_size(100);
    // Size update to 100 (0x3f 0x45), then :method GET.
    assert_eq!(decode(&mut decoder, &[0x3f, 0x45, 0x82]).unwrap().len(), 1);
    assert_eq!(decoder.table_capacity(), 100);
}

#[test]
fn decode_after_raised_setting_needs_no_update() {
    let mut decoder = Decoder::default();
    decoder.set_max_table_size(8192);
    assert_eq!(decode(&mut decoder, &[0x82]).unwrap().len(), 1);
}

#[test]
fn decode_after_compression_error_stays_failed() {
    let mut decoder = Decoder::default();
    assert!(decode(&mut decoder, &[0x80]).is_err());
    assert_eq!(
        decode(&mut decoder, &[0x82]),
        Err(DecoderError::InvalidIndex { index: 0 })
    );
}

/// A block inserting `count` entries of `size` octets each (name `x-N`, padded value).
fn inserting_block(encoder: &mut Encoder, count: usize, value_len: usize) -> BytesMut {
    let names: Vec<String> = (0..count).map(|i| format!("x-{i}")).collect();
    let value = vec![b'v'; value_len];
    let mut wire = BytesMut::new();
    encoder.encode(
        names.iter().map(|n| FieldRef::new(n.as_bytes(), &value)),
        &mut wire,
    );
    wire
}

#[test]
fn decode_list_over_limit_is_header_list_too_large_and_table_stays_in_sync() {
    let mut encoder = Encoder::new();
    let mut decoder = Decoder::default();
    decoder.set_max_header_list_size(200);
    // Five 100-octet fields: 500 octets decoded, over the 200 limit.
    let wire = inserting_block(&mut encoder, 5, 64);
    let result = decode(&mut decoder, &wire);
    assert_eq!(result, Err(DecoderError::HeaderListTooLarge { limit: 200 }));
    assert!(!DecoderError::HeaderListTooLarge { limit: 200 }.is_compression_error());
    assert_eq!(decoder.table_size(), encoder.table_size());
    // The next block refers to entries inserted by the rejected one and decodes exactly.
    let mut wire = BytesMut::new();
    let value = vec![b'v'; 64];
    encoder.encode([FieldRef::new(b"x-4", &value)], &mut wire);
    assert_eq!(
        wire.len(),
        1,
        "an indexed reference to the rejected block's entry"
    );
    let fields = decode(&mut decoder, &wire).unwrap();
    assert_eq!(&fields[0].name[..], b"x-4");
}

#[test]
fn decode_indexed_amplification_stops_emitting_at_limit() {
    // One 4,000-octet entry, then a 16 KiB block that references it 16,384 times: 65 MB if
    // materialised. The decoder emits at most the limit and reports the list as too large.
    let mut decoder = Decoder::default();
    // Literal with incremental indexing, new name "big", raw value of 3,960 octets
    // (length 127 + 3,833 = 0x7f 0xf9 0x1d).
    let mut setup = vec![0x40, 0x03, b'b', b'i', b'g', 0x7f, 0xf9, 0x1d];
    setup.extend(std::iter::repeat_n(b'a', 3960));
    decode(&mut decoder, &setup).unwrap();
    assert_eq!(decoder.table_size(), 3 + 3960 + 32);
    let block = vec![0xbe; 16 * 1024];
    let mut emitted = 0usize;
    let result = decoder.decode(&Bytes::from(block), |f| emitted += f.size());
    assert_eq!(
        result,
        Err(DecoderError::HeaderListTooLarge { limit: 16 * 1024 })
    );
    assert!(emitted <= 16 * 1024, "emitted {emitted} octets");
}

#[test]
fn decode_oversized_literal_without_indexing_is_skipped_without_decoding() {
    // A literal too large for the list is not decoded: even invalid Huffman inside it goes
    // unread, and the table (untouched by this representation) stays in sync.
    let mut decoder = Decoder::default();
    decoder.set_max_header_list_size(64);
    let mut block = vec![0x04, 0xff, 0x81, 0x01]; // :path, Huffman, length 127 + 129 = 256
    block.extend(std::iter::repeat_n(0xff, 256));
    assert_eq!(
        decode(&mut decoder, &block),
        Err(DecoderError::HeaderListTooLarge { limit: 64 })
    );
    assert_eq!(decode(&mut decoder, &[0x82]).unwrap().len(), 1);
}

#[test]
fn decode_never_indexed_literal_is_marked_and_not_inserted() {
    let mut decoder = Decoder::default();
    // C.2.3: password: secret, never indexed.
    let block = b"\x10\x08password\x06secret";
    let fields = decode(&mut decoder, block).unwrap();
    assert!(fields[0].never_indexed);
    assert_eq!(decoder.table_size(), 0);
}

#[test]
fn display_names_rfc_section() {
    let text = DecoderError::HuffmanPadding.to_string();
    assert!(text.contains("RFC 7541 §5.2"), "{text}");
}
