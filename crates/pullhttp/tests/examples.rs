//! Runs the examples as real processes on ports the test picks, talks to them with real
//! clients, and stops them by PID.

mod common;

use std::io::BufRead;

use common::{Stop, start};

use bytes::Bytes;
use http::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn h2_server_example_answers_200_and_prints_the_request() {
    let (child, addr, mut out) = start("h2_server");
    let _stop = Stop(child);
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut client, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    let (response, _) = client
        .send_request(
            Request::get(format!("http://{addr}/hello"))
                .body(())
                .unwrap(),
            true,
        )
        .unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.body().is_end_stream(), "no body");
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("GET http://") && line.contains("/hello") && line.contains("HTTP/2"),
        "{line}"
    );
}

// Two workers: the test blocks one on the child process while the h2 client task must stay
// alive to answer the server's shutdown PING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_server_example_serves_both_versions_upgrades_and_shuts_down_on_sigint() {
    let (child, addr, mut out) = start("pull_server");
    let mut stop = Stop(child);
    // HTTP/1.1 echo.
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        .await
        .unwrap();
    let mut buf = vec![0; 512];
    let n = tcp.read(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("hello"),
        "{text}"
    );
    // A body-less GET on the same keep-alive connection (recv_data ends at once).
    tcp.write_all(b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let n = tcp.read(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        text.contains("hello from pullhttp (HTTP/1.1, request 2 on this connection)"),
        "{text}"
    );
    // HTTP/2 prior knowledge on the same port.
    let tcp2 = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut client, conn) = h2::client::handshake(tcp2).await.unwrap();
    tokio::spawn(conn);
    let (response, mut send) = client
        .send_request(
            Request::post(format!("http://{addr}/echo"))
                .body(())
                .unwrap(),
            false,
        )
        .unwrap();
    send.send_data(Bytes::from_static(b"over h2"), true)
        .unwrap();
    let mut body = response.await.unwrap().into_body();
    assert_eq!(body.data().await.unwrap().unwrap(), "over h2");
    // HTTP/1.1 upgrade to the echo protocol, with bytes right behind the request.
    let mut up = tokio::net::TcpStream::connect(&addr).await.unwrap();
    up.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nping")
        .await
        .unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"ping") {
        let n = up.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    drop((up, tcp, client, body));
    // Ctrl-C: graceful shutdown, then a clean exit.
    let rest = common::interrupt(&mut stop, &mut out);
    assert!(
        rest.contains("shutting down") && rest.contains("bye"),
        "{rest}"
    );
}
