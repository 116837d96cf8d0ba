//! Encode then decode: every frame type survives the round trip, and long field blocks are
//! split into HEADERS/PUSH_PROMISE + CONTINUATION by the max frame size (RFC 9113 §4.3).

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use pullhttp_proto::h2::frame::{
    Data, Frame, FrameReader, GoAway, Headers, Ping, Priority, PrioritySpec, PushPromise,
    RstStream, SettingId, Settings, WindowUpdate,
};
use pullhttp_proto::h2::{ErrorCode, StreamId};

fn roundtrip(frame: &Frame) -> Frame {
    let mut buf = BytesMut::new();
    frame.encode(&mut buf);
    let mut reader = FrameReader::new();
    let out = reader.decode(&mut buf).unwrap().expect("one whole frame");
    assert!(buf.is_empty());
    out
}

#[test]
fn encode_each_frame_type_then_decode_is_identity() {
    let id = StreamId::new(5);
    let frames = [
        Frame::Data(Data::new(id, Bytes::from_static(b"payload"), true)),
        Frame::Headers(Headers {
            priority: Some(PrioritySpec {
                dependency: StreamId::new(3),
                exclusive: true,
                weight: 200,
            }),
            ..Headers::new(id, Bytes::from_static(b"\x82\x84"), false)
        }),
        Frame::Priority(Priority {
            stream_id: id,
            spec: PrioritySpec {
                dependency: StreamId::ZERO,
                exclusive: false,
                weight: 15,
            },
        }),
        Frame::RstStream(RstStream {
            stream_id: id,
            code: ErrorCode::from(0x77),
        }),
        Frame::Settings(Settings {
            ack: false,
            params: vec![
                (SettingId::MAX_CONCURRENT_STREAMS, 100),
                (SettingId::from(0x99), 1),
            ],
        }),
        Frame::Settings(Settings::ack()),
        Frame::PushPromise(PushPromise {
            stream_id: id,
            promised_id: StreamId::new(2),
            end_headers: true,
            block: Bytes::from_static(b"\x82"),
        }),
        Frame::Ping(Ping {
            ack: true,
            payload: *b"12345678",
        }),
        Frame::GoAway(GoAway {
            last_stream_id: StreamId::new(7),
            code: ErrorCode::ENHANCE_YOUR_CALM,
            debug_data: Bytes::from_static(b"calm down"),
        }),
        Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::ZERO,
            increment: 0x7fff_ffff,
        }),
    ];
    for frame in &frames {
        assert_eq!(&roundtrip(frame), frame);
    }
}

#[test]
fn encode_long_block_splits_into_continuations_and_reassembles() {
    let block = Bytes::from((0..50_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
    let headers = Headers {
        priority: Some(PrioritySpec {
            dependency: StreamId::new(1),
            exclusive: false,
            weight: 1,
        }),
        ..Headers::new(StreamId::new(3), block.clone(), true)
    };
    let mut buf = BytesMut::new();
    headers.encode(16_384, &mut buf);
    // 50,000 + 5 priority octets over 16,384-octet frames: 4 frames.
    assert_eq!(buf.len(), 50_005 + 4 * 9);
    let mut reader = FrameReader::new();
    let Some(Frame::Headers(out)) = reader.decode(&mut buf).unwrap() else {
        panic!("HEADERS expected");
    };
    assert_eq!(out, headers);

    let promise = PushPromise {
        stream_id: StreamId::new(1),
        promised_id: StreamId::new(4),
        end_headers: true,
        block: block.slice(..20_000),
    };
    let mut buf = BytesMut::new();
    promise.encode(16_384, &mut buf);
    assert_eq!(
        reader.decode(&mut buf).unwrap(),
        Some(Frame::PushPromise(promise))
    );
}

proptest! {
    #[test]
    fn decode_arbitrary_bytes_never_panics_and_consumes_whole_frames(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..20)
    ) {
        let mut reader = FrameReader::new();
        let mut src = BytesMut::new();
        for chunk in chunks {
            src.extend_from_slice(&chunk);
            loop {
                let before = src.len();
                match reader.decode(&mut src) {
                    Ok(Some(_)) => prop_assert!(src.len() < before),
                    Ok(None) => break,
                    Err(e) if e.is_connection_error() => return Ok(()),
                    Err(_) => prop_assert!(src.len() < before),
                }
            }
        }
    }

    #[test]
    fn encode_data_and_headers_roundtrip(stream in 1u32..0x7fff_ffff, body in proptest::collection::vec(any::<u8>(), 0..2000), end in any::<bool>()) {
        let id = StreamId::new(stream);
        let data = Frame::Data(Data::new(id, Bytes::from(body.clone()), end));
        prop_assert_eq!(roundtrip(&data), data);
        let headers = Headers::new(id, Bytes::from(body), end);
        let mut buf = BytesMut::new();
        headers.encode(16_384, &mut buf);
        prop_assert_eq!(FrameReader::new().decode(&mut buf).unwrap(), Some(Frame::Headers(headers)));
    }
}
