//! Property: any sequence of header lists, with the peer's table size changing between
//! blocks, round-trips through our encoder and decoder, and both tables stay equal.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use pullhttp_proto::h2::hpack::{Decoder, Encoder, FieldRef};

fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::sample::select(vec![
            b":method".to_vec(),
            b":path".to_vec(),
            b":status".to_vec(),
            b"content-type".to_vec(),
            b"cookie".to_vec(),
            b"authorization".to_vec(),
            b"x-custom".to_vec(),
        ]),
        proptest::collection::vec(
            proptest::sample::select(b"abcdefghijklmnopqrstuvwxyz-0123456789".to_vec()),
            1..40
        ),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::sample::select(vec![
            b"GET".to_vec(),
            b"/".to_vec(),
            b"200".to_vec(),
            Vec::new()
        ]),
        proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

/// A block: an optional new peer table size, then fields (name, value, sensitive).
type Block = (Option<usize>, Vec<(Vec<u8>, Vec<u8>, bool)>);

fn block() -> impl Strategy<Value = Block> {
    (
        proptest::option::weighted(0.2, 0usize..6000),
        proptest::collection::vec((name(), value(), proptest::bool::weighted(0.1)), 0..30),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn roundtrip_random_lists_and_table_sizes_preserve_fields(blocks in proptest::collection::vec(block(), 1..12)) {
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::default();
        decoder.set_max_header_list_size(usize::MAX);
        for (table_size, fields) in &blocks {
            if let Some(size) = *table_size {
                encoder.set_max_table_size(size);
                decoder.set_max_table_size(size);
            }
            let mut wire = BytesMut::new();
            encoder.encode(
                fields.iter().map(|(n, v, s)| FieldRef { name: n, value: v, sensitive: *s }),
                &mut wire,
            );
            let mut out = Vec::new();
            decoder.decode(&Bytes::from(wire.to_vec()), |f| out.push(f)).unwrap();
            prop_assert_eq!(out.len(), fields.len());
            for (got, (n, v, s)) in out.iter().zip(fields) {
                prop_assert_eq!(&got.name[..], &n[..]);
                prop_assert_eq!(&got.value[..], &v[..]);
                if *s {
                    prop_assert!(got.never_indexed);
                }
            }
            prop_assert_eq!(encoder.table_size(), decoder.table_size());
            prop_assert!(encoder.table_size() <= 4096);
        }
    }

    #[test]
    fn decode_arbitrary_bytes_never_panics(blocks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..8)) {
        let mut decoder = Decoder::default();
        for b in blocks {
            let mut emitted = 0usize;
            let _ = decoder.decode(&Bytes::from(b), |f| emitted += f.size());
            prop_assert!(emitted <= decoder.max_header_list_size());
        }
    }
}
