//! Fuzzes the HPACK decoder with a sequence of blocks sharing one context.
//!
//! Input: byte 0 picks the acknowledged table size and byte 1 the header-list limit; the rest
//! is split into blocks at each 0xF5 0xF5 pair. Invariants checked on every block:
//! - no panic, whatever the input;
//! - the fields emitted never exceed the header-list limit;
//! - a block that decodes re-encodes with our encoder and decodes again to the same fields;
//! - after a compression error, the decoder stays failed.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use pullhttp_proto::h2::hpack::{Decoder, Encoder, FieldRef};

fuzz_target!(|data: &[u8]| {
    let [table, limit, rest @ ..] = data else {
        return;
    };
    let table_size = usize::from(*table) * 32;
    let limit = 64 + usize::from(*limit) * 64;
    let mut decoder = Decoder::new(4096);
    decoder.set_max_table_size(table_size);
    decoder.set_max_header_list_size(limit);
    let mut failed = false;
    for block in split_blocks(rest) {
        let mut fields = Vec::new();
        let result = decoder.decode(&Bytes::copy_from_slice(block), |f| fields.push(f));
        let emitted: usize = fields.iter().map(|f| f.size()).sum();
        assert!(emitted <= limit, "emitted {emitted} over limit {limit}");
        assert!(!failed || result.is_err(), "decoder recovered after a compression error");
        match result {
            Ok(()) => {
                let mut encoder = Encoder::new();
                let mut wire = BytesMut::new();
                encoder.encode(
                    fields.iter().map(|f| FieldRef {
                        name: &f.name,
                        value: &f.value,
                        sensitive: f.never_indexed,
                    }),
                    &mut wire,
                );
                let mut again = Vec::new();
                let mut check = Decoder::default();
                check.set_max_header_list_size(usize::MAX);
                check.decode(&wire.freeze(), |f| again.push(f)).expect("our own block decodes");
                assert_eq!(again.len(), fields.len());
                for (a, b) in again.iter().zip(&fields) {
                    assert_eq!((&a.name, &a.value), (&b.name, &b.value));
                }
            }
            Err(e) if e.is_compression_error() => failed = true,
            Err(_) => {}
        }
    }
});

fn split_blocks(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let data = rest?;
        match data.windows(2).position(|w| w == [0xf5, 0xf5]) {
            Some(i) => {
                rest = Some(&data[i + 2..]);
                Some(&data[..i])
            }
            None => {
                rest = None;
                Some(data)
            }
        }
    })
}
