//! A client connection against a server connection (RFC 9112): keep-alive, pipelining with
//! ordered responses, HTTP/1.0, 100-continue both ways, 101 and CONNECT hand-over with the
//! octets past the boundary, drain-or-close after an early response, and `Sent`.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use pullhttp_proto::RequestKey;
use pullhttp_proto::h1::{Config, Connection, Event, Upgrade};

fn get(uri: &str) -> http::request::Parts {
    http::Request::get(uri).body(()).unwrap().into_parts().0
}

fn ok() -> http::response::Parts {
    http::Response::new(()).into_parts().0
}

fn drain(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.next_event()).collect()
}

/// Moves all of `from`'s output into `to`; returns the octets moved.
fn pump(from: &mut Connection, to: &mut Connection, now: Instant) -> Vec<u8> {
    let mut buf = BytesMut::new();
    from.write_output(&mut buf);
    from.on_flushed();
    // Drivers free an idle connection's buffers whenever they wait: doing it at every
    // step shows it loses nothing wherever it happens.
    from.release_idle();
    to.handle_input(&buf, now);
    to.release_idle();
    buf.to_vec()
}

fn request_key(events: &[Event]) -> RequestKey {
    events
        .iter()
        .find_map(|e| match e {
            Event::Request { key, .. } => Some(*key),
            _ => None,
        })
        .expect("request")
}

#[test]
fn keep_alive_serves_sequential_requests_on_one_connection() {
    let now = Instant::now();
    let mut client = Connection::new(Config::client(), now);
    let mut server = Connection::new(Config::server(), now);
    for i in 0..3 {
        let ck = client
            .send_request(&get("http://example.com/a"), true)
            .unwrap();
        let wire = pump(&mut client, &mut server, now);
        assert!(wire.starts_with(b"GET http://example.com/a HTTP/1.1\r\nhost: example.com\r\n"));
        let sk = request_key(&drain(&mut server));
        server.send_response(sk, &ok(), false).unwrap();
        server
            .send_data(sk, Bytes::from(format!("body {i}")), true)
            .unwrap();
        pump(&mut server, &mut client, now);
        let events = drain(&mut client);
        let body: Vec<u8> = events
            .iter()
            .filter_map(|e| match e {
                Event::Data { key, data, .. } if *key == ck => Some(data.to_vec()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(body, format!("body {i}").as_bytes());
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Sent { key } if *key == ck))
        );
        assert!(
            drain(&mut server)
                .iter()
                .any(|e| matches!(e, Event::Sent { .. }))
        );
    }
    assert!(!server.is_closed() && !client.is_closed());
}

#[test]
fn pipelined_requests_are_parsed_one_at_a_time_and_answered_in_order() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(
        b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
        now,
    );
    let events = drain(&mut server);
    assert_eq!(events.len(), 1, "depth 1: the second request waits");
    let k1 = request_key(&events);
    server.send_response(k1, &ok(), true).unwrap();
    let events = drain(&mut server);
    let k2 = request_key(&events);
    server.send_response(k2, &ok(), true).unwrap();
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2);
}

#[test]
fn pipelining_depth_reads_ahead_and_keeps_responses_in_order() {
    let now = Instant::now();
    let mut config = Config::server();
    config.pipeline_depth = 3;
    let mut server = Connection::new(config, now);
    server.handle_input(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let keys: Vec<RequestKey> = drain(&mut server)
        .iter()
        .filter_map(|e| match e {
            Event::Request { key, .. } => Some(*key),
            _ => None,
        })
        .collect();
    assert_eq!(keys.len(), 3);
    // Answer out of order: 3, then 1, then 2; the wire keeps request order.
    for (k, body) in [(keys[2], "three"), (keys[0], "one"), (keys[1], "two")] {
        server.send_response(k, &ok(), false).unwrap();
        server.send_data(k, Bytes::from(body), true).unwrap();
    }
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (a, b, c) = (
        text.find("one").unwrap(),
        text.find("two").unwrap(),
        text.find("three").unwrap(),
    );
    assert!(a < b && b < c, "{text}");
}

#[test]
fn http10_request_gets_close_delimited_response_unless_keep_alive() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(b"GET / HTTP/1.0\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), false).unwrap();
    server
        .send_data(k, Bytes::from_static(b"hello"), true)
        .unwrap();
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(
        text.contains("connection: close") && !text.contains("chunked"),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\nhello"));
    assert!(server.is_closed());

    let mut server = Connection::new(Config::server(), now);
    server.handle_input(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    let mut head = ok();
    head.headers.insert("content-length", "5".parse().unwrap());
    server.send_response(k, &head, false).unwrap();
    server
        .send_data(k, Bytes::from_static(b"hello"), true)
        .unwrap();
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    assert!(String::from_utf8_lossy(&out).contains("connection: keep-alive"));
    assert!(!server.is_closed());
}

#[test]
fn expect_100_continue_server_reports_and_client_waits_for_it() {
    let now = Instant::now();
    let mut client = Connection::new(Config::client(), now);
    let mut server = Connection::new(Config::server(), now);
    let head = http::Request::post("/upload")
        .header("host", "a")
        .header("expect", "100-continue")
        .header("content-length", "5")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let ck = client.send_request(&head, false).unwrap();
    client
        .send_data(ck, Bytes::from_static(b"hello"), true)
        .unwrap();
    let wire = pump(&mut client, &mut server, now);
    assert!(!wire.ends_with(b"hello"), "the body waits for 100");
    let events = drain(&mut server);
    let Event::Request {
        key: sk,
        expect_continue: true,
        ..
    } = events[0]
    else {
        panic!("{events:?}")
    };
    server.send_continue(sk).unwrap();
    pump(&mut server, &mut client, now);
    assert!(
        drain(&mut client)
            .iter()
            .any(|e| matches!(e, Event::Informational { .. }))
    );
    let wire = pump(&mut client, &mut server, now);
    assert_eq!(wire, b"hello");
    assert!(drain(&mut server).iter().any(|e| matches!(
        e,
        Event::Data {
            end_stream: true,
            ..
        }
    )));
}

#[test]
fn expect_100_continue_client_sends_body_after_timeout() {
    let now = Instant::now();
    let mut client = Connection::new(Config::client(), now);
    let head = http::Request::post("/upload")
        .header("host", "a")
        .header("expect", "100-continue")
        .header("content-length", "5")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let ck = client.send_request(&head, false).unwrap();
    client
        .send_data(ck, Bytes::from_static(b"hello"), true)
        .unwrap();
    let mut out = BytesMut::new();
    client.write_output(&mut out);
    let deadline = client.next_deadline().expect("continue timer");
    assert_eq!(deadline, now + Duration::from_secs(1));
    client.handle_timeout(deadline);
    let mut out = BytesMut::new();
    client.write_output(&mut out);
    assert_eq!(&out[..], b"hello");
}

#[test]
fn upgrade_101_hands_over_trailing_bytes_and_never_parses_them() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(
        b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05helloGET / HTTP/1.1\r\n\r\n",
        now,
    );
    let events = drain(&mut server);
    assert_eq!(
        events.len(),
        1,
        "nothing after the upgrade request is parsed"
    );
    let Event::Request {
        key,
        upgrade: Some(Upgrade::Protocol(p)),
        ..
    } = &events[0]
    else {
        panic!("{events:?}")
    };
    assert_eq!(p, "websocket");
    let mut head = ok();
    head.status = http::StatusCode::SWITCHING_PROTOCOLS;
    head.headers.insert("upgrade", "websocket".parse().unwrap());
    head.headers
        .insert("connection", "Upgrade".parse().unwrap());
    server.send_response(*key, &head, false).unwrap();
    assert!(matches!(drain(&mut server)[..], [Event::Upgraded { .. }]));
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    assert!(out.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    let rest = server.take_upgraded();
    assert_eq!(&rest[..], b"\x81\x05helloGET / HTTP/1.1\r\n\r\n");
}

#[test]
fn declined_upgrade_resumes_http() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), true).unwrap();
    let events = drain(&mut server);
    assert!(matches!(&events[0], Event::Request { head, .. } if head.uri.path() == "/next"));
}

#[test]
fn connect_2xx_is_a_tunnel_for_both_roles() {
    let now = Instant::now();
    let mut client = Connection::new(Config::client(), now);
    let mut server = Connection::new(Config::server(), now);
    let head = http::Request::connect("example.com:443")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let ck = client.send_request(&head, true).unwrap();
    let wire = pump(&mut client, &mut server, now);
    assert!(
        wire.starts_with(b"CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n"),
        "{}",
        String::from_utf8_lossy(&wire)
    );
    let sk = request_key(&drain(&mut server));
    server.send_response(sk, &ok(), false).unwrap();
    let mut wire = BytesMut::new();
    server.write_output(&mut wire);
    wire.extend_from_slice(b"TLS bytes");
    client.handle_input(&wire, now);
    let events = drain(&mut client);
    assert!(
        matches!(&events[..], [Event::Sent { .. }, Event::Response { key, .. }, Event::Upgraded { .. }] if *key == ck),
        "{events:?}"
    );
    assert_eq!(&client.take_upgraded()[..], b"TLS bytes");
}

#[test]
fn early_response_drains_small_unread_body_and_keeps_the_connection() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234",
        now,
    );
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), true).unwrap();
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    assert!(!String::from_utf8_lossy(&out).contains("connection: close"));
    server.handle_input(b"56789GET /next HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let events = drain(&mut server);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Request { head, .. } if head.uri.path() == "/next")),
        "{events:?}"
    );
}

#[test]
fn early_response_with_large_unread_body_closes() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n01234",
        now,
    );
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), true).unwrap();
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    assert!(String::from_utf8_lossy(&out).contains("connection: close"));
    assert!(server.is_closed());
}

#[test]
fn client_response_framing_head_204_304_and_close_delimited() {
    let now = Instant::now();
    let mut client = Connection::new(Config::client(), now);
    let head = http::Request::head("http://a/")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    client.send_request(&head, true).unwrap();
    client.write_output(&mut BytesMut::new());
    client.handle_input(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", now);
    let events = drain(&mut client);
    assert!(
        matches!(
            events[0],
            Event::Response {
                end_stream: true,
                ..
            }
        ),
        "HEAD: no body"
    );

    let mut client = Connection::new(Config::client(), now);
    client.send_request(&get("http://a/"), true).unwrap();
    client.handle_input(b"HTTP/1.1 200 OK\r\n\r\npart one ", now);
    client.handle_input(b"part two", now);
    client.handle_eof(now);
    let events = drain(&mut client);
    let body: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            Event::Data { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(body, b"part one part two");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Data {
            end_stream: true,
            ..
        }
    )));
}

#[test]
fn request_target_forms_and_host_as_the_caller_set_them() {
    let now = Instant::now();
    let cases = [
        (
            http::Request::get("/path?q")
                .header("Host", "custom.example")
                .body(())
                .unwrap(),
            "GET /path?q HTTP/1.1\r\nhost: custom.example\r\n",
        ),
        (
            http::Request::get("http://proxy.target/x")
                .body(())
                .unwrap(),
            "GET http://proxy.target/x HTTP/1.1\r\nhost: proxy.target\r\n",
        ),
        (
            http::Request::options("*")
                .header("host", "a")
                .body(())
                .unwrap(),
            "OPTIONS * HTTP/1.1\r\nhost: a\r\n",
        ),
    ];
    for (req, prefix) in cases {
        let mut client = Connection::new(Config::client(), now);
        client.send_request(&req.into_parts().0, true).unwrap();
        let mut out = BytesMut::new();
        client.write_output(&mut out);
        assert!(
            out.starts_with(prefix.as_bytes()),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
}

#[test]
fn sent_fires_only_after_flush_of_the_last_chunk() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), false).unwrap();
    server
        .send_data(k, Bytes::from_static(b"abc"), false)
        .unwrap();
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    server.on_flushed();
    assert!(drain(&mut server).is_empty(), "not the last chunk yet");
    server.send_data(k, Bytes::new(), true).unwrap();
    server.write_output(&mut out);
    assert!(drain(&mut server).is_empty(), "written but not flushed");
    server.on_flushed();
    assert!(matches!(drain(&mut server)[..], [Event::Sent { key }] if key == k));
    assert!(out.ends_with(b"3\r\nabc\r\n0\r\n\r\n"));
}

#[test]
fn idle_keep_alive_and_head_timeouts_close() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(b"GET / HTT", now);
    let deadline = server.next_deadline().unwrap();
    server.handle_timeout(deadline);
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    assert!(out.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"));
    assert!(server.is_closed());

    let mut server = Connection::new(Config::server(), now);
    server.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), true).unwrap();
    server.write_output(&mut BytesMut::new());
    let idle = server.next_deadline().unwrap();
    assert_eq!(idle, now + Duration::from_secs(60));
    server.handle_timeout(idle);
    assert!(server.is_closed());
}

#[test]
fn max_requests_closes_after_the_last_allowed_response() {
    let now = Instant::now();
    let mut config = Config::server();
    config.max_requests = Some(2);
    let mut server = Connection::new(config, now);
    server.handle_input(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), true).unwrap();
    server.handle_input(b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), true).unwrap();
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(text.matches("connection: close").count(), 1, "{text}");
    assert!(text.rfind("connection: close") > text.find("HTTP/1.1 200 OK\r\ncontent-length"));
    assert!(server.is_closed());
}

#[test]
fn client_204_and_304_responses_have_no_body() {
    let now = Instant::now();
    for status in ["204 No Content", "304 Not Modified"] {
        let mut client = Connection::new(Config::client(), now);
        client.send_request(&get("http://a/"), true).unwrap();
        let response = format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n");
        client.handle_input(response.as_bytes(), now);
        let events = drain(&mut client);
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::Response {
                    end_stream: true,
                    ..
                }
            )),
            "{status}"
        );
        // The connection is ready for the next request at once.
        assert!(
            client.send_request(&get("http://a/"), true).is_ok(),
            "{status}"
        );
    }
}

#[test]
fn server_response_to_head_keeps_content_length_and_sends_no_body() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    let mut head = ok();
    head.headers
        .insert("content-length", "1234".parse().unwrap());
    server.send_response(k, &head, false).unwrap();
    assert!(
        server.send_data(k, Bytes::from_static(b"x"), true).is_err(),
        "no body after HEAD"
    );
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    assert_eq!(&out[..], b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n");
}

#[test]
fn upgrade_h2c_with_http2_settings_is_recognised() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", now);
    let events = drain(&mut server);
    let Event::Request {
        upgrade: Some(Upgrade::H2c(settings)),
        ..
    } = &events[0]
    else {
        panic!("{events:?}")
    };
    assert_eq!(settings, "AAMAAABkAARAAAAAAAIAAAAA");
}

#[test]
fn drain_after_early_response_times_out_and_closes() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.handle_input(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123",
        now,
    );
    let k = request_key(&drain(&mut server));
    server.send_response(k, &ok(), true).unwrap();
    server.write_output(&mut BytesMut::new());
    assert!(!server.is_closed());
    let deadline = server.next_deadline().unwrap();
    assert_eq!(deadline, now + Duration::from_secs(5));
    server.handle_timeout(deadline);
    assert!(server.is_closed());
}

#[test]
fn date_is_added_when_set_and_missing_and_early_hints_precede_the_final_response() {
    let now = Instant::now();
    let mut server = Connection::new(Config::server(), now);
    server.set_date("Sat, 21 Nov 2026 22:00:00 GMT".parse().unwrap());
    server.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    let hints = http::Response::builder()
        .status(103)
        .header("link", "</a.css>; rel=preload")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    server.send_informational(k, &hints).unwrap();
    server.send_response(k, &ok(), true).unwrap();
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    assert!(
        text.starts_with(
            "HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n"
        ),
        "{text}"
    );
    assert!(text.contains("date: Sat, 21 Nov 2026 22:00:00 GMT\r\n"));
}

#[test]
fn send_data_beyond_the_send_buffer_accepts_part_and_announces_writable() {
    let now = Instant::now();
    let mut config = Config::server();
    config.max_send_buffer = 1000;
    let mut server = Connection::new(config, now);
    server.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", now);
    let k = request_key(&drain(&mut server));
    let mut head = ok();
    head.headers
        .insert("content-length", "3000".parse().unwrap());
    server.send_response(k, &head, false).unwrap();
    let data = Bytes::from(vec![b'x'; 3000]);
    let n = server.send_data(k, data.clone(), true).unwrap();
    assert!(n < 3000, "only part fits: {n}");
    let mut out = BytesMut::new();
    server.write_output(&mut out);
    assert!(matches!(drain(&mut server)[..], [Event::Writable { key }] if key == k));
    let mut rest = data.slice(n..);
    while !rest.is_empty() {
        let m = server.send_data(k, rest.clone(), true).unwrap();
        rest = rest.slice(m..);
        server.write_output(&mut out);
    }
    server.on_flushed();
    assert!(
        drain(&mut server)
            .iter()
            .any(|e| matches!(e, Event::Sent { .. }))
    );
    assert!(out.ends_with(&[b'x'; 3000]));
}
