//! The server driver over HTTP/1.1 against the `hyper` client (in-memory IO), and raw-socket
//! cases: keep-alive, chunked bodies both ways, 100-continue through `recv_data`, an upgrade
//! handed over with the octets past the boundary, backpressure on unread bodies.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use pullhttp::server::{self, Event};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

async fn echo_server(io: DuplexStream) -> Result<usize, pullhttp::Error> {
    let mut conn = server::handshake(io);
    let mut served = 0;
    while let Some((key, req)) = conn.next_request().await? {
        assert_eq!(req.version(), http::Version::HTTP_11);
        let mut got = Vec::new();
        while let Some(chunk) = conn.recv_data(key).await? {
            got.extend_from_slice(&chunk);
        }
        conn.send_response(key, &Response::new(()).into_parts().0, false)?;
        conn.write_all(key, Bytes::from(got), true).await?;
        conn.sent(key).await?;
        served += 1;
    }
    Ok(served)
}

#[tokio::test]
async fn hyper_client_keep_alive_echo_three_requests_on_one_connection() {
    let (a, b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(echo_server(b));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(a))
        .await
        .unwrap();
    let driver = tokio::spawn(conn);
    for i in 0..3usize {
        let data: Vec<u8> = (0..100_000 * (i + 1))
            .map(|j| u8::try_from(j % 253).expect("below 253"))
            .collect();
        let req = Request::post("/echo")
            .header("host", "a")
            .body(Full::new(Bytes::from(data.clone())))
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert!(body[..] == data[..], "request {i}");
    }
    drop(sender);
    let _ = driver.await;
    assert_eq!(server.await.unwrap().unwrap(), 3);
}

#[tokio::test]
async fn expect_100_continue_is_answered_when_the_body_is_read() {
    let (mut a, b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(echo_server(b));
    a.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0; 25];
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 100 Continue\r\n\r\n");
    a.write_all(b"hello").await.unwrap();
    let mut response = vec![0; 64];
    let n = a.read(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response[..n]).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    drop(a);
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn upgrade_hands_over_io_and_trailing_bytes_without_spawning() {
    let (mut a, b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(async move {
        let mut conn = server::handshake(b);
        let Some(Event::Request {
            key,
            upgrade: Some(_),
            ..
        }) = conn.next_event().await?
        else {
            panic!("upgrade request expected");
        };
        let head = Response::builder()
            .status(101)
            .header("connection", "upgrade")
            .header("upgrade", "echo")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        conn.send_response(key, &head, false)?;
        assert!(matches!(
            conn.next_event().await?,
            Some(Event::Upgraded { .. })
        ));
        let mut up = conn.into_upgraded(key).await?;
        // Echo the new protocol: first what arrived with the request, then the rest.
        let mut seen = up.read_buf.to_vec();
        let mut more = [0u8; 5];
        up.io.read_exact(&mut more).await?;
        seen.extend_from_slice(&more);
        up.io.write_all(&seen).await?;
        Ok::<_, pullhttp::Error>(())
    });
    a.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nearly")
        .await
        .unwrap();
    let mut head = vec![0; 256];
    let n = a.read(&mut head).await.unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    a.write_all(b"later").await.unwrap();
    let mut echoed = [0u8; 10];
    a.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"earlylater");
    server.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn unread_http1_body_pauses_reading_instead_of_buffering_without_bound() {
    let (mut a, b) = tokio::io::duplex(8 << 10);
    let mut builder = server::Builder::new();
    builder.max_buffered_body(64 << 10);
    let mut conn = builder.handshake(b);
    let writer = tokio::spawn(async move {
        a.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10485760\r\n\r\n")
            .await
            .unwrap();
        let chunk = vec![b'x'; 64 << 10];
        let mut sent = 0;
        // The server never reads the body: writing must stall well before 10 MiB.
        while sent < 10 << 20 {
            match tokio::time::timeout(std::time::Duration::from_millis(300), a.write_all(&chunk))
                .await
            {
                Ok(r) => r.unwrap(),
                Err(_) => return sent,
            }
            sent += chunk.len();
        }
        sent
    });
    let Some(Event::Request { key, .. }) = conn.next_event().await.unwrap() else {
        panic!()
    };
    // Drive the connection with another helper that never takes the body.
    let wait = tokio::time::timeout(std::time::Duration::from_secs(2), conn.sent(key)).await;
    assert!(wait.is_err(), "no response was sent");
    let stats = conn.stats();
    assert!(stats.buffered_body <= (64 << 10) + (16 << 10), "{stats:?}");
    let sent = writer.await.unwrap();
    assert!(sent < 1 << 20, "the client could write {sent} octets");
}

#[tokio::test]
async fn error_response_survives_unread_input_thanks_to_lingering_close() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut conn = server::handshake(tcp);
        while let Ok(Some(_)) = conn.next_event().await {}
    });
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A malformed request, then far more than the server will read before it closes.
    let mut request = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n".to_vec();
    request.extend(std::iter::repeat_n(b'z', 200 << 10));
    let writer = tokio::spawn(async move {
        let _ = tcp.write_all(&request).await;
        tcp
    });
    let mut tcp = writer.await.unwrap();
    let mut response = Vec::new();
    let result = tcp.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    assert!(
        result.is_ok(),
        "the connection was reset: {result:?}, got {text:?}"
    );
    assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text:?}");
    server.await.unwrap();
}
