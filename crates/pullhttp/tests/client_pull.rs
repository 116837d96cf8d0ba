//! The client pull API (`client::Connection`) against real servers: `hyper` (HTTP/1.1), the
//! Rust `h2` server (HTTP/2), and raw sockets where the exact octets on the wire matter
//! (request-target forms, `Host`, CONNECT hand-over).

mod common;

use std::collections::HashMap;
use std::convert::Infallible;

use bytes::Bytes;
use common::{body, read_head};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use pullhttp::client::{self, Event};
use pullhttp::{ErrorCode, RequestKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// What came back for one request.
#[derive(Debug, Default)]
struct Answer {
    status: u16,
    body: Vec<u8>,
    informational: Vec<u16>,
    reset: Option<(ErrorCode, bool)>,
}

/// Drives `conn` until every key in `keys` has its response body complete (or a reset),
/// releasing HTTP/2 capacity as data is taken. `pending` holds request bodies still to send.
async fn run(
    conn: &mut client::Connection<DuplexStream>,
    keys: &[RequestKey],
    mut pending: HashMap<RequestKey, Bytes>,
) -> HashMap<RequestKey, Answer> {
    let mut answers: HashMap<RequestKey, Answer> = HashMap::new();
    let mut finished = std::collections::HashSet::new();
    for (&key, data) in &mut pending {
        let n = conn.send_data(key, data.clone(), true).unwrap();
        *data = data.slice(n..);
    }
    pending.retain(|_, d| !d.is_empty());
    while !keys.iter().all(|k| finished.contains(k)) {
        let event = conn
            .next_event()
            .await
            .unwrap()
            .expect("connection ended early");
        match event {
            Event::Response {
                key,
                head,
                end_stream,
            } => {
                answers.entry(key).or_default().status = head.status.as_u16();
                if end_stream {
                    finished.insert(key);
                }
            }
            Event::Informational { key, head } => answers
                .entry(key)
                .or_default()
                .informational
                .push(head.status.as_u16()),
            Event::Data {
                key,
                data,
                end_stream,
            } => {
                conn.release_capacity(key, data.len());
                answers
                    .entry(key)
                    .or_default()
                    .body
                    .extend_from_slice(&data);
                if end_stream {
                    finished.insert(key);
                }
            }
            Event::Trailers { key, .. } => {
                finished.insert(key);
            }
            Event::Writable { key } => {
                if let Some(data) = pending.remove(&key) {
                    let n = conn.send_data(key, data.clone(), true).unwrap();
                    if n < data.len() {
                        pending.insert(key, data.slice(n..));
                    }
                }
            }
            Event::Reset {
                key,
                code,
                retryable,
                ..
            } => {
                answers.entry(key).or_default().reset = Some((code, retryable));
                finished.insert(key);
            }
            _ => {}
        }
    }
    answers
}

fn head(req: Request<()>) -> http::request::Parts {
    req.into_parts().0
}

async fn hyper_echo(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = req.uri().to_string();
    let host = req
        .headers()
        .get("host")
        .map(|h| h.to_str().unwrap().to_owned());
    let data = req.into_body().collect().await.unwrap().to_bytes();
    let reply = if data.is_empty() {
        Bytes::from(format!("{target} host={host:?}"))
    } else {
        data
    };
    Ok(Response::new(Full::new(reply)))
}

#[tokio::test]
async fn http1_requests_against_hyper_with_keep_alive() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(b), hyper::service::service_fn(hyper_echo))
            .await
    });
    let mut conn = client::connect(a);
    assert_eq!(conn.version(), http::Version::HTTP_11);
    let get = head(
        Request::get("/hello?x=1")
            .header("host", "example.org")
            .body(())
            .unwrap(),
    );
    let key = conn.send_request(&get, true).unwrap();
    assert!(
        !conn.can_send_request(),
        "one request in flight on HTTP/1.1"
    );
    let answers = run(&mut conn, &[key], HashMap::new()).await;
    assert_eq!(answers[&key].status, 200);
    assert_eq!(answers[&key].body, b"/hello?x=1 host=Some(\"example.org\")");
    // A second, larger request on the same connection, its body larger than any buffer.
    let data = Bytes::from(body(3, 700_000));
    let post = head(
        Request::post("/echo")
            .header("host", "example.org")
            .header("content-length", data.len())
            .body(())
            .unwrap(),
    );
    let key2 = conn.send_request(&post, false).unwrap();
    let answers = run(&mut conn, &[key2], HashMap::from([(key2, data.clone())])).await;
    assert!(answers[&key2].body == data[..]);
}

#[tokio::test]
async fn http2_concurrent_streams_with_large_bodies_against_the_h2_server() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(common::h2_echo_server(b));
    let mut builder = client::Builder::new();
    builder.version(client::Version::Http2);
    let mut conn = builder.connect(a);
    let mut keys = Vec::new();
    let mut pending = HashMap::new();
    let mut sent = HashMap::new();
    for i in 0..6u8 {
        let req = head(
            Request::post(format!("http://example.org/{i}"))
                .body(())
                .unwrap(),
        );
        let key = conn.send_request(&req, false).unwrap();
        let data = Bytes::from(body(i, 200_000 + usize::from(i) * 10_000));
        pending.insert(key, data.clone());
        sent.insert(key, data);
        keys.push(key);
    }
    let answers = run(&mut conn, &keys, pending).await;
    for key in keys {
        assert_eq!(answers[&key].status, 200);
        assert!(
            answers[&key].body == sent[&key][..],
            "{key:?} echoed byte for byte"
        );
    }
    assert!(conn.peer_settings().is_some());
}

#[tokio::test]
async fn request_targets_and_host_are_written_exactly_as_given() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let mut conn = client::connect(a);
    let proxy = head(
        Request::get("http://origin.example:8080/path?q")
            .header("host", "Origin.Example:8080")
            .body(())
            .unwrap(),
    );
    let key = conn.send_request(&proxy, true).unwrap();
    let server = tokio::spawn(async move {
        let first = read_head(&mut b).await;
        b.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        let second = read_head(&mut b).await;
        b.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\ntunnel-bytes")
            .await
            .unwrap();
        let mut rest = [0; 5];
        b.read_exact(&mut rest).await.unwrap();
        (first, second, rest)
    });
    run(&mut conn, &[key], HashMap::new()).await;
    let connect = head(
        Request::connect("origin.example:443")
            .header("host", "origin.example:443")
            .body(())
            .unwrap(),
    );
    let key = conn.send_request(&connect, true).unwrap();
    loop {
        match conn.next_event().await.unwrap().unwrap() {
            Event::Response { head, .. } => assert_eq!(head.status, 200),
            Event::Upgraded { key: k } => {
                assert_eq!(k, key);
                break;
            }
            _ => {}
        }
    }
    let mut parts = conn.into_parts().await.unwrap();
    let mut got = parts.read_buf.to_vec();
    while got.len() < b"tunnel-bytes".len() {
        let mut buf = [0; 64];
        let n = parts.io.read(&mut buf).await.unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"tunnel-bytes");
    parts.io.write_all(b"hello").await.unwrap();
    let (first, second, rest) = server.await.unwrap();
    assert!(
        first.starts_with("GET http://origin.example:8080/path?q HTTP/1.1\r\n"),
        "{first}"
    );
    assert!(first.contains("host: Origin.Example:8080\r\n"), "{first}");
    assert!(
        second.starts_with("CONNECT origin.example:443 HTTP/1.1\r\n"),
        "{second}"
    );
    assert_eq!(&rest, b"hello");
}

#[tokio::test]
async fn an_early_response_with_rst_stream_no_error_does_not_hang() {
    let (a, b) = tokio::io::duplex(64 << 10);
    // Our own server as the peer, because it can tell when the response was flushed: the
    // RST_STREAM(NO_ERROR) must come after it, as nginx sends it.
    tokio::spawn(async move {
        let mut server = pullhttp::server::handshake(b);
        while let Ok(Some((key, _req))) = server.next_request().await {
            let head = Response::new(()).into_parts().0;
            server.send_response(key, &head, false).unwrap();
            server
                .write_all(key, Bytes::from_static(b"too large"), true)
                .await
                .unwrap();
            if server.sent(key).await.is_ok() {
                let _ = server.reset_with(key, ErrorCode::NO_ERROR);
            }
        }
    });
    let mut builder = client::Builder::new();
    builder.version(client::Version::Http2);
    let mut conn = builder.connect(a);
    let req = head(Request::post("http://example.org/upload").body(()).unwrap());
    let key = conn.send_request(&req, false).unwrap();
    let upload = Bytes::from(body(1, 1 << 20));
    let answers = run(&mut conn, &[key], HashMap::from([(key, upload)])).await;
    let answer = &answers[&key];
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, b"too large");
    // The upload stops: the stream ends for us without an error the response could not
    // survive, and the connection stays usable.
    let again = head(Request::get("http://example.org/next").body(()).unwrap());
    let key2 = conn.send_request(&again, true).unwrap();
    let answers = run(&mut conn, &[key2], HashMap::new()).await;
    assert_eq!(answers[&key2].status, 200);
}

#[tokio::test]
async fn goaway_fails_requests_above_its_last_stream_as_retryable() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let mut builder = client::Builder::new();
    builder.version(client::Version::Http2);
    let mut conn = builder.connect(a);
    let first = conn
        .send_request(&head(Request::get("http://x/1").body(()).unwrap()), true)
        .unwrap();
    let second = conn
        .send_request(&head(Request::get("http://x/2").body(()).unwrap()), true)
        .unwrap();
    // A scripted server answers stream 1 and refuses the rest with GOAWAY(last = 1).
    b.write_all(&common::goaway_after_stream_1()).await.unwrap();
    let mut goaway = None;
    let mut first_status = None;
    loop {
        match conn
            .next_event()
            .await
            .unwrap()
            .expect("connection ended early")
        {
            Event::Response { key, head, .. } if key == first => first_status = Some(head.status),
            Event::GoAway { last_stream_id, .. } => goaway = Some(last_stream_id),
            Event::Reset {
                key,
                code,
                retryable,
                ..
            } if key == second => {
                assert_eq!(code, ErrorCode::REFUSED_STREAM);
                assert!(retryable, "above the GOAWAY's last stream: safe to retry");
                break;
            }
            Event::Response { key, .. } if key == second => {
                panic!("the server processed a request it refused")
            }
            _ => {}
        }
    }
    assert_eq!(first_status, Some(http::StatusCode::OK));
    assert_eq!(goaway, Some(1));
    let err = conn
        .send_request(&head(Request::get("http://x/3").body(()).unwrap()), true)
        .unwrap_err();
    assert!(err.is_misuse(), "no new requests after GOAWAY: {err}");
    drop(b);
}
