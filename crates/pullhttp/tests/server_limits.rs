//! Driver limits and timers on paused time: request credits with the bounded pending-accept
//! queue (REFUSED_STREAM beyond), protocol detection timeout, HTTP/2 PING keep-alive.

use std::time::Duration;

use http::Request;
use pullhttp::server::{self, Builder, Event};

#[tokio::test]
async fn credits_hold_requests_and_refuse_beyond_the_pending_queue() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let mut builder = Builder::new();
    builder.request_credits(1).max_pending_accepts(2);
    let mut conn = builder.handshake(b);
    let (client, connection) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(connection);
    let mut responses = Vec::new();
    for i in 0..4 {
        let mut c = client.clone();
        let (r, _) = c
            .send_request(
                Request::get(format!("http://x/{i}")).body(()).unwrap(),
                true,
            )
            .unwrap();
        responses.push(r);
    }
    // One credit: the first request is delivered; two wait; the fourth is refused.
    let Some(Event::Request { key, .. }) = conn.next_event().await.unwrap() else {
        panic!()
    };
    let refused = tokio::spawn(responses.pop().unwrap());
    conn.send_response(key, &http::Response::new(()).into_parts().0, true)
        .unwrap();
    // `sent` drives the connection: the RST_STREAM for the fourth goes out meanwhile.
    conn.sent(key).await.unwrap();
    assert_eq!(conn.stats().pending_accepts, 2);
    let refused = refused.await.unwrap().unwrap_err();
    assert_eq!(refused.reason(), Some(h2::Reason::REFUSED_STREAM));
    // Granting credits releases the waiting requests, in order.
    conn.grant_requests(2);
    for expected in ["/1", "/2"] {
        let Some(Event::Request { key, head, .. }) = conn.next_event().await.unwrap() else {
            panic!()
        };
        assert_eq!(head.uri.path(), expected);
        conn.send_response(key, &http::Response::new(()).into_parts().0, true)
            .unwrap();
    }
    assert_eq!(conn.stats().pending_accepts, 0);
    drop(client);
}

#[tokio::test(start_paused = true)]
async fn detection_times_out_on_a_silent_connection() {
    let (_a, b) = tokio::io::duplex(1 << 10);
    let mut builder = Builder::new();
    builder.detect_timeout(Duration::from_secs(3));
    let mut conn = builder.handshake(b);
    let started = tokio::time::Instant::now();
    let err = conn.next_event().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn keep_alive_ping_closes_a_peer_that_stops_answering() {
    use tokio::io::AsyncWriteExt;
    let (mut a, b) = tokio::io::duplex(1 << 20);
    let mut builder = Builder::new();
    builder
        .version(server::Version::Http2)
        .keep_alive_ping(Duration::from_secs(10), Duration::from_secs(5));
    let mut conn = builder.handshake(b);
    // A client that sends its preface and SETTINGS, then neither reads nor answers, while
    // keeping the connection open.
    a.write_all(pullhttp_proto::h2::PREFACE).await.unwrap();
    a.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    a.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).await.unwrap(); // ACK of our SETTINGS
    let started = tokio::time::Instant::now();
    let err = loop {
        match conn.next_event().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("closed without timing out"),
            Err(e) => break e,
        }
    };
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(15),
        "10 s idle + 5 s without PING ACK"
    );
    drop(a);
}

/// The driver re-arms its one timer only for an earlier deadline: a timer armed for an
/// older, earlier deadline fires first and must be re-armed, not taken as the deadline.
#[tokio::test(start_paused = true)]
async fn idle_keep_alive_closes_a_full_timeout_after_the_last_response() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut a, b) = tokio::io::duplex(1 << 16);
    let mut builder = Builder::new();
    builder.http1().keep_alive_timeout = Duration::from_secs(10);
    builder.http1().header_read_timeout = Duration::from_secs(30);
    let mut conn = builder.handshake(b);
    let server = tokio::spawn(async move {
        let head = http::Response::new(()).into_parts().0;
        let mut answered = Vec::new();
        loop {
            match conn.next_event().await {
                Ok(Some(Event::Request { key, .. })) => {
                    conn.send_response(key, &head, true).unwrap();
                    answered.push(tokio::time::Instant::now());
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return answered,
            }
        }
    });
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 1024];
    for _ in 0..3 {
        a.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        let n = a.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
        // Each request comes 6 s after the last: past the first deadline's time, within
        // each new one.
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    // The connection closes 10 s after the third response: EOF on our side.
    assert_eq!(a.read(&mut buf).await.unwrap(), 0);
    let closed = tokio::time::Instant::now();
    drop(a);
    let answered = server.await.unwrap();
    assert_eq!(answered.len(), 3);
    assert_eq!(answered[2] - started, Duration::from_secs(12));
    assert_eq!(closed - answered[2], Duration::from_secs(10));
}
