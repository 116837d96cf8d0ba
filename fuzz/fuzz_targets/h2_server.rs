//! Fuzzes an HTTP/2 server connection with arbitrary bytes after the client preface.
//!
//! Input: byte 0 sets the read size (1..=256); the rest follows the preface. A small
//! application answers every request and echoes request data, so the send side (HEADERS,
//! DATA scheduling, flow control) runs too. Invariants: no panic; the connection's internal
//! invariants hold after every read; output is always drained.
#![no_main]

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use pullhttp_proto::__private::h2_check_invariants;
use pullhttp_proto::h2::{Config, Connection, Event, PREFACE};

fuzz_target!(|data: &[u8]| {
    let [chunk, rest @ ..] = data else {
        return;
    };
    let chunk = usize::from(*chunk) + 1;
    let mut now = Instant::now();
    let mut conn = Connection::new(Config::server(), now);
    conn.handle_input(PREFACE, now);
    let ok = http::Response::new(()).into_parts().0;
    let mut out = BytesMut::new();
    for piece in rest.chunks(chunk) {
        conn.handle_input(piece, now);
        while let Some(event) = conn.next_event() {
            match event {
                Event::Request { key, end_stream, .. } => {
                    let _ = conn.send_response(key, &ok, end_stream);
                }
                Event::Data { key, data, end_stream } => {
                    let _ = conn.send_data(key, Bytes::from(data), end_stream);
                }
                _ => {}
            }
        }
        out.clear();
        conn.write_output(&mut out);
        conn.on_flushed();
        if let Err(e) = h2_check_invariants(&conn) {
            panic!("invariant broken: {e}");
        }
        now += Duration::from_millis(10);
        if conn.next_deadline().is_some_and(|t| t <= now) {
            conn.handle_timeout(now);
        }
    }
});
