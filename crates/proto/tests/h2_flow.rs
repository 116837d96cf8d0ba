//! Flow control (RFC 9113 §5.2, §6.9) and sending: windows both ways with the errors at the
//! right scope, batched WINDOW_UPDATEs, manual release, bounded send buffers, DATA split by
//! frame size and windows, round-robin and RFC 9218 scheduling, control frames first.

use bytes::Bytes;
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2::frame::Frame;
use pullhttp_proto::h2::{Config, ErrorCode, Event, FlowControl, Priority, StreamId};
use pullhttp_test_support::frames::RawFrame;
use pullhttp_test_support::h2::Peer;

fn request_keys(events: &[Event]) -> Vec<RequestKey> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Request { key, .. } => Some(*key),
            _ => None,
        })
        .collect()
}

fn data_frames(frames: &[Frame]) -> Vec<(u32, usize, bool)> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) => Some((d.stream_id.as_u32(), d.data.len(), d.end_stream)),
            _ => None,
        })
        .collect()
}

fn ok() -> http::response::Parts {
    http::Response::new(()).into_parts().0
}

/// A server whose client advertises the given initial stream window.
fn server_with_peer_window(window: u32) -> Peer {
    Peer::server_with_settings(Config::server(), &[(0x4, window)])
}

#[test]
fn data_beyond_connection_window_is_flow_control_connection_error_s6_9_1() {
    let mut config = Config::server();
    config.connection_window_size = 65_535;
    config.initial_window_size = 1 << 20;
    let mut peer = Peer::server_with(config);
    peer.send_get(1, "/", false);
    for len in [16_384, 16_384, 16_384, 16_383] {
        peer.send(RawFrame::data(1, &vec![0; len]));
    }
    assert!(
        !peer.frames().iter().any(|f| matches!(f, Frame::GoAway(_))),
        "65,535 fits"
    );
    peer.send(RawFrame::data(1, &[0; 1]));
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::GoAway(g) if g.code == ErrorCode::FLOW_CONTROL_ERROR))
    );
}

#[test]
fn data_beyond_stream_window_is_flow_control_stream_error_s6_9_1() {
    let mut config = Config::server();
    config.initial_window_size = 1000;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    peer.send_get(1, "/", false);
    peer.send(RawFrame::data(1, &[0; 1001]));
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::RstStream(r) if r.code == ErrorCode::FLOW_CONTROL_ERROR))
    );
    assert!(!frames.iter().any(|f| matches!(f, Frame::GoAway(_))));
}

#[test]
fn window_update_overflow_scopes_stream_and_connection_s6_9_1() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    peer.send(RawFrame::window_update(1, 0x7fff_ffff));
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::RstStream(r) if r.code == ErrorCode::FLOW_CONTROL_ERROR))
    );
    assert!(!frames.iter().any(|f| matches!(f, Frame::GoAway(_))));
    peer.send(RawFrame::window_update(0, 0x7fff_ffff));
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::GoAway(g) if g.code == ErrorCode::FLOW_CONTROL_ERROR))
    );
}

#[test]
fn auto_release_batches_window_updates_instead_of_one_per_data_frame() {
    let mut config = Config::server();
    config.initial_window_size = 64 << 10;
    config.connection_window_size = 64 << 10;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    peer.send_get(1, "/", false);
    peer.events();
    for _ in 0..32 {
        peer.send(RawFrame::data(1, &[0; 1024]));
    }
    assert_eq!(peer.events().len(), 32);
    let updates: Vec<_> = peer
        .frames()
        .into_iter()
        .filter_map(|f| match f {
            Frame::WindowUpdate(w) => Some((w.stream_id.as_u32(), w.increment)),
            _ => None,
        })
        .collect();
    // 32 KiB consumed: exactly half the target, one update per scope.
    assert_eq!(updates, [(0, 32_768), (1, 32_768)]);
}

#[test]
fn manual_release_credits_only_what_the_application_releases() {
    let mut config = Config::server();
    config.flow_control = FlowControl::Manual;
    config.initial_window_size = 4096;
    config.connection_window_size = 65_535;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    peer.send_get(1, "/", false);
    let key = request_keys(&peer.events())[0];
    peer.send(RawFrame::data(1, &[0; 4096]));
    peer.events();
    assert!(
        !peer
            .frames()
            .iter()
            .any(|f| matches!(f, Frame::WindowUpdate(_)))
    );
    // The window is exhausted until the application releases.
    peer.send(RawFrame::data(1, &[0; 1]));
    assert!(
        peer.frames()
            .iter()
            .any(|f| matches!(f, Frame::RstStream(r) if r.code == ErrorCode::FLOW_CONTROL_ERROR))
    );

    let mut config = Config::server();
    config.flow_control = FlowControl::Manual;
    config.initial_window_size = 4096;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    peer.send_get(1, "/", false);
    let key2 = request_keys(&peer.events())[0];
    peer.send(RawFrame::data(1, &[0; 4096]));
    peer.events();
    peer.conn.release_capacity(key2, 4096).unwrap();
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::WindowUpdate(w) if w.stream_id == StreamId::new(1) && w.increment == 4096)));
    let _ = key;
}

#[test]
fn manual_mode_credits_connection_window_on_receipt_and_stream_window_on_release() {
    let mut config = Config::server();
    config.flow_control = FlowControl::Manual;
    config.connection_window_size = 65_535;
    config.initial_window_size = 65_535;
    let mut peer = Peer::server_with(config);
    peer.send_get(1, "/", false);
    let key = request_keys(&peer.events())[0];
    for len in [16_384, 16_384, 7_232] {
        peer.send(RawFrame::data(1, &vec![0; len]));
    }
    peer.events();
    // The connection window comes back at once (an unread stream must not starve others;
    // batched: once half of it, 32,768 octets, arrived); the stream's stays with the
    // application.
    let frames = peer.frames();
    let conn = |w: &Frame| matches!(w, Frame::WindowUpdate(w) if w.stream_id.is_zero() && w.increment == 32_768);
    assert!(frames.iter().any(conn), "{frames:?}");
    assert!(
        !frames
            .iter()
            .any(|f| matches!(f, Frame::WindowUpdate(w) if !w.stream_id.is_zero()))
    );
    peer.conn.release_capacity(key, 40_000).unwrap();
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::WindowUpdate(w) if w.stream_id == StreamId::new(1) && w.increment == 40_000)));
}

#[test]
fn send_data_splits_by_peer_max_frame_size_and_stream_window() {
    let mut peer = server_with_peer_window(40_000);
    peer.send_get(1, "/", true);
    let key = request_keys(&peer.events())[0];
    peer.conn.send_response(key, &ok(), false).unwrap();
    assert_eq!(
        peer.conn
            .send_data(key, Bytes::from(vec![1; 50_000]), true)
            .unwrap(),
        50_000
    );
    let frames = peer.frames();
    assert_eq!(
        data_frames(&frames),
        [(1, 16_384, false), (1, 16_384, false), (1, 7_232, false)]
    );
    peer.send(RawFrame::window_update(1, 10_000));
    peer.send(RawFrame::window_update(0, 100_000));
    let frames = peer.frames();
    assert_eq!(data_frames(&frames), [(1, 10_000, true)]);
    assert!(matches!(peer.events()[..], [Event::Sent { .. }]));
}

#[test]
fn connection_window_blocks_all_streams_until_window_update_s6_9() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    let key = request_keys(&peer.events())[0];
    peer.conn.send_response(key, &ok(), false).unwrap();
    peer.conn
        .send_data(key, Bytes::from(vec![1; 70_000]), true)
        .unwrap();
    let sent: usize = data_frames(&peer.frames()).iter().map(|d| d.1).sum();
    assert_eq!(sent, 65_535, "the default connection window");
    peer.send(RawFrame::window_update(0, 10_000));
    let sent: usize = data_frames(&peer.frames()).iter().map(|d| d.1).sum();
    assert_eq!(sent, 0, "the stream's own window (65,535) is spent too");
    peer.send(RawFrame::window_update(1, 10_000));
    let frames = data_frames(&peer.frames());
    assert_eq!(frames, [(1, 4_465, true)]);
}

#[test]
fn negative_window_after_settings_shrink_recovers_with_updates_s6_9_2() {
    let mut peer = server_with_peer_window(10_000);
    peer.send_get(1, "/", true);
    let key = request_keys(&peer.events())[0];
    peer.conn.send_response(key, &ok(), false).unwrap();
    peer.conn
        .send_data(key, Bytes::from(vec![1; 20_000]), true)
        .unwrap();
    assert_eq!(
        data_frames(&peer.frames())
            .iter()
            .map(|d| d.1)
            .sum::<usize>(),
        10_000
    );
    // Shrinking the initial window by 5,000 leaves the stream at -5,000.
    peer.send(RawFrame::settings(&[(0x4, 5_000)]));
    peer.send(RawFrame::window_update(1, 6_000));
    assert_eq!(
        data_frames(&peer.frames())
            .iter()
            .map(|d| d.1)
            .sum::<usize>(),
        1_000
    );
}

#[test]
fn send_buffer_is_bounded_and_writable_announces_room() {
    let mut config = Config::server();
    config.max_send_buffer_per_stream = 1000;
    let mut peer = Peer::server_with_settings(config, &[(0x4, 0)]);
    peer.send_get(1, "/", true);
    let key = request_keys(&peer.events())[0];
    peer.conn.send_response(key, &ok(), false).unwrap();
    assert_eq!(
        peer.conn
            .send_data(key, Bytes::from(vec![1; 1500]), false)
            .unwrap(),
        1000
    );
    assert_eq!(
        peer.conn
            .send_data(key, Bytes::from(vec![1; 10]), false)
            .unwrap(),
        0
    );
    assert_eq!(peer.conn.send_capacity(key).unwrap(), 0);
    assert_eq!(peer.conn.send_buffered(), 1000);
    peer.frames();
    assert!(peer.events().is_empty());
    peer.send(RawFrame::window_update(1, 600));
    peer.frames();
    let events = peer.events();
    assert!(matches!(&events[..], [Event::Writable { key: k }] if *k == key));
    assert_eq!(peer.conn.send_capacity(key).unwrap(), 600);
}

#[test]
fn streams_share_bandwidth_round_robin_by_default() {
    let mut peer = Peer::server();
    peer.send_get(1, "/a", true);
    peer.send_get(3, "/b", true);
    let keys = request_keys(&peer.events());
    peer.frames();
    for &key in &keys {
        peer.conn.send_response(key, &ok(), false).unwrap();
        peer.conn
            .send_data(key, Bytes::from(vec![1; 32_768]), true)
            .unwrap();
    }
    let order: Vec<u32> = data_frames(&peer.frames()).iter().map(|d| d.0).collect();
    assert_eq!(order, [1, 3, 1, 3]);
}

#[test]
fn rfc9218_urgency_and_non_incremental_order_are_honoured() {
    let mut peer = Peer::server();
    let get = |peer: &mut Peer, id: u32, priority: &str| {
        let fields = [
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/"),
            ("priority", priority),
        ];
        peer.send_headers(id, &fields, true);
    };
    get(&mut peer, 1, "u=5");
    get(&mut peer, 3, "u=1");
    get(&mut peer, 5, "u=1");
    let keys = request_keys(&peer.events());
    peer.frames();
    for &key in &keys {
        peer.conn.send_response(key, &ok(), false).unwrap();
        peer.conn
            .send_data(key, Bytes::from(vec![1; 20_000]), true)
            .unwrap();
    }
    let order: Vec<u32> = data_frames(&peer.frames()).iter().map(|d| d.0).collect();
    // Urgency 1 first, non-incremental streams one after the other; urgency 5 last.
    assert_eq!(order, [3, 3, 5, 5, 1, 1]);
    // PRIORITY_UPDATE (RFC 9218 §7.1) and set_priority change it afterwards.
    let _ = Priority::default();
}

#[test]
fn priority_update_frame_reorders_streams_rfc9218_s7_1() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", true);
    peer.send_get(3, "/", true);
    let keys = request_keys(&peer.events());
    let mut payload = 3u32.to_be_bytes().to_vec();
    payload.extend_from_slice(b"u=0");
    peer.send(RawFrame::new(0x10).payload(&payload));
    peer.frames();
    for &key in &keys {
        peer.conn.send_response(key, &ok(), false).unwrap();
        peer.conn
            .send_data(key, Bytes::from(vec![1; 20_000]), true)
            .unwrap();
    }
    let order: Vec<u32> = data_frames(&peer.frames()).iter().map(|d| d.0).collect();
    assert_eq!(&order[..2], [3, 3]);
}

#[test]
fn control_frames_are_not_queued_behind_more_than_the_low_water_mark() {
    let mut config = Config::server();
    config.output_low_water = 16 << 10;
    let mut peer = Peer::server_with_settings(config, &[(0x4, 1 << 20)]);
    peer.send(RawFrame::window_update(0, 1 << 20));
    peer.send_get(1, "/", true);
    let key = request_keys(&peer.events())[0];
    peer.frames();
    peer.conn.send_response(key, &ok(), false).unwrap();
    peer.conn
        .send_data(key, Bytes::from(vec![1; 200_000]), true)
        .unwrap();
    // Generate output, then a PING arrives before it is written.
    let queued = peer.conn.output_len();
    assert!(
        queued < 40_000,
        "only about the low-water mark is produced ahead: {queued}"
    );
    peer.send(RawFrame::ping([9; 8]));
    let frames = peer.frames();
    let ping_at = frames
        .iter()
        .position(|f| matches!(f, Frame::Ping(_)))
        .unwrap();
    assert!(
        ping_at <= 3,
        "PING ACK after at most the low-water DATA: at {ping_at}"
    );
}

/// Appends `bytes` as a driver does: through `direct_input` while it offers the buffer,
/// through `handle_input` otherwise. Returns how many octets went in directly.
fn feed_like_a_driver(peer: &mut Peer, bytes: &[u8], read: usize) -> usize {
    let mut direct = 0;
    for piece in bytes.chunks(read) {
        if let Some(input) = peer.conn.direct_input() {
            assert!(input.capacity() - input.len() >= pullhttp_proto::h2::DIRECT_READ);
            input.extend_from_slice(piece);
            peer.conn.input_appended(peer.now);
            direct += piece.len();
        } else {
            peer.conn.handle_input(piece, peer.now);
        }
    }
    direct
}

#[test]
fn reads_inside_a_frame_land_in_the_input_buffer_and_lose_nothing() {
    let mut config = Config::server();
    config.initial_window_size = 8 << 20;
    config.connection_window_size = 8 << 20;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    peer.send_get(1, "/upload", false);
    // 100 DATA frames of 16,384 octets, numbered, read in pieces that cut frames anywhere.
    let mut wire = Vec::new();
    let mut body = Vec::new();
    for i in 0..100u32 {
        let chunk: Vec<u8> = (0..16_384u32)
            .map(|j| ((i * 7 + j) % 251).to_le_bytes()[0])
            .collect();
        let frame = RawFrame::data(1, &chunk);
        let frame = if i == 99 { frame.end_stream() } else { frame };
        wire.extend_from_slice(&frame.to_vec());
        body.extend_from_slice(&chunk);
    }
    let direct = feed_like_a_driver(&mut peer, &wire, 20_011);
    assert!(
        direct > wire.len() / 2,
        "most reads land directly: {direct} of {}",
        wire.len()
    );
    let mut got = Vec::new();
    let mut ended = false;
    for event in peer.events() {
        if let Event::Data {
            data, end_stream, ..
        } = event
        {
            got.extend_from_slice(&data);
            ended |= end_stream;
        }
    }
    assert!(ended);
    assert!(got == body, "the body arrives whole and in order");
    // Between frames (nothing incomplete) no buffer is offered: idle connections keep
    // reading into the shared one.
    assert!(peer.conn.direct_input().is_none());
}
