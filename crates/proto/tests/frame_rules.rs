//! Every per-frame rule of RFC 9113 §4 and §6, as a table: raw bytes in, the exact error
//! code and scope (connection §5.4.1 or stream §5.4.2) out.

use bytes::BytesMut;
use pullhttp_proto::h2::frame::{Frame, FrameError, FrameReader, FrameType, SettingId, flags};
use pullhttp_proto::h2::{ErrorCode, PeerError, StreamId};
use pullhttp_test_support::frames::RawFrame;

#[derive(Debug)]
enum Expect {
    Connection(ErrorCode),
    Stream(u32, ErrorCode),
}

fn read(bytes: &[u8]) -> Result<Option<Frame>, FrameError> {
    FrameReader::new().decode(&mut BytesMut::from(bytes))
}

fn check(rule: &str, frame: RawFrame, expect: Expect) {
    let result = read(&frame.to_vec());
    match (&result, &expect) {
        (Err(FrameError::Connection(e)), Connection(code)) if e.code() == *code => {}
        (Err(FrameError::Stream { stream_id, error }), Stream(id, code))
            if stream_id.as_u32() == *id && error.code() == *code => {}
        _ => panic!("{rule}: expected {expect:?}, got {result:?}"),
    }
}

use Expect::{Connection, Stream};

#[test]
fn decode_frames_on_wrong_stream_are_protocol_errors_rfc9113_s6() {
    let cases = [
        ("§6.1 DATA on stream 0", RawFrame::data(0, b"x")),
        (
            "§6.2 HEADERS on stream 0",
            RawFrame::headers(0, b"\x82").end_headers(),
        ),
        ("§6.3 PRIORITY on stream 0", RawFrame::priority(0, 1, 16)),
        ("§6.4 RST_STREAM on stream 0", RawFrame::rst_stream(0, 8)),
        (
            "§6.5 SETTINGS on stream 1",
            RawFrame::settings(&[]).stream(1),
        ),
        (
            "§6.6 PUSH_PROMISE on stream 0",
            RawFrame::push_promise(0, 2, b"").end_headers(),
        ),
        ("§6.7 PING on stream 1", RawFrame::ping([0; 8]).stream(1)),
        (
            "§6.8 GOAWAY on stream 1",
            RawFrame::go_away(0, 0, b"").stream(1),
        ),
    ];
    for (rule, frame) in cases {
        check(rule, frame, Connection(ErrorCode::PROTOCOL_ERROR));
    }
}

#[test]
fn decode_continuation_on_stream_0_is_protocol_error_rfc9113_s6_10() {
    let mut bytes = RawFrame::headers(1, b"\x82").to_vec();
    bytes.extend(RawFrame::continuation(0, b"\x84").end_headers().to_vec());
    let err = read(&bytes).unwrap_err();
    assert_eq!(err.code(), ErrorCode::PROTOCOL_ERROR);
    assert!(err.is_connection_error());
}

#[test]
fn decode_fixed_length_frames_with_wrong_length_are_frame_size_errors_rfc9113_s6() {
    let cases = [
        (
            "§6.7 PING of 7 octets",
            RawFrame::ping([0; 8]).payload(&[0; 7]),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.7 PING of 9 octets",
            RawFrame::ping([0; 8]).payload(&[0; 9]),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.4 RST_STREAM of 3 octets",
            RawFrame::rst_stream(1, 0).payload(&[0; 3]),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.4 RST_STREAM of 5 octets",
            RawFrame::rst_stream(1, 0).payload(&[0; 5]),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.9 WINDOW_UPDATE of 3 octets",
            RawFrame::window_update(1, 1).payload(&[0, 0, 1]),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.9 WINDOW_UPDATE of 5 octets on stream 0",
            RawFrame::window_update(0, 1).payload(&[0, 0, 0, 1, 0]),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.3 PRIORITY of 4 octets",
            RawFrame::priority(3, 1, 1).payload(&[0, 0, 0, 1]),
            Stream(3, ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.3 PRIORITY of 6 octets",
            RawFrame::priority(3, 1, 1).payload(&[0, 0, 0, 1, 0, 0]),
            Stream(3, ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.5 SETTINGS of 5 octets",
            RawFrame::settings(&[]).payload(&[0; 5]),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.5 SETTINGS ACK with payload",
            RawFrame::settings(&[(1, 0)]).ack(),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.8 GOAWAY of 7 octets",
            RawFrame::go_away(0, 0, b"").payload(&[0; 7]),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.6 PUSH_PROMISE of 3 octets",
            RawFrame::push_promise(1, 2, b"")
                .payload(&[0; 3])
                .end_headers(),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.2 HEADERS with PRIORITY flag and 4 octets",
            RawFrame::headers(1, &[0; 4])
                .flags(flags::PRIORITY)
                .end_headers(),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
        (
            "§6.1 PADDED DATA of 0 octets",
            RawFrame::data(1, b"").flags(flags::PADDED),
            Connection(ErrorCode::FRAME_SIZE_ERROR),
        ),
    ];
    for (rule, frame, expect) in cases {
        check(rule, frame, expect);
    }
}

#[test]
fn decode_padding_as_long_as_payload_is_protocol_error_rfc9113_s6_1() {
    let cases = [
        // Pad Length 4 with 3 octets after it: padding exceeds the payload.
        ("§6.1 DATA", RawFrame::data(1, b"").padded(4, 3)),
        (
            "§6.1 DATA, pad = payload length",
            RawFrame::data(1, b"ab").padded(3, 0),
        ),
        (
            "§6.2 HEADERS",
            RawFrame::headers(1, b"\x82").end_headers().padded(10, 2),
        ),
        (
            "§6.6 PUSH_PROMISE",
            RawFrame::push_promise(1, 2, b"\x82")
                .end_headers()
                .padded(8, 0),
        ),
    ];
    for (rule, frame) in cases {
        check(rule, frame, Connection(ErrorCode::PROTOCOL_ERROR));
    }
}

#[test]
fn decode_padded_frames_strip_exact_padding_rfc9113_s6_1() {
    let frame = RawFrame::data(1, b"hello").padded(3, 3).end_stream();
    let Some(Frame::Data(data)) = read(&frame.to_vec()).unwrap() else {
        panic!("DATA expected");
    };
    assert_eq!(&data.data[..], b"hello");
    assert_eq!(
        data.flow_len,
        1 + 5 + 3,
        "padding counts against flow control"
    );
    assert!(data.end_stream);

    let frame = RawFrame::headers(1, b"\x82").end_headers().padded(2, 2);
    let Some(Frame::Headers(h)) = read(&frame.to_vec()).unwrap() else {
        panic!("HEADERS expected");
    };
    assert_eq!(&h.block[..], b"\x82");
}

#[test]
fn decode_settings_values_out_of_range_rfc9113_s6_5_2() {
    let cases = [
        ("ENABLE_PUSH = 2", 0x2, 2, ErrorCode::PROTOCOL_ERROR),
        (
            "INITIAL_WINDOW_SIZE = 2^31",
            0x4,
            1 << 31,
            ErrorCode::FLOW_CONTROL_ERROR,
        ),
        (
            "MAX_FRAME_SIZE = 16383",
            0x5,
            16_383,
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            "MAX_FRAME_SIZE = 2^24",
            0x5,
            1 << 24,
            ErrorCode::PROTOCOL_ERROR,
        ),
        (
            "ENABLE_CONNECT_PROTOCOL = 2 (RFC 8441 §3)",
            0x8,
            2,
            ErrorCode::PROTOCOL_ERROR,
        ),
    ];
    for (rule, id, value, code) in cases {
        check(rule, RawFrame::settings(&[(id, value)]), Connection(code));
    }
}

#[test]
fn decode_settings_in_range_keeps_order_and_unknown_ids_rfc9113_s6_5() {
    let frame = RawFrame::settings(&[
        (0x4, 0x7fff_ffff),
        (0xf0, 9),
        (0x5, 16_777_215),
        (0x2, 0),
        (0x4, 10),
    ]);
    let Some(Frame::Settings(s)) = read(&frame.to_vec()).unwrap() else {
        panic!("SETTINGS expected");
    };
    let ids: Vec<u16> = s.params.iter().map(|(id, _)| id.as_u16()).collect();
    assert_eq!(ids, [0x4, 0xf0, 0x5, 0x2, 0x4]);
    assert_eq!(
        s.get(SettingId::INITIAL_WINDOW_SIZE),
        Some(10),
        "the last value wins"
    );
}

#[test]
fn decode_zero_window_increment_scope_depends_on_stream_rfc9113_s6_9() {
    check(
        "§6.9 on a stream",
        RawFrame::window_update(5, 0),
        Stream(5, ErrorCode::PROTOCOL_ERROR),
    );
    check(
        "§6.9 on stream 0",
        RawFrame::window_update(0, 0),
        Connection(ErrorCode::PROTOCOL_ERROR),
    );
    // The reserved bit is ignored: 2^31 is an increment of 0.
    check(
        "§6.9 reserved bit only",
        RawFrame::window_update(5, 1 << 31),
        Stream(5, ErrorCode::PROTOCOL_ERROR),
    );
}

#[test]
fn decode_priority_self_dependency_is_stream_protocol_error_rfc9113_s5_3_1() {
    check(
        "§5.3.1",
        RawFrame::priority(7, 7, 16),
        Stream(7, ErrorCode::PROTOCOL_ERROR),
    );
    let Some(Frame::Priority(p)) = read(&RawFrame::priority(7, 0x8000_0003, 16).to_vec()).unwrap()
    else {
        panic!("PRIORITY expected");
    };
    assert!(p.spec.exclusive);
    assert_eq!(p.spec.dependency, StreamId::new(3));
}

#[test]
fn decode_headers_self_dependency_is_flagged_for_the_connection_rfc9113_s5_3_1() {
    let mut payload = 1u32.to_be_bytes().to_vec();
    payload.push(16);
    payload.push(0x82);
    let frame = RawFrame::headers(1, &payload)
        .flags(flags::PRIORITY)
        .end_headers();
    let Some(Frame::Headers(h)) = read(&frame.to_vec()).unwrap() else {
        panic!("HEADERS expected");
    };
    assert!(h.is_self_dependent());
    assert_eq!(&h.block[..], b"\x82", "the block still reaches HPACK");
}

#[test]
fn decode_frame_over_max_frame_size_is_frame_size_error_before_payload_rfc9113_s4_2() {
    // Only the 9-octet header is present: the error comes without buffering the payload.
    let head = RawFrame::data(1, b"").length(16_385).to_vec();
    let err = read(&head).unwrap_err();
    assert_eq!(
        err,
        FrameError::Connection(PeerError::FrameTooLarge {
            length: 16_385,
            max: 16_384
        })
    );
    let mut reader = FrameReader::new();
    reader.set_max_frame_size(1 << 20);
    let frame = RawFrame::data(1, &vec![0; 16_385]).to_vec();
    assert!(matches!(
        reader.decode(&mut BytesMut::from(&frame[..])),
        Ok(Some(Frame::Data(_)))
    ));
}

#[test]
fn decode_unknown_frame_type_is_returned_for_ignoring_rfc9113_s5_5() {
    let frame = RawFrame::new(0xfa).stream(3).flags(0xff).payload(b"ext");
    let Some(Frame::Unknown(u)) = read(&frame.to_vec()).unwrap() else {
        panic!("Unknown expected");
    };
    assert_eq!(u.kind, FrameType::from(0xfa));
    assert_eq!(&u.payload[..], b"ext");
}

#[test]
fn decode_reserved_bit_in_stream_id_is_ignored_rfc9113_s4_1() {
    let frame = RawFrame::rst_stream(1, 8).stream(0x8000_0001);
    let Some(Frame::RstStream(r)) = read(&frame.to_vec()).unwrap() else {
        panic!("RST_STREAM expected");
    };
    assert_eq!(r.stream_id, StreamId::new(1));
    assert_eq!(r.code, ErrorCode::CANCEL);
}

#[test]
fn decode_unknown_flags_are_ignored_rfc9113_s4_1() {
    let frame = RawFrame::ping([7; 8]).flags(0xfe);
    let Some(Frame::Ping(p)) = read(&frame.to_vec()).unwrap() else {
        panic!("PING expected");
    };
    assert!(!p.ack);
    assert_eq!(p.payload, [7; 8]);
}

#[test]
fn peer_error_display_names_rule_section_and_code() {
    let text = PeerError::InvalidLength {
        frame: FrameType::PING,
        length: 7,
    }
    .to_string();
    assert!(
        text.contains("PING") && text.contains("§6.7") && text.contains("FRAME_SIZE_ERROR"),
        "{text}"
    );
}
