//! Fuzzes the frame reader with arbitrary bytes delivered in arbitrary chunks.
//!
//! Input: byte 0 sets the chunk size (1..=256); the rest is the byte stream. Invariants:
//! - no panic, whatever the input;
//! - every frame returned consumed input, and the reader never holds more than its field
//!   block limit;
//! - every frame returned re-encodes and decodes to the same frame (padding aside);
//! - after a connection error the reader stays failed; a stream error consumes its frame.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use pullhttp_proto::h2::frame::{
    DEFAULT_MAX_HEADER_BLOCK_SIZE, Data, Frame, FrameError, FrameReader, MAX_MAX_FRAME_SIZE,
};

fuzz_target!(|data: &[u8]| {
    let [chunk, stream @ ..] = data else {
        return;
    };
    let chunk = usize::from(*chunk) + 1;
    let mut reader = FrameReader::new();
    let mut src = BytesMut::new();
    for piece in stream.chunks(chunk) {
        src.extend_from_slice(piece);
        loop {
            let before = src.len();
            match reader.decode(&mut src) {
                Ok(Some(frame)) => {
                    assert!(src.len() < before, "a frame consumed nothing");
                    check_roundtrip(&frame);
                }
                Ok(None) => break,
                Err(FrameError::Connection(_)) => {
                    assert!(reader.decode(&mut src).is_err(), "connection error not sticky");
                    return;
                }
                Err(FrameError::Stream { .. }) => {
                    assert!(src.len() < before, "a stream error consumed nothing");
                }
            }
            assert!(reader.buffered() <= DEFAULT_MAX_HEADER_BLOCK_SIZE);
        }
    }
});

fn check_roundtrip(frame: &Frame) {
    // Padding is not re-encoded: compare DATA by content.
    let expected = match frame {
        Frame::Data(d) => Frame::Data(Data::new(d.stream_id, d.data.clone(), d.end_stream)),
        other => other.clone(),
    };
    let mut buf = BytesMut::new();
    expected.encode(&mut buf);
    let mut reader = FrameReader::new();
    reader.set_max_frame_size(MAX_MAX_FRAME_SIZE);
    reader.set_max_header_block_size(usize::MAX);
    let again = reader
        .decode(&mut buf)
        .expect("our encoding is valid")
        .expect("our encoding is complete");
    assert_eq!(again, expected);
    assert!(buf.is_empty());
}
