//! The client handle API (`client::handshake` → `SendRequest` + `handle::Connection`)
//! against real servers: `hyper` (HTTP/1.1), the Rust `h2` server, our own server's
//! handles (push, tunnels, informational responses), and raw sockets where the octets and
//! their timing matter (100-continue, upgrades, GOAWAY).

mod common;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use common::{body, read_head};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use pullhttp::client;
use pullhttp::server;
use pullhttp::{ErrorCode, proto};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

async fn hyper_echo(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = req.uri().to_string();
    let data = req.into_body().collect().await.unwrap().to_bytes();
    let reply = if data.is_empty() {
        Bytes::from(target)
    } else {
        data
    };
    Ok(Response::new(Full::new(reply)))
}

/// Reads a response body to its end.
async fn read_all(body: &mut client::RecvBody) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

fn http2() -> client::Builder {
    let mut b = client::Builder::new();
    b.version(client::Version::Http2);
    b
}

#[tokio::test]
async fn http1_requests_one_after_another_against_hyper_with_driver_polled_bodies() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(b), hyper::service::service_fn(hyper_echo))
            .await
    });
    let (mut send, conn) = client::handshake(a);
    let driver = tokio::spawn(conn);
    send.ready().await.unwrap();
    // Two requests queued at once: HTTP/1.1 sends the second after the first's response.
    let first = send
        .send(
            Request::get("/a?x=1")
                .header("host", "example.org")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .unwrap();
    let data = Bytes::from(body(4, 900_000));
    let second = send
        .send(
            Request::post("/echo")
                .header("host", "example.org")
                .body(Full::new(data.clone()))
                .unwrap(),
        )
        .unwrap();
    let mut r1 = first.await.unwrap();
    assert_eq!(r1.status(), 200);
    assert_eq!(read_all(r1.body_mut()).await, b"/a?x=1");
    let mut r2 = second.await.unwrap();
    assert!(
        read_all(r2.body_mut()).await == data[..],
        "echoed byte for byte"
    );
    // Every SendRequest gone and nothing in flight: the connection ends by itself.
    drop(send);
    drop((r1, r2));
    driver.await.unwrap().unwrap();
}

#[tokio::test]
async fn http2_clones_multiplex_large_bodies_against_the_h2_server() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(common::h2_echo_server(b));
    let (send, conn) = http2().handshake(a);
    tokio::spawn(conn);
    let mut tasks = Vec::new();
    for i in 0..12u8 {
        let mut send = send.clone();
        tasks.push(tokio::spawn(async move {
            send.ready().await.unwrap();
            let data = Bytes::from(body(i, 150_000 + usize::from(i) * 7_000));
            let req = Request::post(format!("http://example.org/{i}"))
                .body(())
                .unwrap();
            let (response, body_out) = send.send_request(req, false).unwrap();
            let mut body_out = body_out.expect("a body follows");
            let mut rest = data.clone();
            while !rest.is_empty() {
                let n = body_out.capacity_ready().await.unwrap();
                body_out
                    .send_data(rest.split_to(n.min(rest.len())), false)
                    .unwrap();
            }
            body_out.finish().unwrap().await.unwrap();
            let mut response = response.await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.version(), http::Version::HTTP_2);
            assert!(
                read_all(response.body_mut()).await == data[..],
                "stream {i}"
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        send.peer_settings().is_some(),
        "the server's SETTINGS are readable"
    );
}

#[tokio::test]
async fn drive_while_runs_a_request_without_spawning_and_ping_measures_a_round_trip() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        let mut server = h2::server::handshake(b).await.unwrap();
        while let Some(Ok((_req, mut respond))) = server.accept().await {
            let mut send = respond.send_response(Response::new(()), false).unwrap();
            send.send_data(Bytes::from_static(b"inline"), true).unwrap();
        }
    });
    let (mut send, mut conn) = http2().handshake(a);
    let mut response = conn
        .drive_while(async {
            let (response, _) = send
                .send_request(Request::get("http://x/").body(()).unwrap(), true)
                .unwrap();
            response.await
        })
        .await
        .unwrap();
    let data = conn.drive_while(read_all(response.body_mut())).await;
    assert_eq!(data, b"inline");
    let ping = send.ping_pong();
    let rtt = conn.drive_while(ping.ping(*b"12345678")).await.unwrap();
    assert!(rtt < Duration::from_secs(5));
    assert!(conn.peer_settings().is_some());
}

#[tokio::test]
async fn informational_responses_are_observable_before_the_final_one() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        let mut acceptor = server::acceptor(b);
        let (_req, mut responder) = acceptor.accept().await.unwrap().unwrap();
        {
            responder
                .send_informational(
                    Response::builder()
                        .status(StatusCode::EARLY_HINTS)
                        .header("link", "</style.css>; rel=preload")
                        .body(())
                        .unwrap(),
                )
                .unwrap();
            let mut body = responder.send_response(Response::new(()), false).unwrap();
            body.send_data(Bytes::from_static(b"final"), true).unwrap();
        }
        let _ = acceptor.closed().await;
    });
    let (mut send, conn) = client::Builder::new().handshake(a);
    tokio::spawn(conn);
    let (mut response, _) = send
        .send_request(
            Request::get("/").header("host", "x").body(()).unwrap(),
            true,
        )
        .unwrap();
    let hint = response.informational().await.unwrap().expect("a 103");
    assert_eq!(hint.status(), StatusCode::EARLY_HINTS);
    assert_eq!(hint.headers()["link"], "</style.css>; rel=preload");
    assert!(response.informational().await.unwrap().is_none());
    let mut response = response.await.unwrap();
    assert_eq!(read_all(response.body_mut()).await, b"final");
}

#[tokio::test(start_paused = true)]
async fn expect_100_continue_holds_the_body_until_the_100_or_the_timeout() {
    // Server 1 answers 100 after a while; server 2 never does. The body must not come
    // before the 100 (server 1), and must come after the client's timeout (1 s by
    // default) when no 100 comes (server 2).
    for send_100 in [true, false] {
        let (a, mut b) = tokio::io::duplex(64 << 10);
        let server = tokio::spawn(async move {
            let head = read_head(&mut b).await;
            assert!(head.to_ascii_lowercase().contains("expect: 100-continue"));
            let start = tokio::time::Instant::now();
            let mut byte = [0; 1];
            let early = tokio::time::timeout(Duration::from_millis(500), b.read(&mut byte)).await;
            assert!(
                early.is_err(),
                "the body came before the 100 or the timeout"
            );
            if send_100 {
                b.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.unwrap();
            }
            let mut got = vec![0; 5];
            b.read_exact(&mut got).await.unwrap();
            let waited = start.elapsed();
            b.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
            (got, waited)
        });
        let (mut send, conn) = client::handshake(a);
        tokio::spawn(conn);
        let (mut response, body) = send
            .send_request(
                Request::post("/upload")
                    .header("host", "x")
                    .header("expect", "100-continue")
                    .header("content-length", "5")
                    .body(())
                    .unwrap(),
                false,
            )
            .unwrap();
        body.unwrap()
            .send_data(Bytes::from_static(b"hello"), true)
            .unwrap();
        if send_100 {
            let cont = response.informational().await.unwrap().expect("the 100");
            assert_eq!(cont.status(), StatusCode::CONTINUE);
        }
        let mut response = response.await.unwrap();
        assert_eq!(read_all(response.body_mut()).await, b"ok");
        let (got, waited) = server.await.unwrap();
        assert_eq!(got, b"hello");
        if !send_100 {
            assert!(
                waited >= Duration::from_millis(900),
                "sent after the timeout, not before ({waited:?})"
            );
        }
    }
}

#[tokio::test]
async fn an_upgrade_hands_back_the_transport_with_the_octets_sent_after_the_101() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        let head = read_head(&mut b).await;
        assert!(head.starts_with("GET /chat HTTP/1.1\r\n"));
        // The 101 and the new protocol's first octets in one write.
        b.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\nhello-after-101",
        )
        .await
        .unwrap();
        let mut buf = [0; 4];
        b.read_exact(&mut buf).await.unwrap();
        b.write_all(&buf).await.unwrap();
    });
    let (mut send, conn) = client::handshake(a);
    let parts = tokio::spawn(conn.without_shutdown());
    let (response, _) = send
        .send_request(
            Request::get("/chat")
                .header("host", "x")
                .header("upgrade", "echo")
                .header("connection", "upgrade")
                .body(())
                .unwrap(),
            true,
        )
        .unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    let parts = parts.await.unwrap().unwrap();
    let mut io = parts.io;
    let mut after = parts.read_buf.to_vec();
    while after.len() < b"hello-after-101".len() {
        let mut buf = [0; 64];
        let n = io.read(&mut buf).await.unwrap();
        assert!(n > 0);
        after.extend_from_slice(&buf[..n]);
    }
    assert_eq!(after, b"hello-after-101");
    io.write_all(b"ping").await.unwrap();
    let mut echo = [0; 4];
    io.read_exact(&mut echo).await.unwrap();
    assert_eq!(&echo, b"ping");
}

/// Our server's acceptor: CONNECT and extended CONNECT become echo tunnels, `/push`
/// pushes `/pushed`, anything else is answered with its path.
async fn our_server(io: DuplexStream) {
    let mut builder = server::Builder::new();
    builder.enable_connect_protocol(true);
    let mut acceptor = builder.acceptor(io);
    while let Some(Ok((req, mut responder))) = acceptor.accept().await {
        tokio::spawn(async move {
            if req.method() == http::Method::CONNECT {
                let mut tunnel = responder.upgrade(Response::new(())).await.unwrap();
                let (mut r, mut w) = tokio::io::split(&mut tunnel);
                tokio::io::copy(&mut r, &mut w).await.unwrap();
                w.shutdown().await.unwrap();
                return;
            }
            if req.uri().path() == "/push" {
                let promised = Request::get("http://x/pushed").body(()).unwrap();
                // Refused when the client disabled pushes: answer without.
                if let Ok(mut pushed) = responder.push_request(promised).await {
                    let mut b = pushed.send_response(Response::new(()), false).unwrap();
                    b.send_data(Bytes::from_static(b"pushed body"), true)
                        .unwrap();
                }
            }
            let mut b = responder.send_response(Response::new(()), false).unwrap();
            b.send_data(Bytes::from(req.uri().path().to_owned()), true)
                .unwrap();
        });
    }
}

#[tokio::test]
async fn http2_connect_and_extended_connect_streams_are_tunnels() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(our_server(b));
    let (mut send, conn) = http2().handshake(a);
    tokio::spawn(conn);
    // Wait for the server's SETTINGS: extended CONNECT needs SETTINGS_ENABLE_CONNECT_PROTOCOL.
    let settings = send.peer_settings_ready().await.unwrap();
    assert!(settings.enable_connect_protocol);
    for extended in [false, true] {
        let mut req = if extended {
            Request::connect("http://x/ws").body(()).unwrap()
        } else {
            Request::connect("x:443").body(()).unwrap()
        };
        if extended {
            req.extensions_mut()
                .insert(proto::h2::Protocol::from_static("websocket"));
        }
        let (response, body) = send.send_request(req, false).unwrap();
        let response = response.await.unwrap();
        assert_eq!(response.status(), 200);
        let tunnel = client::tunnel(response, body.unwrap()).unwrap();
        let (mut r, mut w) = tokio::io::split(tunnel);
        let data = body_bytes(extended);
        let writer = {
            let data = data.clone();
            tokio::spawn(async move {
                w.write_all(&data).await.unwrap();
                w.shutdown().await.unwrap();
            })
        };
        let mut back = Vec::new();
        r.read_to_end(&mut back).await.unwrap();
        writer.await.unwrap();
        assert!(back == data, "tunnel echoed {} octets", data.len());
    }
}

fn body_bytes(extended: bool) -> Vec<u8> {
    body(u8::from(extended), 300_000)
}

#[tokio::test]
async fn push_promises_are_refused_by_default_and_accepted_when_enabled() {
    for enable in [false, true] {
        let (a, b) = tokio::io::duplex(64 << 10);
        tokio::spawn(our_server(b));
        let mut builder = http2();
        builder.http2().enable_push = enable;
        let (mut send, conn) = builder.handshake(a);
        tokio::spawn(conn);
        let (mut response, _) = send
            .send_request(Request::get("http://x/push").body(()).unwrap(), true)
            .unwrap();
        let promise = response.push_promise().await.unwrap();
        if enable {
            let (req, pushed) = promise.expect("a push promise");
            assert_eq!(req.uri().path(), "/pushed");
            let mut pushed = pushed.await.unwrap();
            assert_eq!(read_all(pushed.body_mut()).await, b"pushed body");
        } else {
            assert!(promise.is_none(), "pushes are off by default");
        }
        let mut response = response.await.unwrap();
        assert_eq!(read_all(response.body_mut()).await, b"/push");
    }
}

#[tokio::test]
async fn goaway_fails_requests_above_its_last_stream_as_retryable() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let (mut send, conn) = http2().handshake(a);
    let driver = tokio::spawn(conn);
    let (first, _) = send
        .send_request(Request::get("http://x/1").body(()).unwrap(), true)
        .unwrap();
    let (second, _) = send
        .send_request(Request::get("http://x/2").body(()).unwrap(), true)
        .unwrap();
    // A scripted server answers stream 1 and refuses the rest with GOAWAY(last = 1).
    b.write_all(&common::goaway_after_stream_1()).await.unwrap();
    assert_eq!(first.await.unwrap().status(), 200);
    let err = second.await.unwrap_err();
    assert!(err.is_retryable(), "not processed: safe to retry ({err})");
    assert_eq!(err.reset_code(), Some(ErrorCode::REFUSED_STREAM));
    let refused = send.send_request(Request::get("http://x/3").body(()).unwrap(), true);
    assert!(
        refused.is_err_and(|e| e.is_closed()),
        "no new requests after GOAWAY"
    );
    drop(b);
    let _ = driver.await.unwrap();
}

#[tokio::test]
async fn an_early_response_and_rst_stream_no_error_end_a_driver_polled_upload() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        let mut server = server::handshake(b);
        while let Ok(Some((key, _req))) = server.next_request().await {
            let head = Response::new(()).into_parts().0;
            server.send_response(key, &head, false).unwrap();
            server
                .write_all(key, Bytes::from_static(b"too large"), true)
                .await
                .unwrap();
            if server.sent(key).await.is_ok() {
                let _ = server.reset_with(key, ErrorCode::NO_ERROR);
            }
        }
    });
    let (mut send, conn) = http2().handshake(a);
    tokio::spawn(conn);
    let upload = Bytes::from(body(1, 1 << 20));
    let mut response = send
        .send(
            Request::post("http://x/upload")
                .body(Full::new(upload))
                .unwrap(),
        )
        .unwrap()
        .await
        .unwrap();
    assert_eq!(read_all(response.body_mut()).await, b"too large");
    let next = send
        .send(
            Request::get("http://x/next")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .unwrap()
        .await
        .unwrap();
    assert_eq!(next.status(), 200);
}

#[tokio::test]
async fn a_dropped_driver_fails_waiting_handles_instead_of_hanging() {
    let (a, _b) = tokio::io::duplex(64 << 10);
    let (mut send, conn) = http2().handshake(a);
    let (response, _) = send
        .send_request(Request::get("http://x/").body(()).unwrap(), true)
        .unwrap();
    drop(conn);
    let err = response.await.unwrap_err();
    assert!(
        err.is_driver_gone() || err.kind() == pullhttp::Kind::StreamReset,
        "{err}"
    );
    assert!(send.ready().await.is_err());
}

#[tokio::test]
async fn h2c_upgrade_on_the_first_request_continues_over_http2_or_stays_on_http1() {
    let mut builder = client::Builder::new();
    builder.version(client::Version::H2cUpgrade);
    // Our server upgrades: the first response comes over stream 1, the next request is
    // an HTTP/2 stream.
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(our_server(b));
    let (mut send, conn) = builder.handshake(a);
    tokio::spawn(conn);
    let (first, _) = send
        .send_request(
            Request::get("/first").header("host", "x").body(()).unwrap(),
            true,
        )
        .unwrap();
    let mut first = first.await.unwrap();
    assert_eq!(first.version(), http::Version::HTTP_2);
    assert_eq!(read_all(first.body_mut()).await, b"/first");
    let (second, _) = send
        .send_request(Request::get("http://x/second").body(()).unwrap(), true)
        .unwrap();
    let mut second = second.await.unwrap();
    assert_eq!(second.version(), http::Version::HTTP_2);
    assert_eq!(read_all(second.body_mut()).await, b"/second");
    assert!(send.peer_settings().is_some());
    // hyper's HTTP/1.1 server ignores the offer: the connection stays on HTTP/1.1.
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(b), hyper::service::service_fn(hyper_echo))
            .await
    });
    let (mut send, conn) = builder.handshake(a);
    tokio::spawn(conn);
    for path in ["/one", "/two"] {
        let (response, _) = send
            .send_request(
                Request::get(path).header("host", "x").body(()).unwrap(),
                true,
            )
            .unwrap();
        let mut response = response.await.unwrap();
        assert_eq!(response.version(), http::Version::HTTP_11);
        assert_eq!(read_all(response.body_mut()).await, path.as_bytes());
    }
}

#[tokio::test]
async fn wire_control_http1_header_case_and_http2_pseudo_and_settings_order() {
    use proto::h2::PseudoHeader;
    use proto::h2::frame::{Frame, FrameReader, SettingId};
    use proto::h2::hpack::Decoder;
    // HTTP/1.1: names in the case and order the HeaderCase extension gives.
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let (mut send, conn) = client::handshake(a);
    tokio::spawn(conn);
    let mut req = Request::get("/case")
        .header("host", "x")
        .header("x-second", "2")
        .header("x-first", "1")
        .body(())
        .unwrap();
    let mut case = proto::h1::HeaderCase::new();
    for name in ["X-First", "Host", "X-SECOND"] {
        case.push(name);
    }
    req.extensions_mut().insert(case);
    let (response, _) = send.send_request(req, true).unwrap();
    let head = read_head(&mut b).await;
    b.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(response.await.unwrap().status(), 204);
    let names: Vec<&str> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split(':').next())
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(names, ["X-First", "Host", "X-SECOND"], "{head}");
    // HTTP/2: pseudo-headers and SETTINGS in the configured order and values.
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let mut builder = http2();
    let h2 = builder.http2();
    h2.pseudo_order = [
        PseudoHeader::Method,
        PseudoHeader::Authority,
        PseudoHeader::Scheme,
        PseudoHeader::Path,
        PseudoHeader::Protocol,
    ];
    h2.settings_order = vec![SettingId::INITIAL_WINDOW_SIZE, SettingId::HEADER_TABLE_SIZE];
    h2.initial_window_size = 6_291_456;
    h2.header_table_size = 65_536;
    let (mut send, conn) = builder.handshake(a);
    tokio::spawn(conn);
    let _response = send
        .send_request(
            Request::get("https://example.org/p").body(()).unwrap(),
            true,
        )
        .unwrap();
    let mut preface = [0; 24];
    b.read_exact(&mut preface).await.unwrap();
    let mut reader = FrameReader::new();
    let mut buf = bytes::BytesMut::new();
    let mut settings = None;
    let mut fields = None;
    while fields.is_none() {
        let mut chunk = [0; 4096];
        let n = b.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the client closed before its HEADERS");
        buf.extend_from_slice(&chunk[..n]);
        while let Some(frame) = reader.decode(&mut buf).unwrap() {
            match frame {
                Frame::Settings(s) if !s.ack && settings.is_none() => settings = Some(s.params),
                Frame::Headers(h) => {
                    let mut names = Vec::new();
                    Decoder::default()
                        .decode(&h.block, |f| {
                            names.push(String::from_utf8_lossy(&f.name).into_owned())
                        })
                        .unwrap();
                    fields = Some(names);
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        settings.unwrap(),
        [
            (SettingId::INITIAL_WINDOW_SIZE, 6_291_456),
            (SettingId::HEADER_TABLE_SIZE, 65_536)
        ]
    );
    assert_eq!(
        fields.unwrap()[..4],
        [":method", ":authority", ":scheme", ":path"]
    );
}

#[tokio::test(start_paused = true)]
async fn an_h2c_upgraded_connection_closes_once_its_senders_are_gone() {
    let mut builder = client::Builder::new();
    builder.version(client::Version::H2cUpgrade);
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(our_server(b));
    let (mut send, conn) = builder.handshake(a);
    let driver = tokio::spawn(conn);
    let (response, _) = send
        .send_request(
            Request::get("/x").header("host", "x").body(()).unwrap(),
            true,
        )
        .unwrap();
    let mut response = response.await.unwrap();
    assert_eq!(read_all(response.body_mut()).await, b"/x");
    drop((send, response));
    tokio::time::timeout(Duration::from_secs(5), driver)
        .await
        .expect("closed well before the drain timeout")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn graceful_shutdown_lets_the_request_in_flight_finish_and_refuses_new_ones() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(our_server(b));
    let (mut send, mut conn) = http2().handshake(a);
    let (response, body_out) = send
        .send_request(Request::post("http://x/in-flight").body(()).unwrap(), false)
        .unwrap();
    // The server answers at once; our request body is still open when the shutdown starts.
    let mut response = conn.drive_while(response).await.unwrap();
    conn.graceful_shutdown();
    let refused = send.send_request(Request::get("http://x/late").body(()).unwrap(), true);
    assert!(refused.is_err_and(|e| e.is_closed()), "no new requests");
    let finished = body_out.unwrap().finish().unwrap();
    conn.drive_while(finished).await.unwrap();
    let body = conn.drive_while(read_all(response.body_mut())).await;
    assert_eq!(body, b"/in-flight");
    conn.await.unwrap();
}

#[tokio::test]
async fn a_request_the_connection_cannot_send_fails_with_its_reason_not_as_retryable() {
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(our_server(b));
    let (mut send, conn) = http2().handshake(a);
    tokio::spawn(conn);
    // HTTP/2 CONNECT needs an authority: this head cannot be sent.
    let (bad, _) = send
        .send_request(Request::connect("/").body(()).unwrap(), true)
        .unwrap();
    let err = bad.await.unwrap_err();
    assert!(err.is_misuse(), "{err}");
    assert!(!err.is_retryable(), "sending it again cannot help: {err}");
    // The connection goes on.
    let (good, _) = send
        .send_request(Request::get("http://x/after").body(()).unwrap(), true)
        .unwrap();
    let mut good = good.await.unwrap();
    assert_eq!(read_all(good.body_mut()).await, b"/after");
}

/// Whether `poll_ready` passes now (without waiting).
async fn ready_now(send: &mut client::SendRequest) -> bool {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(matches!(
            send.poll_ready(cx),
            std::task::Poll::Ready(Ok(()))
        ))
    })
    .await
}

#[tokio::test]
async fn ready_counts_queued_requests_against_the_servers_stream_limit() {
    let (a, b) = tokio::io::duplex(64 << 10);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut conn = h2::server::Builder::new()
            .max_concurrent_streams(2)
            .handshake::<_, Bytes>(b)
            .await
            .unwrap();
        while let Some(accepted) = conn.accept().await {
            tx.send(accepted.unwrap().1).unwrap();
        }
    });
    let (mut send, conn) = http2().handshake(a);
    tokio::spawn(conn);
    let settings = send.peer_settings_ready().await.unwrap();
    assert_eq!(settings.max_concurrent_streams, Some(2));
    let get = || Request::get("http://example.org/").body(()).unwrap();
    // Two requests fit: the second handle is ready while the first request is still
    // queued for the driver (not yet sent), so both can leave in one write.
    assert!(ready_now(&mut send).await);
    let (first, _) = send.send_request(get(), true).unwrap();
    assert!(ready_now(&mut send).await, "room for a second request");
    let (second, _) = send.send_request(get(), true).unwrap();
    assert!(!ready_now(&mut send).await, "the server allows two streams");
    // The server answers the first: room for one more.
    let mut respond = rx.recv().await.unwrap();
    let _second_respond = rx.recv().await.unwrap();
    respond.send_response(Response::new(()), true).unwrap();
    assert_eq!(first.await.unwrap().status(), 200);
    send.ready().await.unwrap();
    assert!(
        second.request_key().is_some(),
        "the second request was sent"
    );
}
