//! Connection life, against a scripted peer: preface and SETTINGS (§3.4, §6.5), SETTINGS ACK
//! tracking and timeout (§6.5.3), PING (§6.7), GOAWAY and shutdown (§6.8), connection errors
//! (§5.4.1).

use std::time::Duration;

use pullhttp_proto::h2::frame::{Frame, GoAway, SettingId};
use pullhttp_proto::h2::{
    Config, Connection, ConnectionError, ErrorCode, Event, PREFACE, PeerError, Role, StreamId,
};
use pullhttp_test_support::frames::RawFrame;
use pullhttp_test_support::h2::Peer;

fn go_away(frames: &[Frame]) -> Option<&GoAway> {
    frames.iter().find_map(|f| match f {
        Frame::GoAway(g) => Some(g),
        _ => None,
    })
}

fn closed_error(events: &[Event]) -> Option<Option<ConnectionError>> {
    events.iter().find_map(|e| match e {
        Event::Closed { error } => Some(error.clone()),
        _ => None,
    })
}

#[test]
fn start_server_sends_settings_in_configured_order_and_opens_connection_window_s3_4() {
    let mut config = Config::server();
    config.settings_order = vec![SettingId::MAX_FRAME_SIZE, SettingId::MAX_CONCURRENT_STREAMS];
    config.extra_settings = vec![(SettingId::from(0x0a0a), 7)];
    config.connection_window_size = 1 << 20;
    let mut peer = Peer::raw(config);
    let frames = peer.frames();
    let Frame::Settings(s) = &frames[0] else {
        panic!("SETTINGS first, got {frames:?}");
    };
    let ids: Vec<u16> = s.params.iter().map(|(id, _)| id.as_u16()).collect();
    assert_eq!(ids, [0x5, 0x3, 0x0a0a]);
    let Frame::WindowUpdate(w) = &frames[1] else {
        panic!("WINDOW_UPDATE second");
    };
    assert_eq!(
        (w.stream_id, w.increment),
        (StreamId::ZERO, (1 << 20) - 65_535)
    );
}

#[test]
fn start_client_sends_preface_then_settings_with_push_disabled_s3_4() {
    let mut conn = Connection::new(Config::client(), std::time::Instant::now());
    let mut out = bytes::BytesMut::new();
    conn.write_output(&mut out);
    assert_eq!(&out[..24], PREFACE);
    assert_eq!(out[24 + 3], 0x4, "SETTINGS follows the preface");
    let mut peer = Peer::raw(Config::client());
    let frames = peer.frames();
    let Frame::Settings(s) = &frames[0] else {
        panic!()
    };
    assert_eq!(s.get(SettingId::ENABLE_PUSH), Some(0));
}

#[test]
fn handle_input_wrong_preface_closes_with_invalid_preface_s3_4() {
    let mut peer = Peer::raw(Config::server());
    peer.send_bytes(b"GET / HTTP/1.1\r\n");
    let events = peer.events();
    assert_eq!(
        closed_error(&events),
        Some(Some(ConnectionError::Peer(PeerError::InvalidPreface)))
    );
    assert!(peer.conn.is_terminated());
}

#[test]
fn handle_input_first_frame_not_settings_is_protocol_error_s3_4() {
    let mut peer = Peer::raw(Config::server());
    peer.send_bytes(PREFACE);
    peer.send(RawFrame::ping([0; 8]));
    let frames = peer.frames();
    assert_eq!(go_away(&frames).unwrap().code, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn handshake_preface_timeout_closes_without_settings() {
    let mut peer = Peer::raw(Config::server());
    peer.send_bytes(&PREFACE[..10]);
    peer.advance(Duration::from_secs(9));
    assert!(!peer.conn.is_terminated());
    peer.advance(Duration::from_secs(2));
    assert_eq!(
        closed_error(&peer.events()),
        Some(Some(ConnectionError::HandshakeTimeout))
    );
}

#[test]
fn settings_received_are_acked_and_visible_in_order_s6_5_3() {
    let mut peer = Peer::raw(Config::server());
    peer.send_bytes(PREFACE);
    peer.send(RawFrame::settings(&[(0x4, 1000), (0x99, 5), (0x3, 10)]));
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::Settings(s) if s.ack))
    );
    assert!(matches!(peer.events()[..], [Event::Connected]));
    let settings = peer.conn.peer_settings();
    assert_eq!(settings.initial_window_size, 1000);
    assert_eq!(settings.max_concurrent_streams, Some(10));
    let ids: Vec<u16> = settings
        .received
        .iter()
        .map(|(id, _)| id.as_u16())
        .collect();
    assert_eq!(ids, [0x4, 0x99, 0x3]);
}

#[test]
fn settings_not_acked_in_time_is_settings_timeout_s6_5_3() {
    let mut peer = Peer::raw(Config::server());
    peer.send_bytes(PREFACE);
    peer.send(RawFrame::settings(&[]));
    peer.frames();
    peer.advance(Duration::from_secs(11));
    let frames = peer.frames();
    assert_eq!(go_away(&frames).unwrap().code, ErrorCode::SETTINGS_TIMEOUT);
}

#[test]
fn lowered_max_concurrent_streams_applies_only_after_ack_s6_5_3() {
    let mut peer = Peer::server();
    peer.conn
        .send_settings(vec![(SettingId::MAX_CONCURRENT_STREAMS, 1)], peer.now)
        .unwrap();
    peer.frames();
    // Before the ACK the old limit (100) holds: two streams are accepted.
    peer.send_get(1, "/", false);
    peer.send_get(3, "/", false);
    assert_eq!(peer.events().len(), 2);
    peer.send(RawFrame::settings_ack());
    // After it, a third concurrent stream is refused.
    peer.send_get(5, "/", false);
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::RstStream(r)
        if r.stream_id == StreamId::new(5) && r.code == ErrorCode::REFUSED_STREAM)));
}

#[test]
fn client_receiving_enable_push_one_is_protocol_error_s6_5_2() {
    let mut peer = Peer::raw(Config::client());
    peer.send(RawFrame::settings(&[(0x2, 1)]));
    let frames = peer.frames();
    assert_eq!(go_away(&frames).unwrap().code, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn ping_is_answered_with_same_payload_and_user_ping_reports_ack_s6_7() {
    let mut peer = Peer::server();
    peer.send(RawFrame::ping(*b"abcdefgh"));
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::Ping(p) if p.ack && &p.payload == b"abcdefgh"))
    );
    peer.conn.ping(*b"12345678").unwrap();
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::Ping(p) if !p.ack)));
    peer.send(RawFrame::ping(*b"12345678").ack());
    assert!(matches!(peer.events()[..], [Event::PingAck { payload }] if &payload == b"12345678"));
}

#[test]
fn graceful_shutdown_sends_goaway_max_and_ping_then_final_goaway_s6_8() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    let key = match &peer.events()[..] {
        [Event::Request { key, .. }] => *key,
        other => panic!("{other:?}"),
    };
    peer.conn.graceful_shutdown(peer.now);
    let frames = peer.frames();
    assert_eq!(go_away(&frames).unwrap().last_stream_id, StreamId::MAX);
    let ping = frames.iter().find_map(|f| match f {
        Frame::Ping(p) if !p.ack => Some(p.payload),
        _ => None,
    });
    // A request sent before the client saw the GOAWAY is still processed.
    peer.send_get(3, "/late-but-ok", true);
    peer.send(RawFrame::ping(ping.expect("shutdown PING")).ack());
    let frames = peer.frames();
    let final_goaway = go_away(&frames).expect("final GOAWAY");
    assert_eq!(final_goaway.last_stream_id, StreamId::new(3));
    assert_eq!(final_goaway.code, ErrorCode::NO_ERROR);
    // A stream above the final GOAWAY is ignored.
    peer.send_get(5, "/too-late", true);
    let events = peer.events();
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Request { .. }))
            .count()
            == 1
    );
    // The connection closes once the in-flight streams finish.
    assert!(!peer.conn.is_terminated());
    let late = events.iter().find_map(|e| match e {
        Event::Request { key, .. } => Some(*key),
        _ => None,
    });
    let response = http::Response::new(()).into_parts().0;
    peer.conn.send_response(key, &response, true).unwrap();
    peer.conn
        .send_response(late.unwrap(), &response, true)
        .unwrap();
    peer.frames();
    let events = peer.events();
    assert_eq!(closed_error(&events), Some(None));
    assert!(peer.conn.is_closed());
}

#[test]
fn graceful_shutdown_drain_deadline_closes_with_streams_open() {
    let mut config = Config::server();
    config.graceful_drain_timeout = Duration::from_secs(5);
    let mut peer = Peer::server_with(config);
    peer.send_get(1, "/", false);
    peer.events();
    peer.conn.graceful_shutdown(peer.now);
    peer.frames();
    peer.send(RawFrame::ping(*b"pullhttp").ack());
    peer.frames();
    peer.advance(Duration::from_secs(6));
    let events = peer.events();
    assert!(events.iter().any(|e| matches!(e, Event::Reset { .. })));
    assert_eq!(
        closed_error(&events),
        Some(Some(ConnectionError::DrainTimeout))
    );
}

#[test]
fn abrupt_shutdown_sends_goaway_with_code_and_resets_streams() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    peer.events();
    peer.conn.abrupt_shutdown(ErrorCode::ENHANCE_YOUR_CALM);
    let frames = peer.frames();
    let g = go_away(&frames).unwrap();
    assert_eq!(
        (g.code, g.last_stream_id),
        (ErrorCode::ENHANCE_YOUR_CALM, StreamId::new(1))
    );
    let events = peer.events();
    assert!(matches!(events[0], Event::Reset { .. }));
    assert_eq!(
        closed_error(&events),
        Some(Some(ConnectionError::Local(ErrorCode::ENHANCE_YOUR_CALM)))
    );
}

#[test]
fn client_receiving_goaway_refuses_streams_above_last_as_retryable_s6_8() {
    let mut peer = Peer::client_with_settings(Config::client(), &[]);
    let head = http::Request::get("https://example.com/")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let k1 = peer.conn.send_request(&head, true).unwrap();
    let k3 = peer.conn.send_request(&head, true).unwrap();
    peer.frames();
    peer.events();
    peer.send(RawFrame::go_away(1, 0, b""));
    let events = peer.events();
    assert!(
        matches!(&events[0], Event::GoAway { last_stream_id, .. } if *last_stream_id == StreamId::new(1))
    );
    let refused: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::RecvReset { key, reset } | Event::Reset { key, reset } => {
                Some((*key, reset.retryable))
            }
            _ => None,
        })
        .collect();
    assert_eq!(refused, [(k3, true)]);
    assert!(!peer.conn.can_open_stream());
    assert!(peer.conn.send_request(&head, true).is_err());
    // Stream 1 finishes normally, then the connection closes cleanly.
    peer.send_headers(1, &[(":status", "204")], true);
    let events = peer.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Response { key, .. } if *key == k1))
    );
    assert_eq!(closed_error(&events), Some(None));
}

#[test]
fn connection_error_is_sticky_and_later_input_ignored_s5_4_1() {
    let mut peer = Peer::server();
    peer.send(RawFrame::ping([0; 8]).stream(1));
    let frames = peer.frames();
    assert_eq!(go_away(&frames).unwrap().code, ErrorCode::PROTOCOL_ERROR);
    let first = peer.conn.error().cloned();
    assert!(matches!(
        first,
        Some(ConnectionError::Peer(PeerError::StreamIdForbidden { .. }))
    ));
    peer.send_get(1, "/", true);
    assert!(peer.frames().is_empty());
    assert_eq!(peer.conn.error().cloned(), first);
    assert!(peer.conn.is_closed());
    assert_eq!(peer.conn.role(), Role::Server);
}

#[test]
fn handle_eof_while_idle_is_clean_and_mid_stream_is_unexpected() {
    let mut peer = Peer::server();
    peer.conn.handle_eof(peer.now);
    assert_eq!(closed_error(&peer.events()), Some(None));

    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    peer.events();
    peer.conn.handle_eof(peer.now);
    let events = peer.events();
    assert!(matches!(events[0], Event::Reset { .. }));
    assert_eq!(
        closed_error(&events),
        Some(Some(ConnectionError::UnexpectedEof))
    );
}

#[test]
fn flood_of_pings_without_reading_acks_pauses_input_then_resumes() {
    let mut config = Config::server();
    config.max_pending_acks = 4;
    let mut peer = Peer::server_with(config);
    let pings: Vec<u8> = (0..10)
        .flat_map(|i| RawFrame::ping([i; 8]).to_vec())
        .collect();
    peer.send_bytes(&pings);
    assert!(!peer.conn.wants_read(), "paused with ACKs unwritten");
    assert!(peer.conn.input_buffered() > 0);
    let acks = peer
        .frames()
        .iter()
        .filter(|f| matches!(f, Frame::Ping(p) if p.ack))
        .count();
    assert_eq!(acks, 4);
    // Writing the ACKs lets processing go on (the driver retries on its next turn).
    peer.conn.handle_input(&[], peer.now);
    let mut total = acks;
    for _ in 0..5 {
        total += peer
            .frames()
            .iter()
            .filter(|f| matches!(f, Frame::Ping(p) if p.ack))
            .count();
        peer.conn.handle_input(&[], peer.now);
    }
    assert_eq!(total, 10);
}

#[test]
fn graceful_shutdown_without_ping_ack_ends_at_the_drain_deadline() {
    let mut config = Config::server();
    config.graceful_drain_timeout = Duration::from_secs(3);
    let mut peer = Peer::server_with(config);
    peer.conn.graceful_shutdown(peer.now);
    peer.frames();
    // The client never answers the PING.
    peer.advance(Duration::from_secs(4));
    assert!(peer.conn.is_terminated());
    assert_eq!(
        closed_error(&peer.events()),
        Some(Some(ConnectionError::DrainTimeout))
    );
}
