//! The misbehaviour budget (DESIGN.md §3, RFC 9113 §10.5): each limit with its default, the
//! GOAWAY(ENHANCE_YOUR_CALM) when it is exhausted, and what does not count.

use std::time::Duration;

use pullhttp_proto::h2::frame::Frame;
use pullhttp_proto::h2::{Config, ConnectionError, ErrorCode, Event, PeerError, Rate};
use pullhttp_test_support::frames::RawFrame;
use pullhttp_test_support::h2::Peer;

fn goaway_code(frames: &[Frame]) -> Option<ErrorCode> {
    frames.iter().find_map(|f| match f {
        Frame::GoAway(g) => Some(g.code),
        _ => None,
    })
}

fn calm(peer: &mut Peer) -> bool {
    goaway_code(&peer.frames()) == Some(ErrorCode::ENHANCE_YOUR_CALM)
}

#[test]
fn rapid_reset_of_unaccepted_streams_beyond_20_is_enhance_your_calm() {
    let mut peer = Peer::server();
    for i in 0..20u32 {
        peer.send_get(2 * i + 1, "/", false);
        peer.send(RawFrame::rst_stream(2 * i + 1, 8));
    }
    assert!(!calm(&mut peer), "20 resets are within the default budget");
    peer.send_get(41, "/", false);
    peer.send(RawFrame::rst_stream(41, 8));
    assert!(calm(&mut peer));
    assert!(matches!(
        peer.conn.error(),
        Some(ConnectionError::Peer(PeerError::RapidReset { limit: 20 }))
    ));
}

#[test]
fn rapid_reset_budget_refills_with_time_and_ignores_accepted_streams() {
    let mut peer = Peer::server();
    for i in 0..20u32 {
        peer.send_get(2 * i + 1, "/", false);
        peer.send(RawFrame::rst_stream(2 * i + 1, 8));
    }
    peer.advance(Duration::from_secs(1));
    for i in 20..30u32 {
        peer.send_get(2 * i + 1, "/", false);
        peer.send(RawFrame::rst_stream(2 * i + 1, 8));
    }
    assert!(!calm(&mut peer), "10 per second refill");
    // Streams the application has taken do not count, however many are reset.
    for i in 30..200u32 {
        peer.send_get(2 * i + 1, "/", false);
        peer.events();
        peer.send(RawFrame::rst_stream(2 * i + 1, 8));
    }
    assert!(!calm(&mut peer));
}

#[test]
fn stream_errors_caused_by_peer_beyond_budget_are_enhance_your_calm() {
    let mut config = Config::server();
    config.stream_error_budget = Rate::new(10, 1);
    let mut peer = Peer::server_with(config);
    for i in 0..10u32 {
        // Uppercase header name: a malformed request, answered with RST_STREAM.
        peer.send_headers(
            2 * i + 1,
            &[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/"),
                ("X-A", "1"),
            ],
            true,
        );
    }
    assert!(!calm(&mut peer));
    peer.send_headers(
        21,
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/"),
            ("X-A", "1"),
        ],
        true,
    );
    assert!(calm(&mut peer));
}

#[test]
fn refused_streams_count_against_the_stream_error_budget() {
    let mut config = Config::server();
    config.max_concurrent_streams = 1;
    config.stream_error_budget = Rate::new(5, 1);
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    peer.send_get(1, "/", false);
    for i in 1..=5u32 {
        peer.send_get(2 * i + 1, "/", false);
    }
    assert!(!calm(&mut peer));
    peer.send_get(13, "/", false);
    assert!(calm(&mut peer));
}

#[test]
fn local_cancels_never_count() {
    let mut config = Config::server();
    config.stream_error_budget = Rate::new(2, 1);
    let mut peer = Peer::server_with(config);
    for i in 0..50u32 {
        peer.send_get(2 * i + 1, "/", false);
        let key = peer
            .events()
            .iter()
            .find_map(|e| match e {
                Event::Request { key, .. } => Some(*key),
                _ => None,
            })
            .expect("request");
        peer.conn
            .reset_stream(key, ErrorCode::CANCEL, peer.now)
            .unwrap();
    }
    assert!(!calm(&mut peer));
}

#[test]
fn continuation_flood_beyond_8_frames_is_enhance_your_calm() {
    let mut peer = Peer::server();
    peer.send(RawFrame::headers(1, &[0x82]));
    for _ in 0..9 {
        peer.send(RawFrame::continuation(1, &[]));
    }
    assert!(calm(&mut peer));
}

#[test]
fn header_block_over_four_times_the_list_limit_is_enhance_your_calm() {
    let mut peer = Peer::server();
    peer.send(RawFrame::headers(1, &[0; 16_000]));
    for _ in 0..4 {
        peer.send(RawFrame::continuation(1, &[0; 16_000]));
    }
    assert!(calm(&mut peer));
    assert!(matches!(
        peer.conn.error(),
        Some(ConnectionError::Peer(PeerError::HeaderBlockTooLarge {
            limit: 65_536
        }))
    ));
}

#[test]
fn empty_data_frame_flood_is_enhance_your_calm() {
    let mut config = Config::server();
    config.small_data_budget = Rate::new(100, 100);
    let mut peer = Peer::server_with(config);
    peer.send_get(1, "/", false);
    for _ in 0..100 {
        peer.send(RawFrame::data(1, b""));
    }
    assert!(!calm(&mut peer));
    peer.send(RawFrame::data(1, b"x"));
    assert!(calm(&mut peer));
}

#[test]
fn settings_with_too_many_entries_or_opted_in_duplicates_is_enhance_your_calm() {
    let mut peer = Peer::server();
    let many: Vec<(u16, u32)> = (0..33).map(|i| (0x100 + i, 0)).collect();
    peer.send(RawFrame::settings(&many));
    assert!(calm(&mut peer));
    // Repeats are legal by default (RFC 9113 §6.5.3: the last value wins).
    let mut peer = Peer::server();
    peer.send(RawFrame::settings(&[(0x4, 10), (0x4, 20)]));
    assert!(!calm(&mut peer));
    assert_eq!(peer.conn.peer_settings().initial_window_size, 20);
    let mut config = Config::server();
    config.reject_duplicate_settings = true;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings(&[(0x3, 10), (0x3, 20)]));
    assert!(calm(&mut peer));
}

#[test]
fn input_beyond_hard_cap_while_paused_for_acks_is_enhance_your_calm() {
    let mut config = Config::server();
    config.max_pending_acks = 2;
    config.max_input_buffer = 1000;
    let mut peer = Peer::server_with(config);
    let pings: Vec<u8> = (0..200)
        .flat_map(|i| RawFrame::ping([i; 8]).to_vec())
        .collect();
    peer.send_bytes(&pings);
    assert!(calm(&mut peer));
    assert!(matches!(
        peer.conn.error(),
        Some(ConnectionError::Peer(PeerError::ControlFlood))
    ));
}
