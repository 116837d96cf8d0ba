//! `Upgrade: h2c` through the driver (the request continues as HTTP/2 stream 1), and the
//! `reqwest` client over real TCP in both versions.

use bytes::Bytes;
use pullhttp::server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn serve_hello(tcp: tokio::net::TcpStream) -> Result<(), pullhttp::Error> {
    let mut conn = server::handshake(tcp);
    while let Some((key, req)) = conn.next_request().await? {
        let mut body = Vec::new();
        while let Some(c) = conn.recv_data(key).await? {
            body.extend_from_slice(&c);
        }
        let reply = format!("{:?} {} {}", req.version(), req.uri().path(), body.len());
        conn.send_response(key, &http::Response::new(()).into_parts().0, false)?;
        conn.write_all(key, Bytes::from(reply), true).await?;
    }
    Ok(())
}

async fn listener() -> (tokio::net::TcpListener, String) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    (l, addr)
}

#[tokio::test]
async fn h2c_upgrade_switches_to_http2_and_answers_the_request_on_stream_1() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut conn = server::handshake(b);
        let (key, req) = conn.next_request().await?.unwrap();
        assert_eq!(req.version(), http::Version::HTTP_2);
        assert_eq!(key.id(), 1, "the upgraded request is stream 1");
        conn.send_response(key, &http::Response::new(()).into_parts().0, true)?;
        conn.sent(key).await?;
        Ok::<_, pullhttp::Error>(conn.version())
    });
    let mut a = a;
    // SETTINGS payload: MAX_CONCURRENT_STREAMS = 100 (base64url "AAMAAABk").
    a.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n").await.unwrap();
    a.write_all(pullhttp_proto::h2::PREFACE).await.unwrap();
    a.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap(); // empty SETTINGS
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == [0x01, 0x05, 0x00, 0x00]) {
        let n = a.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    let h2 = &got[got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(h2[3], 0x4, "HTTP/2 starts with the server's SETTINGS");
    // A HEADERS frame (type 1) with END_STREAM|END_HEADERS (0x5) on stream 1.
    assert!(
        got.windows(6)
            .any(|w| w == [0x01, 0x05, 0x00, 0x00, 0x00, 0x01])
    );
    assert_eq!(server.await.unwrap().unwrap(), Some(http::Version::HTTP_2));
}

#[tokio::test]
async fn reqwest_client_over_tcp_http1_and_http2_prior_knowledge() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        loop {
            let (tcp, _) = l.accept().await.unwrap();
            tokio::spawn(serve_hello(tcp));
        }
    });
    let h1 = reqwest::Client::builder().http1_only().build().unwrap();
    let text = h1
        .post(format!("http://{addr}/one"))
        .body(vec![7u8; 100_000])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "HTTP/1.1 /one 100000");
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    for i in 0..3 {
        let text = h2
            .post(format!("http://{addr}/two"))
            .body(vec![1u8; 300_000 * (i + 1)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text, format!("HTTP/2.0 /two {}", 300_000 * (i + 1)));
    }
}
