//! A real client connection against a real server connection on a virtual clock: many
//! concurrent streams with bodies larger than the windows in both directions, interleaved
//! in small writes; SETTINGS changes mid-stream; PING; graceful shutdown mid-flight.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2::frame::SettingId;
use pullhttp_proto::h2::{Config, Connection, Event, Misuse};

/// Bytes waiting to be handed to `send_data` (which may accept only part).
#[derive(Default)]
struct Outbox {
    queue: HashMap<RequestKey, (VecDeque<Bytes>, bool)>,
}

impl Outbox {
    fn push(&mut self, key: RequestKey, data: Bytes, end: bool) {
        let entry = self.queue.entry(key).or_default();
        entry.0.push_back(data);
        entry.1 |= end;
    }

    /// Offers queued data to the connection; returns whether anything moved.
    fn pump(&mut self, conn: &mut Connection) -> bool {
        let mut moved = false;
        self.queue.retain(|&key, (chunks, end)| {
            while let Some(chunk) = chunks.pop_front() {
                let last = chunks.is_empty() && *end;
                let n = conn
                    .send_data(key, chunk.clone(), last)
                    .unwrap_or(chunk.len());
                moved |= n > 0 || (last && chunk.is_empty());
                if n < chunk.len() {
                    chunks.push_front(chunk.slice(n..));
                    return true;
                }
            }
            false
        });
        moved
    }
}

fn transfer(from: &mut Connection, to: &mut Connection, now: Instant, chunk: usize) -> usize {
    if !to.wants_read() {
        return 0;
    }
    let mut buf = BytesMut::new();
    for c in from.output_chunks() {
        buf.extend_from_slice(c);
        if buf.len() >= chunk {
            break;
        }
    }
    let n = buf.len().min(chunk);
    from.advance_written(n);
    from.on_flushed();
    // Drivers free an idle connection's buffers whenever they wait: doing it at every
    // step shows it loses nothing wherever it happens.
    from.release_idle();
    to.handle_input(&buf[..n], now);
    to.release_idle();
    n
}

/// The test's client and echo server, and what each observed.
struct Echo {
    client: Connection,
    server: Connection,
    now: Instant,
    client_out: Outbox,
    server_out: Outbox,
    /// Per client key: bytes received back, and whether the response ended.
    received: HashMap<RequestKey, (Vec<u8>, bool)>,
    client_sent: usize,
    server_sent: usize,
    pings: usize,
    closed: (bool, bool),
    refused: usize,
}

impl Echo {
    fn new(client: Config, server: Config) -> Self {
        let now = Instant::now();
        Echo {
            client: Connection::new(client, now),
            server: Connection::new(server, now),
            now,
            client_out: Outbox::default(),
            server_out: Outbox::default(),
            received: HashMap::new(),
            client_sent: 0,
            server_sent: 0,
            pings: 0,
            closed: (false, false),
            refused: 0,
        }
    }

    fn request(&mut self, body: Bytes) -> Result<RequestKey, Misuse> {
        let head = http::Request::post("https://example.com/echo")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let key = self.client.send_request(&head, false)?;
        self.client_out.push(key, body, true);
        self.received.insert(key, (Vec::new(), false));
        Ok(key)
    }

    /// One round: bytes both ways in `chunk`-sized writes, then both applications react.
    fn step(&mut self, chunk: usize) -> bool {
        let mut progress = transfer(&mut self.client, &mut self.server, self.now, chunk) > 0;
        progress |= transfer(&mut self.server, &mut self.client, self.now, chunk) > 0;
        while let Some(event) = self.server.next_event() {
            progress = true;
            match event {
                Event::Request { key, .. } => {
                    let head = http::Response::new(()).into_parts().0;
                    self.server.send_response(key, &head, false).unwrap();
                }
                Event::Data {
                    key,
                    data,
                    end_stream,
                } => self.server_out.push(key, data, end_stream),
                Event::Sent { .. } => self.server_sent += 1,
                Event::Closed { .. } => self.closed.1 = true,
                _ => {}
            }
        }
        while let Some(event) = self.client.next_event() {
            progress = true;
            match event {
                Event::Data {
                    key,
                    data,
                    end_stream,
                } => {
                    let entry = self.received.get_mut(&key).expect("known key");
                    entry.0.extend_from_slice(&data);
                    entry.1 |= end_stream;
                }
                Event::Sent { .. } => self.client_sent += 1,
                Event::PingAck { .. } => self.pings += 1,
                Event::Reset { reset, .. } | Event::RecvReset { reset, .. } if reset.retryable => {
                    self.refused += 1;
                }
                Event::Reset { reset, .. } | Event::RecvReset { reset, .. } => {
                    panic!("unexpected reset {reset:?}")
                }
                Event::Closed { .. } => self.closed.0 = true,
                _ => {}
            }
        }
        progress |= self.client_out.pump(&mut self.client);
        progress |= self.server_out.pump(&mut self.server);
        progress
    }

    fn run(&mut self, chunk: usize) {
        for _ in 0..1_000_000 {
            if !self.step(chunk) {
                return;
            }
        }
        panic!("no quiescence");
    }
}

fn body(seed: u32, len: usize) -> Bytes {
    (0..len)
        .map(|i| u8::try_from((i * 31 + seed as usize) % 251).expect("below 251"))
        .collect::<Vec<u8>>()
        .into()
}

fn small_windows(mut config: Config) -> Config {
    config.initial_window_size = 16 << 10;
    config.connection_window_size = 48 << 10;
    config.max_send_buffer_per_stream = 20 << 10;
    config.max_send_buffer = 200 << 10;
    config
}

#[test]
fn many_streams_with_bodies_larger_than_windows_echo_exactly_in_both_directions() {
    let mut echo = Echo::new(
        small_windows(Config::client()),
        small_windows(Config::server()),
    );
    let mut bodies = HashMap::new();
    for i in 0..40u32 {
        let b = body(i, 100_000 + 777 * i as usize);
        let key = echo.request(b.clone()).unwrap();
        bodies.insert(key, b);
    }
    echo.run(1_500);
    for (key, b) in &bodies {
        let (got, ended) = &echo.received[key];
        assert!(*ended, "{key:?} ended");
        assert_eq!(got.len(), b.len(), "{key:?}");
        assert!(got[..] == b[..], "{key:?} content");
    }
    assert_eq!((echo.client_sent, echo.server_sent), (40, 40));
    assert_eq!(
        (echo.client.stream_count(), echo.server.stream_count()),
        (0, 0)
    );
    assert_eq!(
        (echo.client.send_buffered(), echo.server.send_buffered()),
        (0, 0)
    );
}

#[test]
fn settings_changes_mid_stream_keep_transfers_correct_s6_9_2() {
    let mut echo = Echo::new(
        small_windows(Config::client()),
        small_windows(Config::server()),
    );
    let mut bodies = HashMap::new();
    for i in 0..8u32 {
        let b = body(i, 200_000);
        bodies.insert(echo.request(b.clone()).unwrap(), b);
    }
    for round in 0..400 {
        echo.step(4_000);
        if round == 50 {
            echo.server
                .send_settings(vec![(SettingId::INITIAL_WINDOW_SIZE, 4_000)], echo.now)
                .unwrap();
        }
        if round == 120 {
            echo.client
                .send_settings(vec![(SettingId::INITIAL_WINDOW_SIZE, 100_000)], echo.now)
                .unwrap();
            echo.server
                .send_settings(
                    vec![
                        (SettingId::INITIAL_WINDOW_SIZE, 65_535),
                        (SettingId::MAX_FRAME_SIZE, 20_000),
                    ],
                    echo.now,
                )
                .unwrap();
        }
    }
    echo.run(4_000);
    for (key, b) in &bodies {
        assert!(echo.received[key].0[..] == b[..]);
    }
    assert_eq!(echo.client.local_settings().initial_window_size, 100_000);
    assert_eq!(echo.client.peer_settings().max_frame_size, 20_000);
}

#[test]
fn ping_round_trip_between_pair() {
    let mut echo = Echo::new(Config::client(), Config::server());
    echo.run(usize::MAX);
    echo.client.ping(*b"pingpong").unwrap();
    echo.run(usize::MAX);
    assert_eq!(echo.pings, 1);
}

#[test]
fn graceful_shutdown_mid_flight_finishes_open_streams_and_refuses_new_ones_s6_8() {
    let mut echo = Echo::new(
        small_windows(Config::client()),
        small_windows(Config::server()),
    );
    let mut bodies = HashMap::new();
    for i in 0..6u32 {
        let b = body(i, 150_000);
        bodies.insert(echo.request(b.clone()).unwrap(), b);
    }
    for _ in 0..20 {
        echo.step(3_000);
    }
    echo.server.graceful_shutdown(echo.now);
    echo.run(3_000);
    for (key, b) in &bodies {
        assert!(echo.received[key].1, "in-flight stream finished");
        assert!(echo.received[key].0[..] == b[..]);
    }
    assert_eq!(echo.request(Bytes::new()), Err(Misuse::Closing));
    assert_eq!(echo.closed, (true, true), "both sides closed cleanly");
    assert!(echo.client.is_closed() && echo.server.is_closed());
    assert!(echo.client.error().is_none() && echo.server.error().is_none());
}

#[test]
fn requests_racing_the_final_goaway_are_refused_as_retryable() {
    let mut echo = Echo::new(Config::client(), Config::server());
    echo.run(usize::MAX);
    echo.server.graceful_shutdown(echo.now);
    // The server's GOAWAY(2^31-1) and PING go out; the client opens two more requests
    // before it has seen them (they are in flight together).
    let mut to_client = BytesMut::new();
    echo.server.write_output(&mut to_client);
    echo.server.on_flushed();
    echo.request(body(1, 10)).unwrap();
    echo.client_out.pump(&mut echo.client);
    echo.client.handle_input(&to_client, echo.now);
    echo.run(usize::MAX);
    assert_eq!(
        echo.refused, 0,
        "a request sent before the final GOAWAY is processed"
    );
    assert_eq!(echo.closed, (true, true));
}

/// The frames in `conn`'s output, written and flushed.
fn written_frames(conn: &mut Connection) -> Vec<pullhttp_proto::h2::frame::Frame> {
    let mut out = BytesMut::new();
    conn.write_output(&mut out);
    conn.on_flushed();
    let mut reader = pullhttp_proto::h2::frame::FrameReader::new();
    std::iter::from_fn(|| reader.decode(&mut out).expect("valid output")).collect()
}

#[test]
fn h2c_upgraded_server_sends_no_data_before_the_client_preface() {
    // curl keeps at most 32 KiB of what follows the 101 in the read that brings it: a
    // response ready at once must not put a whole window of DATA behind the 101.
    let now = Instant::now();
    let client_config = Config::client();
    let value = Connection::http2_settings_value(&client_config);
    let head = http::Request::get("http://x/big")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let (mut server, key) =
        Connection::upgrade_from_http1(Config::server(), head.clone(), value.as_bytes(), now)
            .unwrap();
    let resp = http::Response::new(()).into_parts().0;
    server.send_response(key, &resp, false).unwrap();
    server
        .send_data(key, Bytes::from(vec![7u8; 60_000]), true)
        .unwrap();
    let is_data = |f: &pullhttp_proto::h2::frame::Frame| {
        matches!(f, pullhttp_proto::h2::frame::Frame::Data(_))
    };
    let first = written_frames(&mut server);
    assert!(
        !first.is_empty(),
        "SETTINGS and the response HEADERS go at once"
    );
    assert!(
        !first.iter().any(is_data),
        "no DATA before the preface: {first:?}"
    );
    // The client's preface and SETTINGS arrive: the body follows.
    let mut h1 = pullhttp_proto::h1::Connection::new(pullhttp_proto::h1::Config::client(), now);
    let ckey = h1.send_request(&head, true).unwrap();
    let mut client =
        Connection::client_upgrade_from_http1(client_config, ckey, &head, now).unwrap();
    transfer(&mut client, &mut server, now, usize::MAX);
    let data: usize = written_frames(&mut server)
        .iter()
        .map(|f| match f {
            pullhttp_proto::h2::frame::Frame::Data(d) => d.data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(data, 60_000);
}

#[test]
fn h2c_upgrade_client_and_server_continue_the_request_on_stream_1() {
    let now = Instant::now();
    // The client's HTTP2-Settings value carries its SETTINGS: make one non-default.
    let mut client_config = Config::client();
    client_config.initial_window_size = 1_000_000;
    let value = Connection::http2_settings_value(&client_config);
    assert!(!value.contains('=') && !value.contains('+') && !value.contains('/'));
    let head = http::Request::get("http://x/up")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let (mut server, skey) =
        Connection::upgrade_from_http1(Config::server(), head.clone(), value.as_bytes(), now)
            .unwrap();
    assert_eq!(server.peer_settings().initial_window_size, 1_000_000);
    // The request went out over HTTP/1.1 as that connection's first exchange.
    let mut h1 = pullhttp_proto::h1::Connection::new(pullhttp_proto::h1::Config::client(), now);
    let ckey = h1.send_request(&head, true).unwrap();
    let mut client =
        Connection::client_upgrade_from_http1(client_config.clone(), ckey, &head, now).unwrap();

    // The settings are in force at once; the preface's SETTINGS frame is empty.
    assert_eq!(client.local_settings().initial_window_size, 1_000_000);
    let mut out = Vec::new();
    for c in client.output_chunks() {
        out.extend_from_slice(c);
    }
    assert_eq!(
        &out[24..33],
        &[0, 0, 0, 4, 0, 0, 0, 0, 0],
        "an empty SETTINGS after the preface"
    );
    let mut got_request = false;
    let mut status = None;
    let mut body = Vec::new();
    for _ in 0..20 {
        transfer(&mut client, &mut server, now, usize::MAX);
        while let Some(e) = server.next_event() {
            if let Event::Request { key, head, .. } = e {
                assert_eq!(key, skey);
                assert_eq!(head.uri.path(), "/up");
                got_request = true;
                let resp = http::Response::new(()).into_parts().0;
                server.send_response(key, &resp, false).unwrap();
                server
                    .send_data(key, Bytes::from_static(b"over h2"), true)
                    .unwrap();
            }
        }
        transfer(&mut server, &mut client, now, usize::MAX);
        while let Some(e) = client.next_event() {
            match e {
                Event::Response { key, head, .. } if key == ckey => status = Some(head.status),
                Event::Data { key, data, .. } if key == ckey => body.extend_from_slice(&data),
                _ => {}
            }
        }
    }
    assert!(got_request);
    assert_eq!(status, Some(http::StatusCode::OK));
    assert_eq!(body, b"over h2");
    // The next request the client opens is stream 3.
    let next = http::Request::get("http://x/next")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert_eq!(client.send_request(&next, true).unwrap().id(), 3);
}
