//! Graceful shutdown at three levels through the handle API: a stream (HTTP/2 reset of one
//! stream; HTTP/1.1 `Connection: close` after the current exchange), a connection (HTTP/2
//! GOAWAY with streams completing; HTTP/1.1 `Connection: close` on the current response, or
//! an immediate close when idle), and a listener ([`pullhttp::Graceful`], with its deadline
//! closing a connection whose client never reads).

mod common;

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use pullhttp::server::{self, Accepted};
use pullhttp::{ErrorCode, Graceful};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

async fn h2_client(io: DuplexStream) -> h2::client::SendRequest<Bytes> {
    let (client, conn) = h2::client::handshake(io).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// Answers with a short body naming the path.
async fn hello((req, mut responder): Accepted) {
    let path = req.uri().path().to_owned();
    let mut send = responder.send_response(Response::new(()), false).unwrap();
    send.send_data(Bytes::from(format!("hello {path}")), true)
        .unwrap();
}

/// Reads from a raw client until EOF.
async fn read_to_end(io: &mut DuplexStream) -> String {
    let mut out = Vec::new();
    io.read_to_end(&mut out).await.unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn stream_level_http2_reset_leaves_the_other_streams_alone() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        while let Some(accepted) = acceptor.accept().await {
            let (req, mut responder) = accepted.unwrap();
            if req.uri().path() == "/doomed" {
                responder.send_reset(ErrorCode::REFUSED_STREAM);
            } else {
                hello((req, responder)).await;
            }
        }
    });
    let mut client = h2_client(a).await;
    let (doomed, _) = client
        .send_request(Request::get("http://x/doomed").body(()).unwrap(), true)
        .unwrap();
    let (kept, _) = client
        .send_request(Request::get("http://x/kept").body(()).unwrap(), true)
        .unwrap();
    let err = doomed.await.unwrap_err();
    assert_eq!(err.reason(), Some(h2::Reason::REFUSED_STREAM));
    let mut body = kept.await.unwrap().into_body();
    assert_eq!(body.data().await.unwrap().unwrap(), "hello /kept");
    drop((client, body));
    server.await.unwrap();
}

#[tokio::test]
async fn stream_level_http1_close_after_the_current_exchange() {
    let (mut a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let (_req, mut responder) = acceptor.accept().await.unwrap().unwrap();
        let response = Response::builder()
            .header("connection", "close")
            .body(())
            .unwrap();
        let mut send = responder.send_response(response, false).unwrap();
        send.send_data(Bytes::from_static(b"last one"), true)
            .unwrap();
        // The connection ends after this exchange; the pipelined request is not served.
        assert!(acceptor.accept().await.is_none());
    });
    a.write_all(b"GET /1 HTTP/1.1\r\nhost: x\r\n\r\nGET /2 HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let text = read_to_end(&mut a).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert!(text.ends_with("last one\r\n0\r\n\r\n"), "{text}");
    assert_eq!(text.matches("HTTP/1.1").count(), 1, "{text}");
    server.await.unwrap();
}

#[tokio::test]
async fn connection_level_http1_marks_the_current_response_then_closes() {
    let (mut a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let (req, responder) = acceptor.accept().await.unwrap().unwrap();
        acceptor.graceful_shutdown();
        hello((req, responder)).await;
        assert!(acceptor.accept().await.is_none());
    });
    a.write_all(b"GET /current HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let text = read_to_end(&mut a).await;
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert!(text.ends_with("hello /current\r\n0\r\n\r\n"), "{text}");
    server.await.unwrap();
}

#[tokio::test]
async fn connection_level_http1_idle_closes_at_once() {
    let (mut a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let accepted = acceptor.accept().await.unwrap().unwrap();
        acceptor.drive_while(hello(accepted)).await;
        let handle = acceptor.shutdown_handle();
        // Idle between requests: the shutdown closes the connection at once.
        let (end, ()) = tokio::join!(acceptor.accept(), async { handle.shutdown() });
        assert!(end.is_none());
    });
    a.write_all(b"GET /only HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let text = read_to_end(&mut a).await;
    assert!(text.ends_with("hello /only\r\n0\r\n\r\n"), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn listener_level_waits_for_every_connection_to_finish() {
    let graceful = Graceful::new();
    let mut servers = Vec::new();
    let mut clients = Vec::new();
    let (accepted_tx, mut accepted_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    for _ in 0..3 {
        let (a, b) = tokio::io::duplex(1 << 16);
        let mut acceptor = server::acceptor(b);
        let watch = graceful.watch(acceptor.shutdown_handle());
        let accepted_tx = accepted_tx.clone();
        servers.push(tokio::spawn(async move {
            let mut served = 0;
            while let Some(accepted) = acceptor.accept().await {
                let (req, responder) = accepted.unwrap();
                accepted_tx.send(()).unwrap();
                let (head, mut body) = req.into_parts();
                let read = async { while body.data().await.is_some() {} };
                acceptor.drive_while(read).await;
                let req = Request::from_parts(head, body);
                acceptor.drive_while(hello((req, responder))).await;
                served += 1;
            }
            drop(watch);
            served
        }));
        clients.push(a);
    }
    // Two HTTP/2 connections with a request in flight, one idle HTTP/1.1 connection.
    let mut in_flight = Vec::new();
    let mut idle = None;
    for (i, io) in clients.into_iter().enumerate() {
        if i < 2 {
            let mut client = h2_client(io).await;
            let (response, send) = client
                .send_request(Request::post("http://x/slow").body(()).unwrap(), false)
                .unwrap();
            in_flight.push((client, response, send));
        } else {
            idle = Some(io);
        }
    }
    assert_eq!(graceful.live(), 3);
    // Shut down once both requests are in the servers' hands (a request that arrives after
    // the GOAWAY is refused, as it should be).
    for _ in 0..2 {
        accepted_rx.recv().await.unwrap();
    }
    let g = graceful.clone();
    let shutdown = tokio::spawn(async move { g.shutdown(Duration::from_secs(30)).await });
    graceful.started().await;
    assert!(graceful.is_shutting_down());
    // The in-flight requests still complete.
    for (client, response, mut send) in in_flight {
        send.send_data(Bytes::from_static(b"done"), true).unwrap();
        let mut body = response.await.unwrap().into_body();
        assert_eq!(body.data().await.unwrap().unwrap(), "hello /slow");
        drop((client, body));
    }
    let mut idle = idle.unwrap();
    assert_eq!(
        read_to_end(&mut idle).await,
        "",
        "the idle connection closed"
    );
    let report = shutdown.await.unwrap();
    assert_eq!((report.graceful, report.forced), (3, 0));
    let served: Vec<_> = futures_util::future::join_all(servers).await;
    assert_eq!(
        served.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [1, 1, 0]
    );
}

#[tokio::test(start_paused = true)]
async fn listener_deadline_closes_a_connection_whose_client_never_reads() {
    let graceful = Graceful::new();
    let (mut a, b) = tokio::io::duplex(16 << 10);
    let mut acceptor = server::acceptor(b);
    let watch = graceful.watch(acceptor.shutdown_handle());
    let (accepted_tx, accepted_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let (_req, mut responder) = acceptor.accept().await.unwrap().unwrap();
        accepted_tx.send(()).unwrap();
        let mut send = responder.send_response(Response::new(()), false).unwrap();
        // Far more than the pipe holds: the writes stall because the client never reads.
        let writing = async {
            for _ in 0..64 {
                if send.write(Bytes::from(vec![b'x'; 64 << 10])).await.is_err() {
                    return;
                }
            }
            let _ = send.finish();
        };
        acceptor.drive_while(writing).await;
        while acceptor.accept().await.is_some() {}
        drop(watch);
    });
    a.write_all(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    accepted_rx.await.unwrap();
    let started = tokio::time::Instant::now();
    let report = graceful.shutdown(Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert_eq!((report.graceful, report.forced), (0, 1));
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(6),
        "shutdown took {took:?}"
    );
    server.await.unwrap();
    drop(a);
}
