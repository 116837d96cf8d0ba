//! RFC 9112 head and framing rules as table tests through a server connection: each case is
//! input bytes and the expected outcome (a request with a body length, or the status the
//! server answers before closing). Includes the request-smuggling classes.

use std::time::Instant;

use bytes::BytesMut;
use pullhttp_proto::h1::{Config, Connection, ConnectionError, Event, ParseError};

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// A request whose body (all Data events) is this many octets.
    Body(usize),
    /// The connection answered this status and closed.
    Status(u16),
}

fn serve_with(config: Config, input: &[u8]) -> (Outcome, String) {
    let now = Instant::now();
    let mut conn = Connection::new(config, now);
    conn.handle_input(input, now);
    let mut body = 0;
    let mut requests = 0;
    let mut outcome = None;
    while let Some(e) = conn.next_event() {
        match e {
            Event::Request { .. } => requests += 1,
            Event::Data { data, .. } => body += data.len(),
            Event::Closed {
                error: Some(ConnectionError::Peer(e)),
            } => {
                outcome = Some(Status(e.status().as_u16()));
            }
            _ => {}
        }
    }
    let mut out = BytesMut::new();
    conn.write_output(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    if let Some(o) = outcome {
        assert!(
            text.starts_with("HTTP/1.1 "),
            "an error response was written: {text:?}"
        );
        assert!(text.contains("connection: close"), "{text:?}");
        return (o, text);
    }
    assert_eq!(requests, 1, "exactly one request");
    (Body(body), text)
}

fn serve(input: &[u8]) -> Outcome {
    serve_with(Config::server(), input).0
}

use Outcome::{Body, Status};

#[test]
fn content_length_rules_rfc9112_s6_3() {
    let cases: &[(&str, &[u8], Outcome)] = &[
        (
            "valid",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
            Body(3),
        ),
        (
            "identical duplicates",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
            Body(3),
        ),
        (
            "identical list",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
            Body(3),
        ),
        (
            "differing duplicates",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            Status(400),
        ),
        (
            "differing list",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd",
            Status(400),
        ),
        (
            "sign",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
            Status(400),
        ),
        (
            "negative",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\nabc",
            Status(400),
        ),
        (
            "hex",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc",
            Status(400),
        ),
        (
            "empty value",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
            Status(400),
        ),
        (
            "overflow",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
            Status(400),
        ),
    ];
    for (name, input, expected) in cases {
        assert_eq!(&serve(input), expected, "{name}");
    }
}

#[test]
fn transfer_encoding_rules_rfc9112_s6_1() {
    let cases: &[(&str, &[u8], Outcome)] = &[
        ("chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", Body(3)),
        ("case-insensitive", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", Body(3)),
        ("TE then CL", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", Status(400)),
        ("CL then TE", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", Status(400)),
        ("chunked, chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", Status(400)),
        ("chunked twice in two fields", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", Status(400)),
        ("chunked not final", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Status(400)),
        ("gzip, chunked (unsupported coding)", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Status(501)),
        ("unknown coding alone", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", Status(400)),
        ("TE on HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", Status(400)),
        ("chunk size 0x", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", Status(400)),
        ("chunk size +", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n", Status(400)),
        ("chunk size leading space", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n", Status(400)),
        ("chunk size 17 digits", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000003\r\nabc\r\n0\r\n\r\n", Status(400)),
    ];
    for (name, input, expected) in cases {
        assert_eq!(&serve(input), expected, "{name}");
    }
}

#[test]
fn head_syntax_rules_rfc9112_s2_to_s5() {
    let cases: &[(&str, &[u8], Outcome)] = &[
        ("minimal", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Body(0)),
        ("HTTP/1.0 without Host", b"GET / HTTP/1.0\r\n\r\n", Body(0)),
        (
            "bare LF lines (documented decision)",
            b"GET / HTTP/1.1\nHost: a\n\n",
            Body(0),
        ),
        ("missing Host", b"GET / HTTP/1.1\r\n\r\n", Status(400)),
        (
            "duplicate Host",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            Status(400),
        ),
        (
            "space before colon",
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            Status(400),
        ),
        (
            "obs-fold",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n",
            Status(400),
        ),
        (
            "bare CR in value",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n",
            Status(400),
        ),
        (
            "CR LF CR X after head",
            b"GET / HTTP/1.1\r\nHost: a\r\n\rX",
            Status(400),
        ),
        (
            "NUL in value",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x002\r\n\r\n",
            Status(400),
        ),
        (
            "CTL in value",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x012\r\n\r\n",
            Status(400),
        ),
        (
            "DEL in value",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x7f2\r\n\r\n",
            Status(400),
        ),
        (
            "non-token name",
            b"GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n",
            Status(400),
        ),
        (
            "HTTP/2.0",
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            Status(505),
        ),
        (
            "HTTP/1.2",
            b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
            Status(505),
        ),
        (
            "lowercase http/1.1",
            b"GET / http/1.1\r\nHost: a\r\n\r\n",
            Status(400),
        ),
        (
            "garbage version",
            b"GET / HTCPCP/1.0\r\nHost: a\r\n\r\n",
            Status(400),
        ),
        (
            "authority-form without CONNECT",
            b"GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n",
            Status(400),
        ),
        (
            "asterisk without OPTIONS",
            b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
            Status(400),
        ),
        (
            "unknown Expect",
            b"GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n",
            Status(417),
        ),
    ];
    for (name, input, expected) in cases {
        assert_eq!(&serve(input), expected, "{name}");
    }
}

#[test]
fn size_limits_answer_414_and_431() {
    let mut config = Config::server();
    config.max_target_len = 100;
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(200));
    assert_eq!(
        serve_with(config.clone(), long_target.as_bytes()).0,
        Status(414)
    );
    // A target that never ends is refused before the whole line arrives.
    let endless = format!("GET /{}", "a".repeat(200));
    assert_eq!(serve_with(config, endless.as_bytes()).0, Status(414));

    let mut config = Config::server();
    config.max_head_size = 1024;
    let big = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "v".repeat(2000)
    );
    assert_eq!(serve_with(config.clone(), big.as_bytes()).0, Status(431));
    let unfinished = format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}", "v".repeat(2000));
    assert_eq!(serve_with(config, unfinished.as_bytes()).0, Status(431));

    let mut config = Config::server();
    config.max_headers = 5;
    let many: String = (0..10).map(|i| format!("X-{i}: v\r\n")).collect();
    let input = format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n");
    assert_eq!(serve_with(config, input.as_bytes()).0, Status(431));
}

#[test]
fn after_framing_error_nothing_more_is_read() {
    let now = Instant::now();
    let mut conn = Connection::new(Config::server(), now);
    conn.handle_input(
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        now,
    );
    let events: Vec<Event> = std::iter::from_fn(|| conn.next_event()).collect();
    assert!(!events.iter().any(|e| matches!(e, Event::Request { .. })));
    assert!(matches!(
        events.last(),
        Some(Event::Closed {
            error: Some(ConnectionError::Peer(ParseError::InvalidContentLength))
        })
    ));
    assert!(!conn.wants_read());
    conn.handle_input(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", now);
    assert!(conn.next_event().is_none());
}

#[test]
fn header_case_and_order_are_preserved_on_the_request() {
    let now = Instant::now();
    let mut config = Config::server();
    config.preserve_header_case = true;
    let mut conn = Connection::new(config, now);
    conn.handle_input(
        b"GET / HTTP/1.1\r\nhOsT: a\r\nX-Zed: 1\r\nx-alpha: 2\r\nX-Zed: 3\r\n\r\n",
        now,
    );
    let Some(Event::Request { head, .. }) = conn.next_event() else {
        panic!()
    };
    let case = head
        .extensions
        .get::<pullhttp_proto::h1::HeaderCase>()
        .unwrap();
    let names: Vec<&[u8]> = case.names().collect();
    assert_eq!(names, [&b"hOsT"[..], b"X-Zed", b"x-alpha", b"X-Zed"]);
    assert_eq!(head.headers.get_all("x-zed").iter().count(), 2);
}

#[test]
fn header_case_is_not_kept_by_default() {
    let now = Instant::now();
    let mut conn = Connection::new(Config::server(), now);
    conn.handle_input(b"GET / HTTP/1.1\r\nhOsT: a\r\nX-Zed: 1\r\n\r\n", now);
    let Some(Event::Request { head, .. }) = conn.next_event() else {
        panic!()
    };
    assert!(
        head.extensions
            .get::<pullhttp_proto::h1::HeaderCase>()
            .is_none()
    );
    assert_eq!(head.headers["x-zed"], "1");
}
