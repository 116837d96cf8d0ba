//! Encoder choices: never-indexed literals, the 4 KiB cap, size updates on SETTINGS changes.

use bytes::{Bytes, BytesMut};
use http::{HeaderName, HeaderValue};
use pullhttp_proto::h2::hpack::{Decoder, Encoder, FieldRef, HeaderField, MAX_TABLE_SIZE};

fn roundtrip(
    encoder: &mut Encoder,
    decoder: &mut Decoder,
    fields: &[FieldRef<'_>],
) -> (BytesMut, Vec<HeaderField>) {
    let mut wire = BytesMut::new();
    encoder.encode(fields.iter().copied(), &mut wire);
    let mut out = Vec::new();
    decoder
        .decode(&Bytes::copy_from_slice(&wire), |f| out.push(f))
        .unwrap();
    (wire, out)
}

#[test]
fn encode_sensitive_header_value_is_never_indexed() {
    let (mut enc, mut dec) = (Encoder::new(), Decoder::default());
    let name = HeaderName::from_static("x-secret");
    let mut value = HeaderValue::from_static("a-long-secret-value-that-is-not-short");
    value.set_sensitive(true);
    let (wire, out) = roundtrip(&mut enc, &mut dec, &[FieldRef::from_header(&name, &value)]);
    assert_eq!(wire[0] & 0xf0, 0x10, "never-indexed representation");
    assert!(out[0].never_indexed);
    assert_eq!(enc.table_size(), 0);
}

#[test]
fn encode_short_authorization_and_cookie_are_never_indexed() {
    let (mut enc, mut dec) = (Encoder::new(), Decoder::default());
    let (_, out) = roundtrip(
        &mut enc,
        &mut dec,
        &[
            FieldRef::new(b"authorization", b"Basic dTpw"),
            FieldRef::new(b"cookie", b"id=1"),
        ],
    );
    assert!(out.iter().all(|f| f.never_indexed));
    assert_eq!(enc.table_size(), 0);
    // A long cookie is worth indexing.
    let long = [b'c'; 40];
    let (_, out) = roundtrip(&mut enc, &mut dec, &[FieldRef::new(b"cookie", &long)]);
    assert!(!out[0].never_indexed);
    assert_eq!(enc.table_size(), 6 + 40 + 32);
}

#[test]
fn encode_repeated_field_uses_one_octet_index() {
    let (mut enc, mut dec) = (Encoder::new(), Decoder::default());
    let field = [FieldRef::new(b"x-request-id", b"abc")];
    roundtrip(&mut enc, &mut dec, &field);
    let (wire, _) = roundtrip(&mut enc, &mut dec, &field);
    assert_eq!(&wire[..], [0xbe]);
}

#[test]
fn encode_table_capped_at_4k_even_if_peer_allows_more() {
    let (mut enc, mut dec) = (Encoder::new(), Decoder::default());
    // The peer raises its SETTINGS_HEADER_TABLE_SIZE: its decoder accepts up to 64 KiB, but
    // the table only grows if our encoder sends a size update, which it does not.
    enc.set_max_table_size(65536);
    dec.set_max_table_size(65536);
    assert_eq!(enc.table_capacity(), MAX_TABLE_SIZE);
    let value = [b'v'; 1000];
    let names: Vec<String> = (0..10).map(|i| format!("h{i}")).collect();
    let fields: Vec<FieldRef<'_>> = names
        .iter()
        .map(|n| FieldRef::new(n.as_bytes(), &value))
        .collect();
    roundtrip(&mut enc, &mut dec, &fields);
    assert!(enc.table_size() <= MAX_TABLE_SIZE);
    assert_eq!(enc.table_size(), dec.table_size());
}

#[test]
fn encode_after_peer_lowers_table_emits_size_update_first() {
    let (mut enc, mut dec) = (Encoder::new(), Decoder::default());
    roundtrip(&mut enc, &mut dec, &[FieldRef::new(b"x-a", b"1")]);
    enc.set_max_table_size(0);
    dec.set_max_table_size(0);
    let (wire, _) = roundtrip(&mut enc, &mut dec, &[FieldRef::new(b"x-a", b"1")]);
    assert_eq!(wire[0], 0x20, "size update to 0 first");
    assert_eq!((enc.table_size(), dec.table_size()), (0, 0));
}

#[test]
fn encode_after_lower_then_raise_emits_smallest_then_final() {
    let (mut enc, mut dec) = (Encoder::new(), Decoder::default());
    enc.set_max_table_size(100);
    enc.set_max_table_size(2048);
    dec.set_max_table_size(100);
    dec.set_max_table_size(2048);
    let (wire, out) = roundtrip(&mut enc, &mut dec, &[FieldRef::new(b"x-a", b"1")]);
    // 100 = 0x3f 0x45; 2048 = 0x3f 0xe1 0x0f.
    assert_eq!(&wire[..5], [0x3f, 0x45, 0x3f, 0xe1, 0x0f]);
    assert_eq!(out.len(), 1);
    assert_eq!(dec.table_capacity(), 2048);
}

#[test]
fn encode_unchanged_setting_emits_no_size_update() {
    let (mut enc, mut dec) = (Encoder::new(), Decoder::default());
    enc.set_max_table_size(4096);
    enc.set_max_table_size(8192);
    let (wire, _) = roundtrip(&mut enc, &mut dec, &[FieldRef::new(b":method", b"GET")]);
    assert_eq!(&wire[..], [0x82]);
}

#[test]
fn encode_entry_over_three_quarters_of_table_is_not_indexed() {
    let (mut enc, mut dec) = (Encoder::new(), Decoder::default());
    let value = [b'v'; 3100];
    let (wire, _) = roundtrip(&mut enc, &mut dec, &[FieldRef::new(b"x-big", &value)]);
    assert_eq!(wire[0] & 0xf0, 0x00, "literal without indexing");
    assert_eq!(enc.table_size(), 0);
}
