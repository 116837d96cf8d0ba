//! HTTP/1.1 messages framed by `Content-Length` whose last data went out before the body was
//! ended (an empty `finish()` later): their `Finished` resolves at once instead of waiting for
//! a flush that has nothing left to report.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use pullhttp::{client, server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads from `io` until `buf` ends with `tail`.
async fn read_until(io: &mut tokio::io::DuplexStream, tail: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    while !got.ends_with(tail) {
        let n = io.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[tokio::test]
async fn a_client_request_body_ended_after_its_last_octet_was_flushed() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let (mut send, conn) = client::handshake(a);
    tokio::spawn(conn);
    let request = Request::post("/up")
        .header("host", "x")
        .header("content-length", "10")
        .body(())
        .unwrap();
    let (response, body) = send.send_request(request, false).unwrap();
    let mut body = body.unwrap();
    body.write(Bytes::from_static(b"0123456789")).await.unwrap();
    // The server has every octet (so they were written and flushed) before the end comes.
    read_until(&mut b, b"0123456789").await;
    let finished = body.finish().unwrap();
    tokio::time::timeout(Duration::from_secs(5), finished)
        .await
        .expect("Finished resolves once the body is ended")
        .unwrap();
    b.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(response.await.unwrap().status(), 204);
}

#[tokio::test]
async fn a_server_response_body_ended_after_its_last_octet_was_flushed() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let mut acceptor = server::acceptor(a);
    b.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let (_request, mut responder) = acceptor.accept().await.unwrap().unwrap();
    let head = Response::builder()
        .header("content-length", "5")
        .body(())
        .unwrap();
    let mut body = responder.send_response(head, false).unwrap();
    acceptor
        .drive_while(body.write(Bytes::from_static(b"hello")))
        .await
        .unwrap();
    let client = tokio::spawn(async move { read_until(&mut b, b"hello").await });
    acceptor.drive_while(client).await.unwrap();
    let finished = body.finish().unwrap();
    acceptor
        .drive_while(tokio::time::timeout(Duration::from_secs(5), finished))
        .await
        .expect("Finished resolves once the body is ended")
        .unwrap();
}
