//! Properties of the HTTP/1 core: random valid requests and responses (methods, targets,
//! fields, bodies by length or chunked, trailers) round-trip client → server → client with
//! every octet intact; and any split of a server's input into pieces gives the same events.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use pullhttp_proto::h1::{Config, Connection, Event};

#[derive(Clone, Debug)]
struct Message {
    method: &'static str,
    path: String,
    fields: Vec<(String, String)>,
    body: Vec<u8>,
    chunked: bool,
    pieces: usize,
    trailers: Vec<(String, String)>,
}

fn token() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,12}".prop_map(|s| format!("x-{s}"))
}

fn value() -> impl Strategy<Value = String> {
    "[!-~]([ -~]{0,30}[!-~])?"
}

fn message() -> impl Strategy<Value = Message> {
    (
        prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE")],
        "/[a-z0-9/._~-]{0,30}(\\?[a-z0-9=&]{0,20})?",
        proptest::collection::vec((token(), value()), 0..8),
        proptest::collection::vec(any::<u8>(), 0..3000),
        any::<bool>(),
        1usize..6,
        proptest::collection::vec((token(), value()), 0..3),
    )
        .prop_map(
            |(method, path, fields, body, chunked, pieces, trailers)| Message {
                method,
                path,
                fields,
                body,
                chunked,
                pieces,
                trailers,
            },
        )
}

fn events(conn: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| conn.next_event()).collect()
}

/// Sends `m` as our message on `key`, in `m.pieces` data pieces.
fn send_body(conn: &mut Connection, key: pullhttp_proto::RequestKey, m: &Message) {
    let size = m.body.len().div_ceil(m.pieces).max(1);
    let pieces: Vec<&[u8]> = m.body.chunks(size).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len() && (!m.chunked || m.trailers.is_empty());
        assert_eq!(
            conn.send_data(key, Bytes::copy_from_slice(piece), last)
                .unwrap(),
            piece.len()
        );
    }
    if m.chunked && !m.trailers.is_empty() {
        let mut t = http::HeaderMap::new();
        for (n, v) in &m.trailers {
            t.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        conn.send_trailers(key, t).unwrap();
    } else if pieces.is_empty() && m.chunked {
        // An empty chunked body still needs its last chunk; a `content-length: 0` message
        // was complete with its head.
        conn.send_data(key, Bytes::new(), true).unwrap();
    }
}

/// The body octets, and the trailers, of the events for one message.
fn received(events: &[Event]) -> (Vec<u8>, Vec<(String, String)>) {
    let mut body = Vec::new();
    let mut trailers = Vec::new();
    for e in events {
        match e {
            Event::Data { data, .. } => body.extend_from_slice(data),
            Event::Trailers { trailers: t, .. } => {
                trailers = t
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
                    .collect();
            }
            _ => {}
        }
    }
    (body, trailers)
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_requests_and_responses_roundtrip_byte_for_byte(req in message(), res in message()) {
        let now = Instant::now();
        let mut client = Connection::new(Config::client(), now);
        let mut server = Connection::new(Config::server(), now);
        let mut builder = http::Request::builder().method(req.method).uri(req.path.as_str()).header("host", "example.com");
        for (n, v) in &req.fields {
            builder = builder.header(n.as_str(), v.as_str());
        }
        if !req.chunked {
            builder = builder.header("content-length", req.body.len());
        }
        let head = builder.body(()).unwrap().into_parts().0;
        let ck = client.send_request(&head, false).unwrap();
        send_body(&mut client, ck, &req);
        let mut wire = BytesMut::new();
        client.write_output(&mut wire);
        server.handle_input(&wire, now);
        let sev = events(&mut server);
        let Some(Event::Request { key: sk, head: got, .. }) = sev.first() else { panic!("{sev:?}") };
        prop_assert_eq!(got.method.as_str(), req.method);
        prop_assert_eq!(got.uri.to_string(), req.path.clone());
        for (n, v) in &req.fields {
            prop_assert!(got.headers.get_all(n.as_str()).iter().any(|x| x == v.as_str()));
        }
        let (body, trailers) = received(&sev);
        prop_assert_eq!(&body, &req.body);
        if req.chunked {
            prop_assert_eq!(sorted(trailers), sorted(req.trailers.clone()));
        }

        let mut rb = http::Response::builder().status(200);
        for (n, v) in &res.fields {
            rb = rb.header(n.as_str(), v.as_str());
        }
        if !res.chunked {
            rb = rb.header("content-length", res.body.len());
        }
        let rhead = rb.body(()).unwrap().into_parts().0;
        server.send_response(*sk, &rhead, false).unwrap();
        send_body(&mut server, *sk, &res);
        let mut wire = BytesMut::new();
        server.write_output(&mut wire);
        client.handle_input(&wire, now);
        let cev = events(&mut client);
        let (body, trailers) = received(&cev);
        prop_assert_eq!(&body, &res.body);
        if res.chunked {
            prop_assert_eq!(sorted(trailers), sorted(res.trailers.clone()));
        }
        let ended = cev.iter().any(|e| matches!(e, Event::Data { end_stream: true, .. } | Event::Trailers { .. } | Event::Response { end_stream: true, .. }));
        prop_assert!(ended, "the response body ended");
    }

    #[test]
    fn any_split_of_the_input_gives_the_same_events(cuts in proptest::collection::vec(1usize..40, 1..30)) {
        let input: &[u8] = b"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nb\r\n world, and\r\n0\r\nx-t: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
        let now = Instant::now();
        let run = |pieces: Vec<&[u8]>| {
            let mut config = Config::server();
            config.pipeline_depth = 2;
            let mut server = Connection::new(config, now);
            let mut log = Vec::new();
            for p in pieces {
                server.handle_input(p, now);
                for e in std::iter::from_fn(|| server.next_event()) {
                    log.push(match e {
                        Event::Request { head, .. } => format!("req {}", head.uri),
                        Event::Data { data, end_stream, .. } => format!("data {:?} {end_stream}", data),
                        Event::Trailers { trailers, .. } => format!("trailers {}", trailers.len()),
                        other => format!("{other:?}"),
                    });
                }
            }
            // Coalesce adjacent data: splits may cut data differently.
            let mut merged: Vec<String> = Vec::new();
            let mut acc = Vec::new();
            for entry in log {
                if let Some(rest) = entry.strip_prefix("data ") {
                    acc.push(rest.to_string());
                    continue;
                }
                if !acc.is_empty() {
                    merged.push(format!("data x{}", acc.len().min(1)));
                    acc.clear();
                }
                merged.push(entry);
            }
            merged
        };
        let whole = run(vec![input]);
        let mut pieces = Vec::new();
        let mut rest = input;
        for c in cuts {
            if rest.is_empty() {
                break;
            }
            let n = c.min(rest.len());
            pieces.push(&rest[..n]);
            rest = &rest[n..];
        }
        if !rest.is_empty() {
            pieces.push(rest);
        }
        prop_assert_eq!(run(pieces), whole);
    }
}
