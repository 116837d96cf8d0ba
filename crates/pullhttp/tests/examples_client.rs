//! Runs the client examples (`client`, `websocket_client`, `connect_tunnel`) as real
//! processes against servers on ports the test picks, and checks what they print.

mod common;

use std::convert::Infallible;
use std::process::Output;

use bytes::Bytes;
use common::{Stop, body, example, read_head, start};
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use pullhttp::server;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

/// Runs an example to its end.
async fn run_example(name: &str, args: &[&str]) -> Output {
    let out = tokio::process::Command::new(example(name))
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .expect("example runs");
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test]
async fn client_example_gets_and_posts_over_both_versions_byte_for_byte() {
    let (child, addr, _out) = start("pull_server");
    let _stop = Stop(child);
    let dir = std::env::temp_dir().join(format!("pullhttp-client-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("upload.bin");
    let data = body(9, 1 << 20);
    std::fs::write(&file, &data).unwrap();
    let file = file.to_str().unwrap();
    let echo = format!("http://{addr}/echo");
    let hello = format!("http://{addr}/hello");
    for (flags, version) in [
        (&[][..], "HTTP/1.1 200"),
        (&["--http2-prior-knowledge"][..], "HTTP/2.0 200"),
    ] {
        let mut args = flags.to_vec();
        args.extend(["-d", file, "--parallel", "3", echo.as_str()]);
        let out = run_example("client", &args).await;
        assert!(out.stdout == data, "{flags:?}: the body byte for byte");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(version), "{stderr}");
        assert!(stderr.contains("3 responses, all equal"), "{stderr}");
    }
    // `--http2` offers h2c on a body-less GET; our server upgrades.
    let out = run_example("client", &["--http2", hello.as_str()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("HTTP/2.0 200"), "{stderr}");
    assert!(!out.stdout.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn websocket_client_example_keeps_the_octets_sent_right_after_the_101() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let head = read_head(&mut tcp).await;
        let key = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("sec-websocket-key:")
                    .then(|| l.split_once(':').unwrap().1.trim().to_owned())
            })
            .expect("a Sec-WebSocket-Key");
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        // The 101 and an unmasked text frame "welcome" in one write.
        let mut reply = format!(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
             sec-websocket-accept: {accept}\r\n\r\n"
        )
        .into_bytes();
        reply.extend_from_slice(&[0x81, 7]);
        reply.extend_from_slice(b"welcome");
        tcp.write_all(&reply).await.unwrap();
        let mut ws = WebSocketStream::from_raw_socket(tcp, Role::Server, None).await;
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg {
                ws.send(Message::text(format!("echo:{t}"))).await.unwrap();
            }
        }
    });
    let url = format!("ws://{addr}/chat");
    let out = run_example("websocket_client", &[url.as_str(), "one", "two"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "read-ahead: 9 octets\ngot: welcome\ngot: echo:one\ngot: echo:two\n"
    );
    server.await.unwrap();
}

/// A target answering every GET with a fixed body.
async fn target() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(
                TokioIo::new(tcp),
                hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let reply = format!("target saw {}", req.uri());
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(reply))))
                }),
            ));
        }
    });
    addr
}

/// An HTTP/1.1 CONNECT proxy: reads the CONNECT, dials the target, answers 200, copies.
async fn h1_proxy() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let head = read_head(&mut tcp).await;
                let target = head.split(' ').nth(1).unwrap().to_owned();
                assert!(head.starts_with("CONNECT "), "{head}");
                let mut upstream = TcpStream::connect(target).await.unwrap();
                tcp.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tcp, &mut upstream).await;
            });
        }
    });
    addr
}

/// An HTTP/2 CONNECT proxy on our server's handles: each CONNECT stream becomes a tunnel
/// to the target.
async fn h2_proxy() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut acceptor = server::acceptor(tcp);
                while let Some(Ok((req, responder))) = acceptor.accept().await {
                    tokio::spawn(async move {
                        let target = req.uri().authority().unwrap().to_string();
                        let mut upstream = TcpStream::connect(target).await.unwrap();
                        let mut tunnel = responder.upgrade(Response::new(())).await.unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut tunnel, &mut upstream).await;
                    });
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn connect_tunnel_example_reaches_the_target_through_http1_and_http2_proxies() {
    let target = target().await.to_string();
    for (h2, proxy) in [(false, h1_proxy().await), (true, h2_proxy().await)] {
        let proxy = proxy.to_string();
        let mut args = Vec::new();
        if h2 {
            args.push("--http2-prior-knowledge");
        }
        args.extend([proxy.as_str(), target.as_str(), "/through"]);
        let out = run_example("connect_tunnel", &args).await;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "target saw /through");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let proxy_line = if h2 {
            "proxy: HTTP/2.0 200"
        } else {
            "proxy: HTTP/1.1 200"
        };
        assert!(stderr.contains(proxy_line), "{stderr}");
        assert!(stderr.contains("target: HTTP/1.1 200"), "{stderr}");
    }
}

#[tokio::test]
async fn websocket_client_example_speaks_http1_upgrade_and_rfc_8441_to_the_websocket_server() {
    let (child, addr, _out) = start("websocket_server");
    let _stop = Stop(child);
    let url = format!("ws://{addr}/ws");
    let out = run_example("websocket_client", &[url.as_str(), "a", "b"]).await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "got: echo[1]:a\ngot: echo[1]:b\n"
    );
    let out = run_example("websocket_client", &["--http2", url.as_str(), "c"]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got: echo[2]:c\n");
}
