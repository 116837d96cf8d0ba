//! The server driver against the Rust `h2` client over in-memory IO: echo of bodies larger
//! than the windows on many concurrent streams (checked byte for byte), and the deadlock
//! suite of DESIGN.md §5 (body after headers, a second stream while the first is handled
//! inline, a slow reader of a large body, a response larger than the peer's window, PING
//! while idle, graceful shutdown with streams in flight).

mod common;

use common::{body, h2_post};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use pullhttp::server;
use tokio::io::DuplexStream;

/// An echo server handling every request inline, one task for the whole connection.
async fn echo_server(io: DuplexStream) -> Result<(), pullhttp::Error> {
    let mut conn = server::handshake(io);
    while let Some((key, _req)) = conn.next_request().await? {
        let mut received = Vec::new();
        while let Some(chunk) = conn.recv_data(key).await? {
            received.extend_from_slice(&chunk);
        }
        conn.send_response(key, &Response::new(()).into_parts().0, false)?;
        conn.write_all(key, Bytes::from(received), true).await?;
    }
    Ok(())
}

async fn client(io: DuplexStream) -> h2::client::SendRequest<Bytes> {
    let (client, connection) = h2::client::handshake(io).await.expect("h2 handshake");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// Posts `streams` bodies at once over a transport holding `pipe` octets in flight (stream
/// `i` of `size(i)` octets) to the echo server and checks every echo byte for byte.
async fn concurrent_echo(pipe: usize, streams: u8, size: fn(u8) -> usize) {
    let (a, b) = tokio::io::duplex(pipe);
    let server = tokio::spawn(echo_server(b));
    let client = client(a).await;
    let mut tasks = Vec::new();
    for i in 0..streams {
        let mut c = client.clone();
        tasks.push(tokio::spawn(async move {
            let data = body(i, size(i));
            let echoed = h2_post(&mut c, data.clone()).await;
            assert!(echoed == data, "stream {i} echoed wrong bytes");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    drop(client);
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn h2_client_concurrent_echo_larger_than_windows_byte_for_byte() {
    concurrent_echo(32 << 10, 16, |i| 300_000 + usize::from(i) * 1000).await;
}

#[tokio::test]
async fn large_uploads_through_full_reads_echo_byte_for_byte() {
    // A transport with a megabyte in flight: reads come back full (64 KiB), so the driver
    // reads inside frames straight into the core's buffer, replacing it as it fills.
    concurrent_echo(1 << 20, 3, |i| 6_000_000 + usize::from(i) * 12_345).await;
}

#[tokio::test]
async fn body_arriving_after_headers_is_received() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(echo_server(b));
    let mut c = client(a).await;
    let req = Request::post("http://example.com/").body(()).unwrap();
    let (response, mut send) = c.send_request(req, false).unwrap();
    tokio::task::yield_now().await;
    send.send_data(Bytes::from_static(b"late body"), true)
        .unwrap();
    let mut body = response.await.unwrap().into_body();
    assert_eq!(body.data().await.unwrap().unwrap(), "late body");
    drop((c, body, send));
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn second_stream_while_first_is_handled_inline_does_not_stall() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut conn = server::handshake(b);
        // Stream 1: we wait for its body while stream 3 arrives complete and must be
        // answerable; its request is kept, not lost.
        let (k1, _) = conn.next_request().await?.unwrap();
        let (k3, _) = conn.next_request().await?.unwrap();
        conn.send_response(k3, &Response::new(()).into_parts().0, true)?;
        conn.sent(k3).await?;
        let mut got = Vec::new();
        while let Some(c) = conn.recv_data(k1).await? {
            got.extend_from_slice(&c);
        }
        conn.send_response(k1, &Response::new(()).into_parts().0, false)?;
        conn.write_all(k1, Bytes::from(got), true).await?;
        while conn.next_event().await?.is_some() {}
        Ok::<_, pullhttp::Error>(())
    });
    let mut c = client(a).await;
    let (r1, mut s1) = c
        .send_request(Request::post("http://x/1").body(()).unwrap(), false)
        .unwrap();
    let (r3, _) = c
        .send_request(Request::get("http://x/3").body(()).unwrap(), true)
        .unwrap();
    assert_eq!(
        r3.await.unwrap().status(),
        200,
        "stream 3 answered while 1 is open"
    );
    s1.send_data(Bytes::from_static(b"one"), true).unwrap();
    let mut b1 = r1.await.unwrap().into_body();
    assert_eq!(b1.data().await.unwrap().unwrap(), "one");
    drop((c, b1, s1));
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn slow_reader_of_body_larger_than_window_completes() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut conn = server::handshake(b);
        let (key, _) = conn.next_request().await?.unwrap();
        let mut total = 0;
        while let Some(chunk) = conn.recv_data(key).await? {
            total += chunk.len();
            tokio::task::yield_now().await;
        }
        conn.send_response(key, &Response::new(()).into_parts().0, false)?;
        conn.write_all(key, Bytes::from(total.to_string()), true)
            .await?;
        while conn.next_event().await?.is_some() {}
        Ok::<_, pullhttp::Error>(total)
    });
    let mut c = client(a).await;
    let data = body(7, 5 << 20);
    let echoed = h2_post(&mut c, data).await;
    assert_eq!(echoed, b"5242880");
    drop(c);
    assert_eq!(server.await.unwrap().unwrap(), 5 << 20);
}

#[tokio::test]
async fn response_larger_than_peer_window_is_delivered() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let big = body(3, 3 << 20);
    let expected = big.clone();
    let server = tokio::spawn(async move {
        let mut conn = server::handshake(b);
        let (key, _) = conn.next_request().await?.unwrap();
        conn.send_response(key, &Response::new(()).into_parts().0, false)?;
        conn.write_all(key, Bytes::from(big), true).await?;
        conn.sent(key).await?;
        while conn.next_event().await?.is_some() {}
        Ok::<_, pullhttp::Error>(())
    });
    let mut c = client(a).await;
    let (r, _) = c
        .send_request(Request::get("http://x/big").body(()).unwrap(), true)
        .unwrap();
    let mut b = r.await.unwrap().into_body();
    let mut got = Vec::new();
    while let Some(chunk) = b.data().await {
        let chunk = chunk.unwrap();
        b.flow_control().release_capacity(chunk.len()).unwrap();
        got.extend_from_slice(&chunk);
    }
    assert!(got == expected);
    drop((c, b));
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn ping_while_idle_is_answered() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut conn = server::handshake(b);
        while conn.next_event().await?.is_some() {}
        Ok::<_, pullhttp::Error>(())
    });
    let (c, mut connection) = h2::client::handshake(a).await.unwrap();
    let mut ping_pong = connection.ping_pong().unwrap();
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    tokio::time::timeout(Duration::from_secs(10), ping_pong.ping(h2::Ping::opaque()))
        .await
        .expect("PING answered")
        .unwrap();
    drop(c);
    driver.abort();
    let _ = server.await;
}

#[tokio::test]
async fn graceful_shutdown_with_streams_in_flight_lets_them_finish() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut conn = server::handshake(b);
        let handle = conn.shutdown_handle();
        let (key, _) = conn.next_request().await?.unwrap();
        // Shutdown requested (from anywhere) while the stream is open.
        handle.shutdown();
        let mut got = Vec::new();
        while let Some(c) = conn.recv_data(key).await? {
            got.extend_from_slice(&c);
        }
        conn.send_response(key, &Response::new(()).into_parts().0, false)?;
        conn.write_all(key, Bytes::from(got), true).await?;
        let mut events = Vec::new();
        while let Some(e) = conn.next_event().await? {
            events.push(format!("{e:?}"));
        }
        Ok::<_, pullhttp::Error>(events)
    });
    let mut c = client(a).await;
    let (r, mut s) = c
        .send_request(Request::post("http://x/").body(()).unwrap(), false)
        .unwrap();
    tokio::task::yield_now().await;
    s.send_data(Bytes::from_static(b"in flight"), true).unwrap();
    let mut b = r.await.unwrap().into_body();
    assert_eq!(b.data().await.unwrap().unwrap(), "in flight");
    let events = server.await.unwrap().unwrap();
    assert!(
        events.iter().all(|e| !e.starts_with("Request")),
        "no new requests after shutdown: {events:?}"
    );
    let err = c.send_request(Request::get("http://x/").body(()).unwrap(), true);
    assert!(
        err.is_err() || c.clone().ready().await.is_err(),
        "client sees the GOAWAY"
    );
}
