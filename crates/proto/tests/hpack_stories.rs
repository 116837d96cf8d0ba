//! The shared HPACK stories (hpack-test-case): every encoded story decodes to exactly its
//! header list, and every `raw-data` story round-trips through our encoder and decoder.

use bytes::{Bytes, BytesMut};
use pullhttp_proto::h2::hpack::{Decoder, Encoder, FieldRef, HeaderField};
use pullhttp_test_support::fixtures::{self, Story};

const EXPECTED_FOLDERS: usize = 8;
const EXPECTED_STORIES: usize = 254;

fn decode_block(decoder: &mut Decoder, wire: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    decoder
        .decode(&Bytes::copy_from_slice(wire), |f: HeaderField| {
            out.push((f.name.to_vec(), f.value.to_vec()))
        })
        .unwrap_or_else(|e| panic!("decode failed: {e}"));
    out
}

fn decode_story(story: &Story) {
    let mut decoder = Decoder::default();
    decoder.set_max_header_list_size(usize::MAX);
    for (n, case) in story.cases.iter().enumerate() {
        decoder.set_max_table_size(case.header_table_size.unwrap_or(4096));
        let wire = case
            .wire
            .as_ref()
            .expect("encoded stories carry wire bytes");
        let got = decode_block(&mut decoder, wire);
        assert_eq!(got, case.headers, "{} case {n}", story.path.display());
    }
}

fn roundtrip_story(story: &Story, peer_table_size: usize) {
    let mut encoder = Encoder::new();
    let mut decoder = Decoder::default();
    decoder.set_max_header_list_size(usize::MAX);
    encoder.set_max_table_size(peer_table_size);
    decoder.set_max_table_size(peer_table_size);
    for (n, case) in story.cases.iter().enumerate() {
        let mut wire = BytesMut::new();
        encoder.encode(
            case.headers.iter().map(|(k, v)| FieldRef::new(k, v)),
            &mut wire,
        );
        let got = decode_block(&mut decoder, &wire);
        assert_eq!(got, case.headers, "{} case {n}", story.path.display());
        assert_eq!(encoder.table_size(), decoder.table_size());
    }
}

#[test]
fn decode_all_shared_stories_match_header_lists() {
    let folders = fixtures::hpack_folders();
    assert_eq!(
        folders.len(),
        EXPECTED_FOLDERS,
        "expected {EXPECTED_FOLDERS} story folders in {}",
        fixtures::hpack_dir().display()
    );
    let (mut decoded, mut roundtripped) = (0, 0);
    for folder in &folders {
        let stories = fixtures::load_folder(folder);
        assert!(!stories.is_empty(), "{} holds no story", folder.display());
        for story in &stories {
            if folder.ends_with("raw-data") {
                roundtrip_story(story, 4096);
                roundtripped += 1;
            } else {
                decode_story(story);
                decoded += 1;
            }
        }
    }
    println!("{decoded} encoded stories decoded, {roundtripped} raw-data stories round-tripped");
    println!("{} stories decoded in all", decoded + roundtripped);
    assert_eq!(decoded + roundtripped, EXPECTED_STORIES);
    assert_eq!(roundtripped, 32);
}

#[test]
fn roundtrip_raw_data_with_small_and_zero_tables_preserves_lists() {
    let raw = fixtures::hpack_dir().join("raw-data");
    for story in fixtures::load_folder(&raw) {
        for size in [0, 100, 256, 1024] {
            roundtrip_story(&story, size);
        }
    }
}

#[test]
fn encode_raw_data_compresses_below_half_of_plain_size() {
    let raw = fixtures::hpack_dir().join("raw-data");
    let (mut plain, mut encoded) = (0usize, 0usize);
    for story in fixtures::load_folder(&raw) {
        let mut encoder = Encoder::new();
        for case in &story.cases {
            let mut wire = BytesMut::new();
            encoder.encode(
                case.headers.iter().map(|(k, v)| FieldRef::new(k, v)),
                &mut wire,
            );
            plain += case
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 4)
                .sum::<usize>();
            encoded += wire.len();
        }
    }
    println!("raw-data: {plain} plain octets, {encoded} encoded");
    assert!(encoded * 2 < plain, "{encoded} encoded vs {plain} plain");
}
