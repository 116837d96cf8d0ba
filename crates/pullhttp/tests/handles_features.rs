//! The handle API's h2-style surface against real clients: push promises (Rust `h2`
//! client), PING round trips, abrupt shutdown, `send_response_with` with trailers,
//! HTTP/2 CONNECT and extended CONNECT tunnels, HTTP/1.1 `101` and CONNECT hand-over
//! (`hyper` client), stream ids and reset notification.

mod common;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{Empty, StreamBody};
use hyper_util::rt::TokioIo;
use pullhttp::ErrorCode;
use pullhttp::server::{self, Tunnel};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Starts an `h2` client on one end of a fresh pipe; the other end is returned.
async fn h2_client(
    server_io: impl FnOnce(DuplexStream) -> tokio::task::JoinHandle<()>,
) -> (h2::client::SendRequest<Bytes>, tokio::task::JoinHandle<()>) {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = server_io(b);
    let (client, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    (client, server)
}

/// Reads an `h2` body to its end (releasing capacity), with its trailers.
async fn collect(mut body: h2::RecvStream) -> Result<(Vec<u8>, Option<HeaderMap>), h2::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        body.flow_control().release_capacity(chunk.len())?;
        out.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await?;
    Ok((out, trailers))
}

#[tokio::test]
async fn push_promise_reaches_the_h2_client_with_its_response() {
    let (mut client, server) = h2_client(|io| {
        tokio::spawn(async move {
            let mut acceptor = server::acceptor(io);
            let (req, mut responder) = acceptor.accept().await.unwrap().unwrap();
            assert_eq!(req.uri().path(), "/");
            acceptor
                .drive_while(async {
                    let push = Request::get("http://example.com/style.css")
                        .body(())
                        .unwrap();
                    let mut pushed = responder.push_request(push).await.unwrap();
                    assert_eq!(pushed.stream_id().map(|id| id.as_u32()), Some(2));
                    let mut body = pushed.send_response(Response::new(()), false).unwrap();
                    body.send_data(Bytes::from_static(b"body{}"), false)
                        .unwrap();
                    body.finish().unwrap().await.unwrap();
                    let mut main = responder.send_response(Response::new(()), false).unwrap();
                    main.send_data(Bytes::from_static(b"<html>"), true).unwrap();
                })
                .await;
            assert!(acceptor.accept().await.is_none());
        })
    })
    .await;
    let (mut response, _) = client
        .send_request(Request::get("http://example.com/").body(()).unwrap(), true)
        .unwrap();
    let mut pushes = response.push_promises();
    let response = response.await.unwrap();
    let promise = pushes.push_promise().await.unwrap().unwrap();
    let (pushed_req, pushed) = promise.into_parts();
    assert_eq!(pushed_req.uri().path(), "/style.css");
    let pushed = pushed.await.unwrap();
    let (pushed_body, _) = collect(pushed.into_body()).await.unwrap();
    assert_eq!(pushed_body, b"body{}");
    let (main_body, _) = collect(response.into_body()).await.unwrap();
    assert_eq!(main_body, b"<html>");
    drop((client, pushes));
    server.await.unwrap();
}

#[tokio::test]
async fn push_request_is_refused_when_the_client_disabled_push() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let (_req, mut responder) = acceptor.accept().await.unwrap().unwrap();
        let push = Request::get("http://example.com/x").body(()).unwrap();
        let err = acceptor
            .drive_while(responder.push_request(push))
            .await
            .unwrap_err();
        assert!(err.is_misuse(), "{err}");
        responder.send_response(Response::new(()), true).unwrap();
        acceptor.closed().await.unwrap();
    });
    let (mut client, conn) = h2::client::Builder::new()
        .enable_push(false)
        .handshake::<_, Bytes>(a)
        .await
        .unwrap();
    tokio::spawn(conn);
    let (response, _) = client
        .send_request(Request::get("http://example.com/").body(()).unwrap(), true)
        .unwrap();
    assert_eq!(response.await.unwrap().status(), 200);
    drop(client);
    server.await.unwrap();
}

#[tokio::test]
async fn ping_pong_measures_a_round_trip_and_fails_clearly_on_http1() {
    let (client, server) = h2_client(|io| {
        tokio::spawn(async move {
            let mut acceptor = server::acceptor(io);
            let pinger = acceptor.ping_pong();
            let rtt = acceptor.drive_while(pinger.ping(*b"opaque!!")).await;
            assert!(rtt.is_ok(), "{rtt:?}");
            // Two different payloads in flight at once.
            let (a, b) = acceptor
                .drive_while(async { tokio::join!(pinger.ping([1; 8]), pinger.ping([2; 8])) })
                .await;
            assert!(a.is_ok() && b.is_ok());
            // The same payload twice at once is refused.
            let (a, b) = acceptor
                .drive_while(async { tokio::join!(pinger.ping([3; 8]), pinger.ping([3; 8])) })
                .await;
            assert!(
                a.is_ok() != b.is_ok(),
                "exactly one of two identical pings fails"
            );
            assert!(a.err().or(b.err()).unwrap().is_misuse());
        })
    })
    .await;
    server.await.unwrap();
    drop(client);

    let (a, b) = tokio::io::duplex(1 << 16);
    let mut acceptor = server::acceptor(b);
    let pinger = acceptor.ping_pong();
    let mut a = a;
    a.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let _accepted = acceptor.accept().await.unwrap().unwrap();
    let err = acceptor.drive_while(pinger.ping([0; 8])).await.unwrap_err();
    assert!(err.is_misuse(), "{err}");
}

#[tokio::test]
async fn abrupt_shutdown_resets_open_streams_and_ends_the_connection() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let (client_done, server_may_drop) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let (_req, mut responder) = acceptor.accept().await.unwrap().unwrap();
        let mut send = responder.send_response(Response::new(()), false).unwrap();
        send.send_data(Bytes::from_static(b"partial"), false)
            .unwrap();
        acceptor.abrupt_shutdown(ErrorCode::INTERNAL_ERROR);
        let end = acceptor.accept().await;
        assert!(matches!(end, Some(Err(_)) | None), "{end:?}");
        assert!(acceptor.accept().await.is_none());
        let code = responder.cancelled().await.unwrap();
        assert_eq!(code, ErrorCode::INTERNAL_ERROR);
        assert!(send.send_data(Bytes::new(), true).is_err());
        // Keep the transport until the client has read everything we wrote.
        let _ = server_may_drop.await;
    });
    let (mut client, conn) = h2::client::handshake(a).await.unwrap();
    let conn = tokio::spawn(conn);
    let (response, _) = client
        .send_request(Request::get("http://example.com/").body(()).unwrap(), true)
        .unwrap();
    let outcome = async {
        let response = response.await?;
        collect(response.into_body()).await.map(|_| ())
    }
    .await;
    // The `h2` client reports the cut stream as closed, and the connection's end as the
    // GOAWAY we sent.
    assert!(outcome.is_err(), "the open stream was cut short");
    let conn_err = conn.await.unwrap().unwrap_err();
    assert!(conn_err.is_go_away(), "{conn_err}");
    assert_eq!(conn_err.reason(), Some(h2::Reason::INTERNAL_ERROR));
    client_done.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn send_response_with_pumps_a_body_and_its_trailers() {
    let (mut client, server) = h2_client(|io| {
        tokio::spawn(async move {
            let mut acceptor = server::acceptor(io);
            while let Some(accepted) = acceptor.accept().await {
                let (req, mut responder) = accepted.unwrap();
                let mut trailers = HeaderMap::new();
                trailers.insert("grpc-status", "0".parse().unwrap());
                let frames = vec![
                    Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::from(vec![
                        7u8;
                        200_000
                    ]))),
                    Ok(http_body::Frame::data(Bytes::from_static(b"tail"))),
                    Ok(http_body::Frame::trailers(trailers)),
                ];
                let body = StreamBody::new(futures_util::stream::iter(frames));
                let sent = acceptor
                    .drive_while(responder.send_response_with(Response::new(body)))
                    .await;
                sent.unwrap();
                drop(req);
            }
        })
    })
    .await;
    let (response, _) = client
        .send_request(Request::get("http://example.com/").body(()).unwrap(), true)
        .unwrap();
    let (data, trailers) = collect(response.await.unwrap().into_body()).await.unwrap();
    assert_eq!(trailers.unwrap()["grpc-status"], "0");
    assert_eq!(data.len(), 200_004);
    assert!(data.ends_with(b"tail"));
    drop(client);
    server.await.unwrap();
}

/// Echoes a tunnel until the peer ends its side, then ends ours.
async fn echo_tunnel(mut tunnel: Tunnel) -> std::io::Result<u64> {
    let mut buf = vec![0; 8 << 10];
    let mut total = 0;
    loop {
        let n = tunnel.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        tunnel.write_all(&buf[..n]).await?;
        total += n as u64;
    }
    tunnel.shutdown().await?;
    Ok(total)
}

#[tokio::test]
async fn http2_connect_and_extended_connect_become_stream_tunnels() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut builder = server::Builder::new();
        builder.enable_connect_protocol(true);
        let mut acceptor = builder.acceptor(b);
        let mut tunnels = Vec::new();
        while let Some(accepted) = acceptor.accept().await {
            let (req, mut responder) = accepted.unwrap();
            if req.method() != Method::CONNECT {
                assert!(!responder.can_upgrade());
                responder.send_response(Response::new(()), true).unwrap();
                continue;
            }
            assert!(responder.can_upgrade());
            let protocol = req
                .extensions()
                .get::<pullhttp::proto::h2::Protocol>()
                .map(|p| p.as_bytes().to_vec());
            tunnels.push(tokio::spawn(async move {
                let tunnel = responder.upgrade(Response::new(())).await.unwrap();
                assert!(tunnel.is_stream());
                (protocol, echo_tunnel(tunnel).await.unwrap())
            }));
        }
        let mut out = Vec::new();
        for t in tunnels {
            out.push(t.await.unwrap());
        }
        out
    });
    let (mut client, conn) = h2::client::handshake(a).await.unwrap();
    tokio::spawn(conn);
    // A first exchange makes sure the server's SETTINGS were seen.
    let (response, _) = client
        .send_request(Request::get("http://example.com/").body(()).unwrap(), true)
        .unwrap();
    response.await.unwrap();
    assert!(client.is_extended_connect_protocol_enabled());

    let plain = Request::connect("example.com:443").body(()).unwrap();
    let mut extended = Request::connect("http://example.com/chat")
        .body(())
        .unwrap();
    extended
        .extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    for (i, req) in [plain, extended].into_iter().enumerate() {
        let (response, mut send) = client.send_request(req, false).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let data = common::body(u8::try_from(i).unwrap(), 150_000);
        let mut body = response.into_body();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                body.flow_control().release_capacity(chunk.len()).unwrap();
                got.extend_from_slice(&chunk);
            }
            got
        });
        let mut rest = Bytes::from(data.clone());
        while !rest.is_empty() {
            send.reserve_capacity(rest.len().min(32 << 10));
            let cap = std::future::poll_fn(|cx| send.poll_capacity(cx))
                .await
                .unwrap()
                .unwrap();
            send.send_data(rest.split_to(cap.min(rest.len())), false)
                .unwrap();
        }
        send.send_data(Bytes::new(), true).unwrap();
        let got = reader.await.unwrap();
        assert_eq!(got.len(), data.len(), "tunnel {i} echoed everything");
        assert!(got == data, "tunnel {i} echoed in order");
    }
    drop(client);
    let done = server.await.unwrap();
    assert_eq!(
        done,
        vec![(None, 150_000), (Some(b"websocket".to_vec()), 150_000)]
    );
}

#[tokio::test]
async fn http1_upgrade_hands_over_the_transport_with_read_ahead() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let (req, responder) = acceptor.accept().await.unwrap().unwrap();
        assert_eq!(req.headers()["upgrade"], "echo");
        assert!(responder.can_upgrade());
        let response = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("connection", "upgrade")
            .header("upgrade", "echo")
            .body(())
            .unwrap();
        let (tunnel, end) = tokio::join!(responder.upgrade(response), acceptor.accept());
        assert!(
            end.is_none(),
            "the acceptor ends after handing the transport over"
        );
        let tunnel = tunnel.unwrap();
        assert!(!tunnel.is_stream());
        let upgraded = tunnel.into_transport::<DuplexStream>().unwrap();
        let mut io = upgraded.io;
        // The client sent its first octets right behind the request: they were read
        // ahead and come back in `read_buf`.
        let mut got = upgraded.read_buf.to_vec();
        while got.len() < 5 {
            let mut buf = [0; 16];
            let n = io.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"hello");
        io.write_all(b"HELLO").await.unwrap();
    });
    let mut client = a;
    client
        .write_all(
            b"GET /chat HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nhello",
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    let mut buf = [0; 256];
    while !response.ends_with(b"HELLO") {
        let n = client.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "connection closed early: {:?}",
            String::from_utf8_lossy(&response)
        );
        response.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    server.await.unwrap();
}

#[tokio::test]
async fn http1_connect_through_hyper_gets_the_transport() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let (req, responder) = acceptor.accept().await.unwrap().unwrap();
        assert_eq!(req.method(), Method::CONNECT);
        let (tunnel, _) = tokio::join!(responder.upgrade(Response::new(())), acceptor.closed());
        let upgraded = tunnel.unwrap().into_transport::<DuplexStream>().unwrap();
        assert!(upgraded.read_buf.is_empty());
        echo_tunnel_io(upgraded.io).await;
    });
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(a))
        .await
        .unwrap();
    tokio::spawn(conn.with_upgrades());
    let req = Request::connect("example.com:443")
        .header("host", "example.com:443")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(req).await.unwrap();
    assert_eq!(response.status(), 200);
    let upgraded = hyper::upgrade::on(response).await.unwrap();
    let mut io = TokioIo::new(upgraded);
    io.write_all(b"through the tunnel").await.unwrap();
    let mut got = [0; 18];
    io.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"through the tunnel");
    drop(io);
    server.await.unwrap();
}

async fn echo_tunnel_io(mut io: DuplexStream) {
    let mut buf = [0; 1024];
    loop {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if io.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[tokio::test]
async fn upgrade_is_refused_for_plain_requests_and_non_success_statuses() {
    let (mut client, server) = h2_client(|io| {
        tokio::spawn(async move {
            let mut acceptor = server::acceptor(io);
            let (_req, responder) = acceptor.accept().await.unwrap().unwrap();
            let err = responder.upgrade(Response::new(())).await.unwrap_err();
            assert!(err.is_misuse(), "{err}");
            let (_req, responder) = acceptor.accept().await.unwrap().unwrap();
            let refused = Response::builder().status(403).body(()).unwrap();
            let err = responder.upgrade(refused).await.unwrap_err();
            assert!(err.is_misuse(), "{err}");
        })
    })
    .await;
    let (_r1, _) = client
        .send_request(Request::get("http://example.com/").body(()).unwrap(), true)
        .unwrap();
    let (_r2, _s2) = client
        .send_request(Request::connect("example.com:443").body(()).unwrap(), false)
        .unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn a_peer_reset_reaches_the_responder_and_the_send_body() {
    let (mut client, server) = h2_client(|io| {
        tokio::spawn(async move {
            let mut acceptor = server::acceptor(io);
            let (_req, mut responder) = acceptor.accept().await.unwrap().unwrap();
            let mut send = responder.send_response(Response::new(()), false).unwrap();
            let (code, body_code) = acceptor
                .drive_while(async {
                    let code = responder.cancelled().await.unwrap();
                    let body_code = std::future::poll_fn(|cx| send.poll_reset(cx))
                        .await
                        .unwrap();
                    (code, body_code)
                })
                .await;
            assert_eq!(code, ErrorCode::CANCEL);
            assert_eq!(body_code, ErrorCode::CANCEL);
            let err = send.write(Bytes::from_static(b"late")).await.unwrap_err();
            assert_eq!(err.kind(), pullhttp::Kind::StreamReset);
        })
    })
    .await;
    let (response, mut send) = client
        .send_request(
            Request::post("http://example.com/").body(()).unwrap(),
            false,
        )
        .unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    send.send_reset(h2::Reason::CANCEL);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the reset was reported")
        .unwrap();
}
