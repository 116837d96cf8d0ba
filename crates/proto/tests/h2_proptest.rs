//! Properties of random command and frame sequences, on a client/server pair and on a
//! server fed arbitrary frames: no panic; windows, buffers and counts within their bounds
//! after every step; per key at most one `Sent`, at most one `Reset`, never both, and
//! `RecvReset` only after `Sent`; at the end every key got exactly one of `Sent`/`Reset`.

use std::collections::HashMap;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use pullhttp_proto::__private::h2_check_invariants;
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2::frame::SettingId;
use pullhttp_proto::h2::{Config, Connection, ErrorCode, Event};
use pullhttp_test_support::frames::RawFrame;
use pullhttp_test_support::h2::Peer;

#[derive(Clone, Debug)]
enum Op {
    Request { end: bool },
    ClientData { pick: usize, len: usize, end: bool },
    Respond { pick: usize, end: bool },
    ServerData { pick: usize, len: usize, end: bool },
    ServerTrailers { pick: usize },
    ClientReset { pick: usize },
    ServerReset { pick: usize },
    Ping,
    Settings { window: u32 },
    ToServer { max: usize },
    ToClient { max: usize },
    Shutdown,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<bool>().prop_map(|end| Op::Request { end }),
        4 => (any::<usize>(), 0usize..70_000, any::<bool>()).prop_map(|(pick, len, end)| Op::ClientData { pick, len, end }),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(pick, end)| Op::Respond { pick, end }),
        4 => (any::<usize>(), 0usize..70_000, any::<bool>()).prop_map(|(pick, len, end)| Op::ServerData { pick, len, end }),
        1 => any::<usize>().prop_map(|pick| Op::ServerTrailers { pick }),
        1 => any::<usize>().prop_map(|pick| Op::ClientReset { pick }),
        1 => any::<usize>().prop_map(|pick| Op::ServerReset { pick }),
        1 => Just(Op::Ping),
        1 => (1u32..200_000).prop_map(|window| Op::Settings { window }),
        6 => (1usize..40_000).prop_map(|max| Op::ToServer { max }),
        6 => (1usize..40_000).prop_map(|max| Op::ToClient { max }),
        1 => Just(Op::Shutdown),
    ]
}

/// Per-key terminal events seen.
#[derive(Default, Debug)]
struct Terminals {
    sent: u32,
    reset: u32,
    recv_reset_before_sent: bool,
}

#[derive(Default)]
struct Side {
    keys: Vec<RequestKey>,
    terminals: HashMap<RequestKey, Terminals>,
}

impl Side {
    fn pick(&self, i: usize) -> Option<RequestKey> {
        (!self.keys.is_empty()).then(|| self.keys[i % self.keys.len()])
    }

    fn absorb(&mut self, conn: &mut Connection) -> Result<(), TestCaseError> {
        while let Some(event) = conn.next_event() {
            match event {
                Event::Request { key, .. } => self.keys.push(key),
                Event::Sent { key } => {
                    let t = self.terminals.entry(key).or_default();
                    t.sent += 1;
                    prop_assert!(t.reset == 0, "Sent after Reset for {key:?}");
                }
                Event::Reset { key, .. } => {
                    let t = self.terminals.entry(key).or_default();
                    t.reset += 1;
                    prop_assert!(t.sent == 0, "Reset after Sent for {key:?}");
                }
                Event::RecvReset { key, .. } => {
                    let t = self.terminals.entry(key).or_default();
                    t.recv_reset_before_sent |= t.sent == 0;
                }
                _ => {}
            }
        }
        for t in self.terminals.values() {
            prop_assert!(
                t.sent <= 1 && t.reset <= 1 && !t.recv_reset_before_sent,
                "{t:?}"
            );
        }
        Ok(())
    }
}

fn move_bytes(from: &mut Connection, to: &mut Connection, max: usize, now: Instant) {
    if !to.wants_read() {
        return;
    }
    let mut buf = BytesMut::new();
    for c in from.output_chunks() {
        buf.extend_from_slice(c);
        if buf.len() >= max {
            break;
        }
    }
    let n = buf.len().min(max);
    from.advance_written(n);
    from.on_flushed();
    to.handle_input(&buf[..n], now);
}

fn config(mut c: Config) -> Config {
    c.initial_window_size = 32 << 10;
    c.connection_window_size = 64 << 10;
    c.max_send_buffer_per_stream = 48 << 10;
    c.max_send_buffer = 256 << 10;
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_command_sequences_keep_invariants_and_report_each_key_once(ops in proptest::collection::vec(op(), 1..120)) {
        let now = Instant::now();
        let mut client = Connection::new(config(Config::client()), now);
        let mut server = Connection::new(config(Config::server()), now);
        let (mut c, mut s) = (Side::default(), Side::default());
        let post = http::Request::post("https://example.com/").body(()).unwrap().into_parts().0;
        let ok = http::Response::new(()).into_parts().0;
        for op in ops {
            match op {
                Op::Request { end } => {
                    if let Ok(key) = client.send_request(&post, end) {
                        c.keys.push(key);
                    }
                }
                Op::ClientData { pick, len, end } => if let Some(k) = c.pick(pick) {
                    let _ = client.send_data(k, Bytes::from(vec![7; len]), end);
                },
                Op::Respond { pick, end } => if let Some(k) = s.pick(pick) {
                    let _ = server.send_response(k, &ok, end);
                },
                Op::ServerData { pick, len, end } => if let Some(k) = s.pick(pick) {
                    let _ = server.send_data(k, Bytes::from(vec![9; len]), end);
                },
                Op::ServerTrailers { pick } => if let Some(k) = s.pick(pick) {
                    let _ = server.send_trailers(k, http::HeaderMap::new());
                },
                Op::ClientReset { pick } => if let Some(k) = c.pick(pick) {
                    let _ = client.reset_stream(k, ErrorCode::CANCEL, now);
                },
                Op::ServerReset { pick } => if let Some(k) = s.pick(pick) {
                    let _ = server.reset_stream(k, ErrorCode::INTERNAL_ERROR, now);
                },
                Op::Ping => { let _ = client.ping([1; 8]); }
                Op::Settings { window } => {
                    let _ = server.send_settings(vec![(SettingId::INITIAL_WINDOW_SIZE, window)], now);
                }
                Op::ToServer { max } => move_bytes(&mut client, &mut server, max, now),
                Op::ToClient { max } => move_bytes(&mut server, &mut client, max, now),
                Op::Shutdown => server.graceful_shutdown(now),
            }
            c.absorb(&mut client)?;
            s.absorb(&mut server)?;
            prop_assert_eq!(h2_check_invariants(&client), Ok(()));
            prop_assert_eq!(h2_check_invariants(&server), Ok(()));
        }
        // End: close both abruptly; every key must now have exactly one Sent or Reset.
        client.abrupt_shutdown(ErrorCode::NO_ERROR);
        server.abrupt_shutdown(ErrorCode::NO_ERROR);
        c.absorb(&mut client)?;
        s.absorb(&mut server)?;
        for side in [&c, &s] {
            for key in &side.keys {
                let t = side.terminals.get(key);
                let n = t.map_or(0, |t| t.sent + t.reset);
                prop_assert_eq!(n, 1, "{:?}: {:?}", key, t);
            }
        }
    }

    #[test]
    fn arbitrary_frames_to_a_server_never_panic_and_keep_invariants(
        frames in proptest::collection::vec((0u8..12, any::<u8>(), 0u32..8, proptest::collection::vec(any::<u8>(), 0..40)), 1..60)
    ) {
        let mut peer = Peer::server();
        for (kind, flags, stream, payload) in frames {
            let kind = if kind == 11 { 0x10 } else { kind };
            peer.send(RawFrame::new(kind).flags(flags).stream(stream).payload(&payload));
            peer.events();
            peer.frames();
            prop_assert_eq!(h2_check_invariants(&peer.conn), Ok(()));
        }
    }
}
