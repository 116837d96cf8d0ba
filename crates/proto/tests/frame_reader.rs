//! The frame reader: incomplete input, field-block assembly over CONTINUATION frames (RFC 9113
//! §4.3, §6.10), its flood limits, and sticky connection errors.

use bytes::BytesMut;
use pullhttp_proto::h2::frame::{Frame, FrameError, FrameReader, FrameType};
use pullhttp_proto::h2::{ErrorCode, PeerError, StreamId};
use pullhttp_test_support::frames::RawFrame;

fn concat(frames: &[RawFrame]) -> Vec<u8> {
    frames.iter().flat_map(|f| f.to_vec()).collect()
}

#[test]
fn decode_byte_by_byte_yields_same_frames_as_whole_input() {
    let bytes = concat(&[
        RawFrame::settings(&[(3, 100)]),
        RawFrame::headers(1, b"\x82\x86").end_stream(),
        RawFrame::continuation(1, b"\x84").end_headers(),
        RawFrame::data(1, b"body").padded(2, 2).end_stream(),
        RawFrame::ping([1; 8]).ack(),
    ]);
    let mut whole = Vec::new();
    let (mut reader, mut src) = (FrameReader::new(), BytesMut::from(&bytes[..]));
    while let Some(f) = reader.decode(&mut src).unwrap() {
        whole.push(f);
    }
    assert!(src.is_empty());
    let mut trickled = Vec::new();
    let (mut reader, mut src) = (FrameReader::new(), BytesMut::new());
    for &b in &bytes {
        src.extend_from_slice(&[b]);
        while let Some(f) = reader.decode(&mut src).unwrap() {
            trickled.push(f);
        }
    }
    assert_eq!(whole.len(), 4);
    assert_eq!(whole, trickled);
}

#[test]
fn decode_headers_with_continuations_yields_one_assembled_frame() {
    let bytes = concat(&[
        RawFrame::headers(3, b"\x82").end_stream(),
        RawFrame::continuation(3, b"\x86"),
        RawFrame::continuation(3, b"\x84").end_headers(),
    ]);
    let mut reader = FrameReader::new();
    let mut src = BytesMut::from(&bytes[..]);
    let Some(Frame::Headers(h)) = reader.decode(&mut src).unwrap() else {
        panic!("HEADERS expected");
    };
    assert_eq!(&h.block[..], b"\x82\x86\x84");
    assert!(h.end_headers && h.end_stream);
    assert_eq!(h.stream_id, StreamId::new(3));
    assert!(!reader.is_in_header_block());
}

#[test]
fn decode_push_promise_with_continuation_yields_one_assembled_frame() {
    let bytes = concat(&[
        RawFrame::push_promise(1, 2, b"\x82"),
        RawFrame::continuation(1, b"\x87").end_headers(),
    ]);
    let mut src = BytesMut::from(&bytes[..]);
    let Some(Frame::PushPromise(p)) = FrameReader::new().decode(&mut src).unwrap() else {
        panic!("PUSH_PROMISE expected");
    };
    assert_eq!(p.promised_id, StreamId::new(2));
    assert_eq!(&p.block[..], b"\x82\x87");
}

#[test]
fn decode_other_frame_inside_block_is_protocol_error_rfc9113_s4_3() {
    for interloper in [
        RawFrame::ping([0; 8]),
        RawFrame::data(1, b"x"),
        RawFrame::new(0xfa),
    ] {
        let bytes = concat(&[RawFrame::headers(1, b"\x82"), interloper]);
        let err = FrameReader::new()
            .decode(&mut BytesMut::from(&bytes[..]))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::PROTOCOL_ERROR);
        assert!(matches!(
            err,
            FrameError::Connection(PeerError::HeaderBlockInterrupted { .. })
        ));
    }
}

#[test]
fn decode_continuation_of_other_stream_is_protocol_error_rfc9113_s6_10() {
    let bytes = concat(&[
        RawFrame::headers(1, b"\x82"),
        RawFrame::continuation(3, b"\x84").end_headers(),
    ]);
    let err = FrameReader::new()
        .decode(&mut BytesMut::from(&bytes[..]))
        .unwrap_err();
    assert_eq!(
        err,
        FrameError::Connection(PeerError::HeaderBlockInterrupted {
            frame: FrameType::CONTINUATION
        })
    );
}

#[test]
fn decode_continuation_without_block_is_protocol_error_rfc9113_s6_10() {
    let bytes = RawFrame::continuation(1, b"\x84").end_headers().to_vec();
    let err = FrameReader::new()
        .decode(&mut BytesMut::from(&bytes[..]))
        .unwrap_err();
    assert_eq!(
        err,
        FrameError::Connection(PeerError::UnexpectedContinuation)
    );
    // After a complete block, too.
    let bytes = concat(&[
        RawFrame::headers(1, b"\x82").end_headers(),
        RawFrame::continuation(1, b"\x84").end_headers(),
    ]);
    let mut reader = FrameReader::new();
    let mut src = BytesMut::from(&bytes[..]);
    assert!(reader.decode(&mut src).unwrap().is_some());
    assert_eq!(
        reader.decode(&mut src).unwrap_err().code(),
        ErrorCode::PROTOCOL_ERROR
    );
}

#[test]
fn decode_more_continuations_than_limit_is_enhance_your_calm() {
    let mut frames = vec![RawFrame::headers(1, b"\x82")];
    frames.extend((0..9).map(|_| RawFrame::continuation(1, b"")));
    let bytes = concat(&frames);
    let err = FrameReader::new()
        .decode(&mut BytesMut::from(&bytes[..]))
        .unwrap_err();
    assert_eq!(
        err,
        FrameError::Connection(PeerError::TooManyContinuations { limit: 8 })
    );
    assert_eq!(err.code(), ErrorCode::ENHANCE_YOUR_CALM);

    // Eight are within the limit.
    let mut frames = vec![RawFrame::headers(1, b"\x82")];
    frames.extend((0..7).map(|_| RawFrame::continuation(1, b"")));
    frames.push(RawFrame::continuation(1, b"").end_headers());
    let bytes = concat(&frames);
    assert!(
        FrameReader::new()
            .decode(&mut BytesMut::from(&bytes[..]))
            .unwrap()
            .is_some()
    );
}

#[test]
fn decode_block_over_size_limit_is_enhance_your_calm_without_buffering_more() {
    let mut reader = FrameReader::new();
    reader.set_max_header_block_size(1000);
    let bytes = concat(&[
        RawFrame::headers(1, &[0x82; 600]),
        RawFrame::continuation(1, &[0x82; 600]),
    ]);
    let mut src = BytesMut::from(&bytes[..]);
    let err = reader.decode(&mut src).unwrap_err();
    assert_eq!(
        err,
        FrameError::Connection(PeerError::HeaderBlockTooLarge { limit: 1000 })
    );
    assert!(reader.buffered() <= 1000);
}

#[test]
fn decode_incomplete_block_reports_none_and_buffers_fragments() {
    let mut reader = FrameReader::new();
    let mut src = BytesMut::from(&RawFrame::headers(1, b"\x82\x86").to_vec()[..]);
    assert_eq!(reader.decode(&mut src).unwrap(), None);
    assert!(reader.is_in_header_block());
    assert_eq!(reader.buffered(), 2);
    src.extend_from_slice(&RawFrame::continuation(1, b"\x84").end_headers().to_vec());
    assert!(matches!(
        reader.decode(&mut src).unwrap(),
        Some(Frame::Headers(_))
    ));
}

#[test]
fn decode_after_connection_error_stays_failed() {
    let mut reader = FrameReader::new();
    let mut src = BytesMut::from(&RawFrame::ping([0; 8]).stream(1).to_vec()[..]);
    let first = reader.decode(&mut src).unwrap_err();
    let mut good = BytesMut::from(&RawFrame::ping([0; 8]).to_vec()[..]);
    assert_eq!(reader.decode(&mut good).unwrap_err(), first);
}

#[test]
fn decode_after_stream_error_continues_with_next_frame() {
    let bytes = concat(&[RawFrame::priority(3, 3, 0), RawFrame::ping([2; 8])]);
    let mut reader = FrameReader::new();
    let mut src = BytesMut::from(&bytes[..]);
    assert!(matches!(
        reader.decode(&mut src),
        Err(FrameError::Stream { .. })
    ));
    assert!(matches!(
        reader.decode(&mut src).unwrap(),
        Some(Frame::Ping(_))
    ));
}
