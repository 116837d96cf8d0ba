//! Stream rules against a scripted peer: §5.1 states, §5.1.1 identifiers, §5.1.2
//! concurrency, RST_STREAM both ways, memory of locally reset streams, server push (§8.4),
//! and `Sent` / `Reset` exactly once per key.

use std::time::Duration;

use bytes::Bytes;
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2::frame::{Frame, flags};
use pullhttp_proto::h2::{Config, ErrorCode, Event, Initiator, Misuse, StreamId};
use pullhttp_test_support::frames::RawFrame;
use pullhttp_test_support::h2::Peer;

fn goaway_code(frames: &[Frame]) -> Option<ErrorCode> {
    frames.iter().find_map(|f| match f {
        Frame::GoAway(g) => Some(g.code),
        _ => None,
    })
}

fn rst(frames: &[Frame], stream: u32) -> Option<ErrorCode> {
    frames.iter().find_map(|f| match f {
        Frame::RstStream(r) if r.stream_id == StreamId::new(stream) => Some(r.code),
        _ => None,
    })
}

fn request_key(events: &[Event]) -> RequestKey {
    events
        .iter()
        .find_map(|e| match e {
            Event::Request { key, .. } => Some(*key),
            _ => None,
        })
        .expect("a request event")
}

fn ok_response() -> http::response::Parts {
    http::Response::new(()).into_parts().0
}

#[test]
fn headers_on_even_stream_from_client_is_protocol_error_s5_1_1() {
    let mut peer = Peer::server();
    peer.send_get(2, "/", true);
    assert_eq!(goaway_code(&peer.frames()), Some(ErrorCode::PROTOCOL_ERROR));
}

#[test]
fn headers_on_lower_stream_id_than_used_is_connection_error_s5_1_1() {
    let mut peer = Peer::server();
    peer.send_get(5, "/", true);
    peer.send_get(3, "/", true);
    let code = goaway_code(&peer.frames());
    assert!(
        matches!(
            code,
            Some(ErrorCode::STREAM_CLOSED | ErrorCode::PROTOCOL_ERROR)
        ),
        "{code:?}"
    );
}

#[test]
fn opening_higher_stream_closes_lower_idle_ones_s5_1_1() {
    let mut peer = Peer::server();
    peer.send_get(5, "/", true);
    peer.events();
    // Stream 3 was implicitly closed: DATA on it is STREAM_CLOSED.
    peer.send(RawFrame::data(3, b"x"));
    assert_eq!(goaway_code(&peer.frames()), Some(ErrorCode::STREAM_CLOSED));
}

#[test]
fn frames_other_than_headers_or_priority_on_idle_stream_are_protocol_errors_s5_1() {
    for frame in [
        RawFrame::data(1, b"x"),
        RawFrame::rst_stream(1, 8),
        RawFrame::window_update(1, 10),
    ] {
        let mut peer = Peer::server();
        peer.send(frame);
        assert_eq!(goaway_code(&peer.frames()), Some(ErrorCode::PROTOCOL_ERROR));
    }
    // PRIORITY on an idle stream is fine and does not open it.
    let mut peer = Peer::server();
    peer.send(RawFrame::priority(1, 0, 16));
    assert_eq!(goaway_code(&peer.frames()), None);
    assert_eq!(peer.conn.stream_count(), 0);
}

#[test]
fn data_after_end_stream_is_stream_closed_stream_error_s5_1() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    let key = request_key(&peer.events());
    peer.send(RawFrame::data(1, b"late"));
    let frames = peer.frames();
    assert_eq!(rst(&frames, 1), Some(ErrorCode::STREAM_CLOSED));
    assert_eq!(goaway_code(&frames), None, "only the stream is reset");
    let events = peer.events();
    assert!(
        matches!(&events[..], [Event::Reset { key: k, reset }] if *k == key && reset.initiator == Initiator::Local)
    );
}

#[test]
fn headers_after_end_stream_is_stream_closed_and_hpack_stays_in_sync_s5_1() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    peer.events();
    // A second HEADERS after END_STREAM inserts into the peer's HPACK table.
    peer.send_headers(1, &[("x-new-entry", "value")], true);
    assert_eq!(rst(&peer.frames(), 1), Some(ErrorCode::STREAM_CLOSED));
    assert!(matches!(peer.events()[..], [Event::Reset { .. }]));
    // A later request indexing that entry still decodes.
    let block = peer.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/"),
        ("x-new-entry", "value"),
    ]);
    assert_eq!(
        block.last(),
        Some(&0xbe),
        "the entry is referenced by index"
    );
    peer.send(RawFrame::headers(3, &block).end_headers().end_stream());
    let events = peer.events();
    let Event::Request { head, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(head.headers["x-new-entry"], "value");
}

#[test]
fn rst_stream_from_peer_reports_reset_and_closes_stream_s6_4() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    let key = request_key(&peer.events());
    peer.send(RawFrame::rst_stream(1, 0x8));
    let events = peer.events();
    assert!(matches!(&events[..], [Event::Reset { key: k, reset }]
        if *k == key && reset.code == ErrorCode::CANCEL && reset.initiator == Initiator::Peer));
    assert_eq!(peer.conn.stream_count(), 0);
    // RST_STREAM and WINDOW_UPDATE on the closed stream are ignored.
    peer.send(RawFrame::rst_stream(1, 0x8));
    peer.send(RawFrame::window_update(1, 5));
    assert_eq!(goaway_code(&peer.frames()), None);
    assert!(matches!(
        peer.conn.response_check(key),
        Err(Misuse::UnknownStream)
    ));
}

trait ResponseCheck {
    fn response_check(&mut self, key: RequestKey) -> Result<(), Misuse>;
}

impl ResponseCheck for pullhttp_proto::h2::Connection {
    fn response_check(&mut self, key: RequestKey) -> Result<(), Misuse> {
        self.send_response(key, &ok_response(), true)
    }
}

#[test]
fn locally_reset_stream_tolerates_late_frames_and_counts_flow_control_s5_1() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    let key = request_key(&peer.events());
    peer.conn
        .reset_stream(key, ErrorCode::CANCEL, peer.now)
        .unwrap();
    assert_eq!(rst(&peer.frames(), 1), Some(ErrorCode::CANCEL));
    assert_eq!(peer.conn.remembered_resets(), 1);
    // Late DATA and HEADERS are tolerated, not errors.
    peer.send(RawFrame::data(1, &[0; 1000]));
    peer.send_headers(1, &[("x-trailer", "1")], true);
    let frames = peer.frames();
    assert_eq!(goaway_code(&frames), None);
    // ... and the DATA still counted: the connection window is returned in a WINDOW_UPDATE
    // once enough is released (here: push it over half the window).
    for _ in 0..600 {
        peer.send(RawFrame::data(1, &[0; 1000]));
    }
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::WindowUpdate(w) if w.stream_id.is_zero()))
    );
    assert_eq!(goaway_code(&frames), None);
}

#[test]
fn reset_memory_expires_after_duration_then_late_data_is_stream_closed() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    let key = request_key(&peer.events());
    peer.conn
        .reset_stream(key, ErrorCode::CANCEL, peer.now)
        .unwrap();
    peer.frames();
    peer.advance(Duration::from_millis(1100));
    assert_eq!(peer.conn.remembered_resets(), 0);
    peer.send(RawFrame::data(1, b"late"));
    assert_eq!(goaway_code(&peer.frames()), Some(ErrorCode::STREAM_CLOSED));
}

#[test]
fn reset_memory_keeps_at_most_fifty_streams() {
    let mut peer = Peer::server();
    for i in 0..60u32 {
        let id = 2 * i + 1;
        peer.send_get(id, "/", false);
        let key = request_key(&peer.events());
        peer.conn
            .reset_stream(key, ErrorCode::CANCEL, peer.now)
            .unwrap();
    }
    assert_eq!(peer.conn.remembered_resets(), 50);
}

#[test]
fn streams_beyond_max_concurrent_are_refused_s5_1_2() {
    let mut config = Config::server();
    config.max_concurrent_streams = 2;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    peer.send_get(1, "/", false);
    peer.send_get(3, "/", false);
    peer.send_get(5, "/", false);
    let frames = peer.frames();
    assert_eq!(rst(&frames, 5), Some(ErrorCode::REFUSED_STREAM));
    assert_eq!(peer.events().len(), 2);
    assert_eq!(peer.conn.peer_open_streams(), 2);
    // Finishing one frees a slot.
    peer.send(RawFrame::rst_stream(1, 8));
    peer.send_get(7, "/", false);
    assert!(
        peer.events()
            .iter()
            .any(|e| matches!(e, Event::Request { .. }))
    );
}

#[test]
fn client_respects_peer_max_concurrent_streams_s5_1_2() {
    let mut peer = Peer::client_with_settings(Config::client(), &[(0x3, 1)]);
    let head = http::Request::get("https://example.com/")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let key = peer.conn.send_request(&head, true).unwrap();
    assert!(!peer.conn.can_open_stream());
    assert_eq!(
        peer.conn.send_request(&head, true),
        Err(Misuse::StreamLimit)
    );
    peer.frames();
    peer.send_headers(1, &[(":status", "200")], true);
    peer.events();
    assert!(peer.conn.can_open_stream());
    let _ = key;
}

#[test]
fn sent_fires_after_flush_and_exactly_once_per_key() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    let key = request_key(&peer.events());
    peer.conn.send_response(key, &ok_response(), false).unwrap();
    peer.conn
        .send_data(key, Bytes::from_static(b"hello"), true)
        .unwrap();
    // Written but not flushed: no Sent yet.
    let mut out = bytes::BytesMut::new();
    peer.conn.write_output(&mut out);
    assert!(peer.events().is_empty());
    peer.conn.on_flushed();
    let events = peer.events();
    assert!(matches!(&events[..], [Event::Sent { key: k }] if *k == key));
    // The stream is gone; nothing more for the key.
    peer.send(RawFrame::rst_stream(1, 8));
    assert!(peer.events().is_empty());
}

#[test]
fn reset_before_flush_reports_reset_not_sent() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    let key = request_key(&peer.events());
    peer.conn.send_response(key, &ok_response(), true).unwrap();
    peer.send(RawFrame::rst_stream(1, 8));
    peer.frames();
    let events = peer.events();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| matches!(e, Event::Sent { .. }))
        .collect();
    assert_eq!(kinds, [false], "{events:?}");
    assert!(matches!(events[0], Event::Reset { .. }));
}

#[test]
fn peer_reset_after_sent_reports_recv_reset_for_unfinished_request_body() {
    let mut peer = Peer::server();
    peer.send_get(1, "/upload", false);
    let key = request_key(&peer.events());
    peer.conn.send_response(key, &ok_response(), true).unwrap();
    peer.frames();
    assert!(matches!(peer.events()[..], [Event::Sent { .. }]));
    peer.send(RawFrame::rst_stream(1, 0));
    let events = peer.events();
    assert!(matches!(&events[..], [Event::RecvReset { key: k, .. }] if *k == key));
}

#[test]
fn push_promise_reserves_stream_and_response_follows_s8_4() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    let key = request_key(&peer.events());
    let promised = http::Request::get("https://example.com/style.css")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let pushed = peer.conn.push_promise(key, &promised).unwrap();
    peer.conn
        .send_response(pushed, &ok_response(), true)
        .unwrap();
    peer.conn.send_response(key, &ok_response(), true).unwrap();
    let frames = peer.frames();
    let Frame::PushPromise(pp) = &frames[0] else {
        panic!("{frames:?}")
    };
    assert_eq!(
        (pp.stream_id, pp.promised_id),
        (StreamId::new(1), StreamId::new(2))
    );
    assert!(
        matches!(&frames[1], Frame::Headers(h) if h.stream_id == StreamId::new(2) && h.end_stream)
    );
    let sent: Vec<_> = peer
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Sent { .. }))
        .collect();
    assert_eq!(sent.len(), 2);
}

#[test]
fn push_promise_refused_when_client_disabled_push_or_request_unsafe() {
    let mut peer = Peer::server_with_settings(Config::server(), &[(0x2, 0)]);
    peer.send_get(1, "/", true);
    let key = request_key(&peer.events());
    let get = http::Request::get("https://example.com/a")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(
        peer.conn.push_promise(key, &get),
        Err(Misuse::PushNotAllowed)
    );
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    let key = request_key(&peer.events());
    let post = http::Request::post("https://example.com/a")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(
        peer.conn.push_promise(key, &post),
        Err(Misuse::PushNotAllowed)
    );
}

#[test]
fn client_refuses_push_promise_by_default_and_accepts_when_enabled_s8_4() {
    let mut peer = Peer::client_with_settings(Config::client(), &[]);
    let head = http::Request::get("https://example.com/")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    peer.conn.send_request(&head, true).unwrap();
    peer.frames();
    let block = peer.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/pushed"),
    ]);
    peer.send(RawFrame::push_promise(1, 2, &block).end_headers());
    assert_eq!(goaway_code(&peer.frames()), Some(ErrorCode::PROTOCOL_ERROR));

    let mut config = Config::client();
    config.enable_push = true;
    let mut peer = Peer::client_with_settings(config, &[]);
    let parent = peer.conn.send_request(&head, true).unwrap();
    peer.frames();
    let block = peer.block(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/pushed"),
    ]);
    peer.send(RawFrame::push_promise(1, 2, &block).end_headers());
    let events = peer.events();
    assert!(
        matches!(events[0], Event::Sent { .. }),
        "the GET itself was sent first"
    );
    let Event::PushPromise {
        parent: p,
        key,
        head,
    } = &events[1]
    else {
        panic!("{events:?}")
    };
    assert_eq!((*p, head.uri.path()), (parent, "/pushed"));
    let pushed = *key;
    peer.send_headers(2, &[(":status", "200")], false);
    peer.send(RawFrame::data(2, b"css").end_stream());
    let events = peer.events();
    assert!(matches!(&events[0], Event::Response { key, .. } if *key == pushed));
    assert!(matches!(&events[1], Event::Data { key, end_stream: true, .. } if *key == pushed));
}

#[test]
fn foreign_key_is_rejected() {
    let mut a = Peer::server();
    let mut b = Peer::server();
    a.send_get(1, "/", true);
    b.send_get(1, "/", true);
    let key_a = request_key(&a.events());
    b.events();
    assert_eq!(
        b.conn.send_response(key_a, &ok_response(), true),
        Err(Misuse::ForeignKey)
    );
}

#[test]
fn headers_with_priority_self_dependency_resets_stream_s5_3_1() {
    let mut peer = Peer::server();
    let block = peer.block(&[(":method", "GET"), (":scheme", "https"), (":path", "/")]);
    let mut payload = 1u32.to_be_bytes().to_vec();
    payload.push(15);
    payload.extend_from_slice(&block);
    peer.send(
        RawFrame::headers(1, &payload)
            .flags(flags::PRIORITY)
            .end_headers()
            .end_stream(),
    );
    assert_eq!(rst(&peer.frames(), 1), Some(ErrorCode::PROTOCOL_ERROR));
    assert!(
        peer.events()
            .iter()
            .all(|e| !matches!(e, Event::Request { .. }))
    );
}

#[test]
fn headers_on_a_skipped_lower_id_is_protocol_error_but_on_a_closed_one_stream_closed_s5_1_1() {
    let mut peer = Peer::server();
    peer.send_get(5, "/", true);
    peer.send_get(3, "/", true);
    assert_eq!(goaway_code(&peer.frames()), Some(ErrorCode::PROTOCOL_ERROR));

    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    let key = request_key(&peer.events());
    peer.conn.send_response(key, &ok_response(), true).unwrap();
    peer.frames();
    peer.events();
    peer.send_get(1, "/", true);
    assert_eq!(goaway_code(&peer.frames()), Some(ErrorCode::STREAM_CLOSED));
}

#[test]
fn client_goaway_with_unknown_code_leaves_server_usable_s6_8() {
    let mut peer = Peer::server();
    peer.send(RawFrame::go_away(0, 0xff, b""));
    assert!(matches!(peer.events()[..], [Event::GoAway { .. }]));
    peer.send(RawFrame::ping(*b"stillok?"));
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::Ping(p) if p.ack)));
    assert!(!peer.conn.is_terminated());
}
