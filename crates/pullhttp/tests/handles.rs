//! The handle API (issue 6, first part): `Acceptor` / `Responder` / `SendBody` / `RecvBody` /
//! `Finished` over the mailbox, with spawned handlers and inline handling under
//! `drive_while`, over HTTP/2 (Rust `h2` client) and HTTP/1.1 (`hyper` client).

mod common;

use bytes::Bytes;
use common::{body, h2_post};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use pullhttp::server::{self, Accepted};

/// Echoes one request through the handles; returns when the response was sent.
async fn echo((req, mut responder): Accepted) -> Result<(), pullhttp::Error> {
    let mut recv = req.into_body();
    let mut got = Vec::new();
    while let Some(chunk) = recv.data().await {
        got.extend_from_slice(&chunk?);
    }
    let mut send = responder.send_response(Response::new(()), false)?;
    for piece in got.chunks(50_000) {
        send.write(Bytes::copy_from_slice(piece)).await?;
    }
    send.finish()?.await
}

#[tokio::test]
async fn spawned_handlers_per_stream_echo_bodies_larger_than_windows() {
    let (a, b) = tokio::io::duplex(32 << 10);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let mut handlers = Vec::new();
        while let Some(accepted) = acceptor.accept().await {
            handlers.push(tokio::spawn(echo(accepted.unwrap())));
        }
        for h in handlers {
            h.await.unwrap().unwrap();
        }
        acceptor.live_streams()
    });
    let (client, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(conn);
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let mut c = client.clone();
        tasks.push(tokio::spawn(async move {
            let data = body(i, 300_000 + usize::from(i) * 7_000);
            assert!(h2_post(&mut c, data.clone()).await == data, "stream {i}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    drop(client);
    assert_eq!(
        server.await.unwrap(),
        0,
        "every stream's state was released"
    );
}

#[tokio::test]
async fn inline_handling_under_drive_while_serves_a_second_stream_meanwhile() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let first = acceptor.accept().await.unwrap().unwrap();
        // Handle the first stream inline; its body only comes after the second stream was
        // answered, which needs the connection driven meanwhile.
        acceptor.drive_while(echo(first)).await?;
        while let Some(next) = acceptor.accept().await {
            acceptor.drive_while(echo(next?)).await?;
        }
        Ok::<_, pullhttp::Error>(())
    });
    let (mut client, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(conn);
    let (r1, mut s1) = client
        .send_request(Request::post("http://x/1").body(()).unwrap(), false)
        .unwrap();
    let mut c2 = client.clone();
    let second = tokio::spawn(async move { h2_post(&mut c2, b"second".to_vec()).await });
    // The second stream cannot complete before the first's handler returns (inline), so
    // finish the first body now and expect both.
    tokio::task::yield_now().await;
    s1.send_data(Bytes::from_static(b"first"), true).unwrap();
    let mut b1 = r1.await.unwrap().into_body();
    assert_eq!(b1.data().await.unwrap().unwrap(), "first");
    assert_eq!(second.await.unwrap(), b"second");
    drop((client, b1, s1));
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn http1_keep_alive_through_handles() {
    let (a, b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        while let Some(accepted) = acceptor.accept().await {
            acceptor.drive_while(echo(accepted?)).await?;
        }
        Ok::<_, pullhttp::Error>(acceptor.live_streams())
    });
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(a))
        .await
        .unwrap();
    tokio::spawn(conn);
    for i in 0..3u8 {
        let data = body(i, 70_000);
        let req = Request::post("/")
            .header("host", "a")
            .body(Full::new(Bytes::from(data.clone())))
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        assert!(res.into_body().collect().await.unwrap().to_bytes()[..] == data[..]);
    }
    drop(sender);
    assert_eq!(server.await.unwrap().unwrap(), 0);
}

#[tokio::test]
async fn handles_fail_with_driver_gone_instead_of_hanging() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let mut acceptor = server::acceptor(b);
    let (mut client, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(conn);
    let (_r, _s) = client
        .send_request(Request::post("http://x/").body(()).unwrap(), false)
        .unwrap();
    let (req, mut responder) = acceptor.accept().await.unwrap().unwrap();
    drop(acceptor);
    let err = responder
        .send_response(Response::new(()), true)
        .unwrap_err();
    assert!(err.is_driver_gone(), "{err}");
    let mut recv = req.into_body();
    let err = recv.data().await.unwrap().unwrap_err();
    assert!(err.is_driver_gone(), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_handle_waiting_on_an_undriven_connection_warns_in_debug_builds() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let mut acceptor = server::acceptor(b);
    let (mut client, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(conn);
    let (_response, _send) = client
        .send_request(Request::post("http://x/").body(()).unwrap(), false)
        .unwrap();
    let (req, _responder) = acceptor.accept().await.unwrap().unwrap();
    // The body never comes while nobody polls the acceptor.
    let waiting = tokio::spawn(async move { req.into_body().data().await.is_some() });
    // Paused time: this advances the clock at once, past two stall periods.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let warnings = acceptor.stall_warnings();
    if cfg!(debug_assertions) {
        assert!(warnings >= 1, "{warnings} warnings");
    } else {
        assert_eq!(warnings, 0);
    }
    drop(acceptor);
    assert!(
        waiting.await.unwrap(),
        "the body reports DriverGone once the acceptor is dropped"
    );
}
