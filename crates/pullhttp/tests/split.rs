//! The stream-split shape (`HttpProtocol` / `HttpStream` / `RequestInput` /
//! `ResponseOutput`) over in-memory IO: version detection, one HTTP/1.1 stream per
//! connection, one HTTP/2 stream per request, the misuse errors, and upgrades.

mod common;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use pullhttp::server::split::{HttpProtocol, HttpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers every request of a stream with its path.
async fn answer_all(stream: HttpStream) -> usize {
    let (mut input, mut output) = stream.split();
    let mut n = 0;
    while let Some(next) = input.next().await {
        let (key, req) = next.unwrap();
        assert!(!key.is_upgradable());
        let text = format!("{} {}", req.uri().path(), n);
        output.send((key, Response::new(text))).await.unwrap();
        n += 1;
    }
    n
}

#[tokio::test]
async fn http1_is_one_stream_yielding_requests_in_order() {
    let (mut a, b) = tokio::io::duplex(1 << 16);
    a.write_all(b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let server = tokio::spawn(async move {
        let mut protocol = HttpProtocol::new(b).await.unwrap();
        assert_eq!(protocol.version(), http::Version::HTTP_11);
        let stream = protocol.next().await.unwrap().unwrap();
        let served = protocol.drive_while(answer_all(stream)).await;
        assert!(
            protocol.next().await.is_none(),
            "one stream per HTTP/1.1 connection"
        );
        served
    });
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    while !got.ends_with(b"/a 0") {
        let n = a.read(&mut buf).await.unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    a.write_all(b"GET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    a.read_to_end(&mut got).await.unwrap();
    let text = String::from_utf8(got).unwrap();
    assert!(text.ends_with("/b 1"), "{text}");
    assert_eq!(server.await.unwrap(), 2);
}

#[tokio::test]
async fn http2_is_one_stream_per_request_and_keys_stay_with_their_stream() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut protocol = HttpProtocol::new(b).await.unwrap();
        assert_eq!(protocol.version(), http::Version::HTTP_2);
        let first = protocol.next().await.unwrap().unwrap();
        let second = protocol.next().await.unwrap().unwrap();
        let (mut in1, mut out1) = first.split();
        let (mut in2, mut out2) = second.split();
        let (k1, _) = in1.next().await.unwrap().unwrap();
        let (k2, _) = in2.next().await.unwrap().unwrap();
        assert!(
            in1.next().await.is_none(),
            "an HTTP/2 stream holds one request"
        );
        // A key answered on the wrong stream is refused, and nothing is lost.
        let err = out1
            .send((k2, Response::new(String::new())))
            .await
            .unwrap_err();
        assert!(
            err.is_misuse() && err.to_string().contains("another stream"),
            "{err}"
        );
        protocol
            .drive_while(async {
                out1.send((k1, Response::new("one".to_string())))
                    .await
                    .unwrap();
                out2.send((k2, Response::new("two".to_string())))
                    .await
                    .unwrap();
                // Answering twice is refused.
                let err = out2
                    .send((k2, Response::new(String::new())))
                    .await
                    .unwrap_err();
                assert!(err.to_string().contains("already answered"), "{err}");
            })
            .await;
        assert!(protocol.next().await.is_none());
    });
    let (mut client, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(conn);
    let mut responses = Vec::new();
    for path in ["/1", "/2"] {
        let (response, _) = client
            .send_request(
                Request::get(format!("http://x{path}")).body(()).unwrap(),
                true,
            )
            .unwrap();
        responses.push(response);
    }
    for (response, want) in responses.into_iter().zip(["one", "two"]) {
        let mut body = response.await.unwrap().into_body();
        assert_eq!(body.data().await.unwrap().unwrap(), want);
    }
    drop(client);
    server.await.unwrap();
}

#[tokio::test]
async fn http1_answers_out_of_order_are_refused() {
    let mut builder = pullhttp::server::Builder::new();
    builder.http1().pipeline_depth = 2;
    let (mut a, b) = tokio::io::duplex(1 << 16);
    a.write_all(b"GET /1 HTTP/1.1\r\nhost: x\r\n\r\nGET /2 HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let server = tokio::spawn(async move {
        let mut protocol = HttpProtocol::with_builder(&builder, b).await.unwrap();
        let stream = protocol.next().await.unwrap().unwrap();
        protocol
            .drive_while(async {
                let (mut input, mut output) = stream.split();
                let (k1, _) = input.next().await.unwrap().unwrap();
                let (k2, _) = input.next().await.unwrap().unwrap();
                let err = output
                    .send((k2, Response::new(String::new())))
                    .await
                    .unwrap_err();
                assert!(
                    err.is_misuse() && err.to_string().contains("request order"),
                    "{err}"
                );
                output
                    .send((k1, Response::new("1".to_string())))
                    .await
                    .unwrap();
                output
                    .send((k2, Response::new("2".to_string())))
                    .await
                    .unwrap();
            })
            .await;
    });
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    while !got.ends_with(b"\r\n\r\n2") && !got.ends_with(b"2\r\n0\r\n\r\n") {
        let n = a.read(&mut buf).await.unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8(got).unwrap();
    assert_eq!(text.matches("HTTP/1.1 200").count(), 2, "{text}");
    server.await.unwrap();
}

#[tokio::test]
async fn upgrade_consumes_both_halves_and_hands_over_the_transport() {
    let (mut a, b) = tokio::io::duplex(1 << 16);
    a.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nearly")
        .await
        .unwrap();
    let server = tokio::spawn(async move {
        let mut protocol = HttpProtocol::new(b).await.unwrap();
        let stream = protocol.next().await.unwrap().unwrap();
        let (mut input, output) = stream.split();
        let (key, _) = protocol.drive_while(input.next()).await.unwrap().unwrap();
        assert!(key.is_upgradable());
        let switching = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("connection", "upgrade")
            .header("upgrade", "echo")
            .body(())
            .unwrap();
        let mut tunnel = protocol
            .drive_while(output.upgrade(input, key, switching))
            .await
            .unwrap();
        let mut early = [0; 5];
        tunnel.read_exact(&mut early).await.unwrap();
        assert_eq!(&early, b"early");
        tunnel.write_all(b"EARLY").await.unwrap();
        assert!(
            protocol.next().await.is_none(),
            "the connection was handed over"
        );
    });
    let mut got = Vec::new();
    let mut buf = [0; 256];
    while !got.ends_with(b"EARLY") {
        let n = a.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 101"));
    server.await.unwrap();
}

#[tokio::test]
async fn http2_extended_connect_upgrade_through_the_split_shape() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut builder = pullhttp::server::Builder::new();
        builder.enable_connect_protocol(true);
        let mut protocol = HttpProtocol::with_builder(&builder, b).await.unwrap();
        while let Some(stream) = protocol.next().await {
            let (mut input, output) = stream.unwrap().split();
            let (key, _) = protocol.drive_while(input.next()).await.unwrap().unwrap();
            if !key.is_upgradable() {
                let mut output = output;
                protocol
                    .drive_while(output.send((key, Response::new(String::new()))))
                    .await
                    .unwrap();
                continue;
            }
            let echo = async {
                let mut tunnel = output.upgrade(input, key, Response::new(())).await.unwrap();
                let mut buf = [0; 4];
                tunnel.read_exact(&mut buf).await.unwrap();
                tunnel.write_all(&buf).await.unwrap();
                tunnel.shutdown().await.unwrap();
            };
            protocol.drive_while(echo).await;
        }
    });
    let (mut client, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(conn);
    let (first, _) = client
        .send_request(Request::get("http://x/").body(()).unwrap(), true)
        .unwrap();
    first.await.unwrap();
    let mut req = Request::connect("http://x/ws").body(()).unwrap();
    req.extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    let (response, mut send) = client.send_request(req, false).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    send.send_data(Bytes::from_static(b"ping"), false).unwrap();
    let mut body = response.into_body();
    assert_eq!(body.data().await.unwrap().unwrap(), "ping");
    assert!(body.data().await.is_none(), "the server ended its side");
    drop((client, send, body));
    server.await.unwrap();
}
