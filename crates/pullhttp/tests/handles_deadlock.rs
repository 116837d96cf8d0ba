//! The deadlock suite of DESIGN.md §5 in handle mode, each scenario run twice: handlers
//! inline under `Acceptor::drive_while`, and handlers spawned per stream. Clients are the
//! Rust `h2` crate. A scenario that deadlocks hangs its test (the harness reports it); no
//! scenario relies on timing.

mod common;

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use common::{body, h2_post};
use http::{Request, Response};
use pullhttp::server::{self, Accepted};
use tokio::io::DuplexStream;
use tokio::sync::{Notify, oneshot};

#[derive(Clone, Copy, Debug)]
enum Mode {
    Inline,
    Spawned,
}

/// Serves a connection with `handler` per request in `mode`; returns when the connection
/// is over and every handler is done.
async fn serve<F, Fut>(io: DuplexStream, mode: Mode, handler: F) -> usize
where
    F: Fn(Accepted) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut acceptor = server::acceptor(io);
    let mut spawned = Vec::new();
    while let Some(accepted) = acceptor.accept().await {
        let Ok(accepted) = accepted else { break };
        match mode {
            Mode::Inline => acceptor.drive_while(handler(accepted)).await,
            Mode::Spawned => spawned.push(tokio::spawn(handler(accepted))),
        }
    }
    for task in spawned {
        task.await.unwrap();
    }
    acceptor.live_streams()
}

/// Reads a whole request body, optionally yielding between chunks (a slow consumer).
async fn read_all(req: Request<server::RecvBody>, slow: bool) -> Vec<u8> {
    let mut body = req.into_body();
    let mut got = Vec::new();
    while let Some(chunk) = body.data().await {
        got.extend_from_slice(&chunk.unwrap());
        if slow {
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
        }
    }
    got
}

/// Echo handler.
async fn echo((req, mut responder): Accepted, slow: bool) {
    let got = read_all(req, slow).await;
    let mut send = responder.send_response(Response::new(()), false).unwrap();
    for piece in got.chunks(40_000) {
        send.write(Bytes::copy_from_slice(piece)).await.unwrap();
    }
    send.finish().unwrap().await.unwrap();
}

async fn h2_client(io: DuplexStream) -> h2::client::SendRequest<Bytes> {
    let (client, conn) = h2::client::handshake(io).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

async fn body_after_headers(mode: Mode) {
    let (a, b) = tokio::io::duplex(1 << 16);
    let started = Arc::new(Notify::new());
    let s = started.clone();
    let server = tokio::spawn(serve(b, mode, move |accepted| {
        let s = s.clone();
        async move {
            s.notify_one();
            echo(accepted, false).await;
        }
    }));
    let mut client = h2_client(a).await;
    let (response, mut send) = client
        .send_request(Request::post("http://x/").body(()).unwrap(), false)
        .unwrap();
    // The body is sent only once the handler runs.
    started.notified().await;
    send.send_data(Bytes::from_static(b"late body"), true)
        .unwrap();
    let mut body = response.await.unwrap().into_body();
    assert_eq!(body.data().await.unwrap().unwrap(), "late body");
    drop((client, body, send));
    assert_eq!(server.await.unwrap(), 0);
}

async fn second_stream_while_first_is_handled(mode: Mode) {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(serve(b, mode, |accepted| echo(accepted, false)));
    let mut client = h2_client(a).await;
    let (r1, mut s1) = client
        .send_request(Request::post("http://x/1").body(()).unwrap(), false)
        .unwrap();
    let mut c2 = client.clone();
    let second = tokio::spawn(async move { h2_post(&mut c2, b"second".to_vec()).await });
    tokio::task::yield_now().await;
    s1.send_data(Bytes::from_static(b"first"), true).unwrap();
    let mut b1 = r1.await.unwrap().into_body();
    assert_eq!(b1.data().await.unwrap().unwrap(), "first");
    assert_eq!(second.await.unwrap(), b"second");
    drop((client, b1, s1));
    assert_eq!(server.await.unwrap(), 0);
}

async fn large_body_consumed_slowly(mode: Mode) {
    let (a, b) = tokio::io::duplex(16 << 10);
    let server = tokio::spawn(serve(b, mode, |accepted| echo(accepted, true)));
    let client = h2_client(a).await;
    // Four times the default 64 KiB window, twice over on two streams.
    let mut tasks = Vec::new();
    for i in 0..2u8 {
        let mut c = client.clone();
        tasks.push(tokio::spawn(async move {
            let data = body(i, 4 * 65_535 + 17);
            assert!(h2_post(&mut c, data.clone()).await == data);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    drop(client);
    assert_eq!(server.await.unwrap(), 0);
}

async fn response_larger_than_a_window_opened_late(mode: Mode) {
    let (a, b) = tokio::io::duplex(16 << 10);
    let (queued_tx, queued_rx) = oneshot::channel::<()>();
    let queued_tx = std::sync::Mutex::new(Some(queued_tx));
    let server = tokio::spawn(serve(b, mode, move |(_req, mut responder)| {
        let tx = queued_tx.lock().unwrap().take();
        async move {
            let mut send = responder.send_response(Response::new(()), false).unwrap();
            let data = body(9, 700_000);
            // What fits in the send buffer goes at once; then tell the client, which only
            // now starts reading (opening its window), while we wait for room.
            let first = send.capacity();
            send.send_data(Bytes::copy_from_slice(&data[..first]), false)
                .unwrap();
            if let Some(tx) = tx {
                tx.send(()).unwrap();
            }
            for piece in data[first..].chunks(50_000) {
                send.write(Bytes::copy_from_slice(piece)).await.unwrap();
            }
            send.finish().unwrap().await.unwrap();
        }
    }));
    let (client, conn) = h2::client::Builder::new()
        .initial_window_size(8 << 10)
        .handshake::<_, Bytes>(a)
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut ready = client.ready().await.unwrap();
    let (response, _) = ready
        .send_request(Request::get("http://x/").body(()).unwrap(), true)
        .unwrap();
    let response = response.await.unwrap();
    queued_rx.await.unwrap();
    let mut body_in = response.into_body();
    let mut got = Vec::new();
    while let Some(chunk) = body_in.data().await {
        let chunk = chunk.unwrap();
        body_in
            .flow_control()
            .release_capacity(chunk.len())
            .unwrap();
        got.extend_from_slice(&chunk);
    }
    assert!(got == body(9, 700_000));
    drop((ready, body_in));
    assert_eq!(server.await.unwrap(), 0);
}

async fn ping_while_idle(mode: Mode) {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(serve(b, mode, |accepted| echo(accepted, false)));
    let (client, mut conn): (h2::client::SendRequest<Bytes>, _) =
        h2::client::handshake(a).await.unwrap();
    let mut ping_pong = conn.ping_pong().unwrap();
    let conn = tokio::spawn(conn);
    // No stream is open: the acceptor sits in `accept` and must still answer.
    ping_pong.ping(h2::Ping::opaque()).await.unwrap();
    ping_pong.ping(h2::Ping::opaque()).await.unwrap();
    drop((client, ping_pong));
    conn.await.unwrap().unwrap();
    assert_eq!(server.await.unwrap(), 0);
}

async fn graceful_shutdown_with_streams_in_flight(mode: Mode) {
    let (a, b) = tokio::io::duplex(1 << 16);
    let started = Arc::new(Notify::new());
    let s = started.clone();
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let handle = acceptor.shutdown_handle();
        let mut spawned = Vec::new();
        let mut seen = 0;
        while let Some(accepted) = acceptor.accept().await {
            let accepted = accepted.unwrap();
            seen += 1;
            if seen == 2 {
                // Both streams are in flight: shut down, from another task's handle.
                handle.shutdown();
                s.notify_one();
            }
            spawned.push(accepted);
            if seen == 2 {
                break;
            }
        }
        let handlers = spawned.into_iter().map(|a| echo(a, false));
        match mode {
            Mode::Inline => {
                acceptor
                    .drive_while(futures_util::future::join_all(handlers))
                    .await;
            }
            Mode::Spawned => {
                let tasks: Vec<_> = handlers.map(tokio::spawn).collect();
                let all = futures_util::future::join_all(tasks);
                let (results, _) = tokio::join!(all, acceptor.closed());
                results.into_iter().for_each(|r| r.unwrap());
            }
        }
        // Nothing is left to accept after the GOAWAY; the connection ends cleanly.
        assert!(acceptor.accept().await.is_none());
        acceptor.live_streams()
    });
    let mut client = h2_client(a).await;
    let mut streams = Vec::new();
    for path in ["/1", "/2"] {
        let (response, send) = client
            .send_request(
                Request::post(format!("http://x{path}")).body(()).unwrap(),
                false,
            )
            .unwrap();
        streams.push((response, send));
    }
    started.notified().await;
    for (i, (response, mut send)) in streams.into_iter().enumerate() {
        send.send_data(Bytes::from(format!("in flight {i}")), true)
            .unwrap();
        let mut body = response.await.unwrap().into_body();
        assert_eq!(
            body.data().await.unwrap().unwrap(),
            format!("in flight {i}")
        );
    }
    // After the GOAWAY, new streams are refused.
    let refused = async {
        let (response, _) =
            client.send_request(Request::get("http://x/late").body(()).unwrap(), true)?;
        response.await
    }
    .await;
    assert!(refused.is_err(), "a stream after GOAWAY is refused");
    drop(client);
    assert_eq!(server.await.unwrap(), 0);
}

macro_rules! both_modes {
    ($($scenario:ident),*) => {
        mod inline {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(super::Mode::Inline).await;
            })*
        }
        mod spawned {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(super::Mode::Spawned).await;
            })*
        }
    };
}

both_modes!(
    body_after_headers,
    second_stream_while_first_is_handled,
    large_body_consumed_slowly,
    response_larger_than_a_window_opened_late,
    ping_while_idle,
    graceful_shutdown_with_streams_in_flight
);
