//! Runs the handle-API examples (`h2_handles`, `websocket_server`, `stream_split`) as real
//! processes on ports the test picks, talks to them with the Rust `h2`, `hyper` and
//! `tokio-tungstenite` clients, and stops them by PID. The Python, Node and curl clients
//! drive the same examples in `scripts/interop`.

mod common;

use std::io::BufRead;

use bytes::Bytes;
use common::{Stop, start, start_with};
use futures_util::{SinkExt, StreamExt};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

async fn h2_connect(addr: &str) -> h2::client::SendRequest<Bytes> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// Reads an `h2` body to its end with its trailers.
async fn h2_body(mut body: h2::RecvStream) -> (Vec<u8>, Option<http::HeaderMap>) {
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        body.flow_control().release_capacity(chunk.len()).unwrap();
        out.extend_from_slice(&chunk);
    }
    (out, body.trailers().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_handles_example_pushes_streams_sends_trailers_and_shuts_down_on_sigint() {
    let (child, addr, mut out) = start("h2_handles");
    let mut stop = Stop(child);
    let mut client = h2_connect(&addr).await;
    // `/` with its pushed stylesheet.
    let (mut page, _) = client
        .send_request(
            Request::get(format!("http://{addr}/")).body(()).unwrap(),
            true,
        )
        .unwrap();
    let mut pushes = page.push_promises();
    let page = page.await.unwrap();
    let promise = pushes.push_promise().await.unwrap().unwrap();
    let (pushed_req, pushed) = promise.into_parts();
    assert_eq!(pushed_req.uri().path(), "/style.css");
    let (css, _) = h2_body(pushed.await.unwrap().into_body()).await;
    assert!(css.starts_with(b"body {"));
    let (html, _) = h2_body(page.into_body()).await;
    assert!(html.starts_with(b"<!doctype html>"));
    drop(pushes);
    // 3 MiB through flow control; trailers; an echo.
    let (big, _) = client
        .send_request(
            Request::get(format!("http://{addr}/big?mib=3"))
                .body(())
                .unwrap(),
            true,
        )
        .unwrap();
    let (big, _) = h2_body(big.await.unwrap().into_body()).await;
    assert_eq!(big.len(), 3 << 20);
    let (trailed, _) = client
        .send_request(
            Request::get(format!("http://{addr}/trailers"))
                .body(())
                .unwrap(),
            true,
        )
        .unwrap();
    let (data, trailers) = h2_body(trailed.await.unwrap().into_body()).await;
    assert_eq!(data, b"body, then trailers\n");
    assert_eq!(trailers.unwrap()["x-checksum"], "42");
    let echoed = common::h2_post(&mut client, b"echo me".to_vec()).await;
    assert_eq!(echoed, b"echo me");
    // Ctrl-C: the open connection gets its GOAWAY, closes, and the server exits.
    let rest = common::interrupt(&mut stop, &mut out);
    assert!(rest.contains("shutdown: 1 graceful, 0 forced"), "{rest}");
    drop(client);
}

/// A masked client text frame (RFC 6455 §5.2), for the hand-driven RFC 8441 test.
fn masked_text(text: &[u8]) -> Vec<u8> {
    let mask = [0x11, 0x22, 0x33, 0x44];
    let mut frame = vec![0x81, 0x80 | u8::try_from(text.len()).unwrap()];
    frame.extend_from_slice(&mask);
    frame.extend(text.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

#[tokio::test]
async fn websocket_example_echoes_over_http1_upgrade_and_rfc8441() {
    let (child, addr, _out) = start("websocket_server");
    let _stop = Stop(child);
    // HTTP/1.1 Upgrade, with the tungstenite client.
    let (mut ws, response) = tokio_tungstenite::connect_async(format!("ws://{addr}/chat"))
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    ws.send(Message::text("over h1")).await.unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "echo[1]:over h1");
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap().into_data().as_ref(),
        [1, 2, 3]
    );
    ws.close(None).await.unwrap();
    // RFC 8441 with the `h2` client, WebSocket frames by hand.
    let mut client = h2_connect(&addr).await;
    let (first, _) = client
        .send_request(
            Request::get(format!("http://{addr}/")).body(()).unwrap(),
            true,
        )
        .unwrap();
    first.await.unwrap();
    assert!(client.is_extended_connect_protocol_enabled());
    let mut req = Request::connect(format!("http://{addr}/chat"))
        .body(())
        .unwrap();
    req.extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    req.headers_mut()
        .insert("sec-websocket-version", "13".parse().unwrap());
    let (response, mut send) = client.send_request(req, false).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    send.send_data(Bytes::from(masked_text(b"over h2")), false)
        .unwrap();
    let mut body = response.into_body();
    let mut got = Vec::new();
    while got.len() < 2 + "echo[2]:over h2".len() {
        got.extend_from_slice(&body.data().await.unwrap().unwrap());
    }
    assert_eq!(got[0], 0x81, "an unmasked text frame");
    assert_eq!(&got[2..], b"echo[2]:over h2");
}

async fn stream_split_example(mode: &[&str]) {
    let (child, addr, mut out) = start_with("stream_split", mode);
    let _stop = Stop(child);
    // HTTP/1.1 keep-alive: two requests on one connection (one stream).
    let tcp = TcpStream::connect(&addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    for body in ["", "twelve bytes"] {
        let req = Request::post("/h1")
            .header("host", "x")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = sender.send_request(req).await.unwrap();
        let text = response.into_body().collect().await.unwrap().to_bytes();
        let expected = format!(
            "hello from stream-split: POST /h1 over HTTP/1.1, {} body octets\n",
            body.len()
        );
        assert_eq!(text, expected);
    }
    // HTTP/2: concurrent streams.
    let client = h2_connect(&addr).await;
    let mut tasks = Vec::new();
    for i in 0..3 {
        let mut c = client.clone();
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let (response, _) = c
                .send_request(
                    Request::get(format!("http://{addr}/s{i}"))
                        .body(())
                        .unwrap(),
                    true,
                )
                .unwrap();
            h2_body(response.await.unwrap().into_body()).await.0
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let text = String::from_utf8(task.await.unwrap()).unwrap();
        assert_eq!(
            text,
            format!("hello from stream-split: GET /s{i} over HTTP/2.0, 0 body octets\n")
        );
    }
    // A WebSocket over HTTP/1.1.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    ws.send(Message::text("split")).await.unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    assert_eq!(reply.into_text().unwrap().as_str(), "split-echo:split");
    // Each response printed the time it took to be written.
    let mut written = 0;
    let mut line = String::new();
    while written < 5 {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "output ended");
        if line.contains(" written in ") {
            written += 1;
        }
    }
    drop((client, sender));
}

#[tokio::test]
async fn stream_split_example_inline() {
    stream_split_example(&[]).await;
}

#[tokio::test]
async fn stream_split_example_spawned() {
    stream_split_example(&["spawn"]).await;
}
