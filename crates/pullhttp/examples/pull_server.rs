//! The pull loop over both HTTP versions: one task per connection pulls `(key, request)`
//! pairs and handles each inline with plain `&mut` borrows, answers by key, upgrades
//! `Upgrade: echo` requests to a raw echo protocol over the same socket, and shuts down
//! gracefully on Ctrl-C (every connection finishes what it is doing, within 10 s).
//!
//! `cargo run -p pullhttp --example pull_server [ADDR]` (default 127.0.0.1:8080); try
//! `curl http://127.0.0.1:8080/hello`, `curl --http2-prior-knowledge ...`, or
//! `curl -d data http://127.0.0.1:8080/echo`.

use std::time::Duration;

use bytes::Bytes;
use pullhttp::ShutdownHandle;
use pullhttp::server::{self, Event};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut connections = JoinSet::new();
    let mut handles: Vec<ShutdownHandle> = Vec::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, _) = accepted?;
                let conn = server::handshake(tcp);
                handles.push(conn.shutdown_handle());
                connections.spawn(serve(conn));
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    println!("shutting down: {} connection(s)", connections.len());
    for h in &handles {
        h.shutdown();
    }
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
    println!("bye");
    Ok(())
}

/// Serves one connection, each request inline.
async fn serve(mut conn: server::Connection<TcpStream>) {
    let mut served = 0u64;
    loop {
        let event = match conn.next_event().await {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                eprintln!("connection error: {e}");
                break;
            }
        };
        let Event::Request {
            key, head, upgrade, ..
        } = event
        else {
            continue;
        };
        served += 1;
        if upgrade.is_some() && head.headers.get("upgrade").is_some_and(|u| u == "echo") {
            let switching = http::Response::builder()
                .status(101)
                .header("connection", "upgrade")
                .header("upgrade", "echo")
                .body(())
                .expect("valid head")
                .into_parts()
                .0;
            if conn.send_response(key, &switching, false).is_ok() {
                let _ = echo_upgraded(conn, key).await;
            }
            return;
        }
        let result = handle(&mut conn, key, &head, served).await;
        if let Err(e) = result {
            eprintln!("request error: {e}");
        }
    }
}

/// Answers one request: `/echo` returns the body, anything else a greeting.
async fn handle(
    conn: &mut server::Connection<TcpStream>,
    key: pullhttp::RequestKey,
    head: &http::request::Parts,
    served: u64,
) -> Result<(), pullhttp::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = conn.recv_data(key).await? {
        body.extend_from_slice(&chunk);
    }
    let reply = if head.uri.path() == "/echo" {
        Bytes::from(body)
    } else {
        Bytes::from(format!(
            "hello from pullhttp ({:?}, request {served} on this connection)\n",
            head.version
        ))
    };
    let response = http::Response::builder()
        .header("content-type", "text/plain")
        .header("content-length", reply.len())
        .body(())
        .expect("valid head")
        .into_parts()
        .0;
    conn.send_response(key, &response, reply.is_empty())?;
    if !reply.is_empty() {
        conn.write_all(key, reply, true).await?;
    }
    conn.sent(key).await
}

/// The upgraded protocol: echo every octet back.
async fn echo_upgraded(
    conn: server::Connection<TcpStream>,
    key: pullhttp::RequestKey,
) -> Result<(), pullhttp::Error> {
    let mut up = conn.into_upgraded(key).await?;
    up.io.write_all(&up.read_buf).await?;
    let mut buf = [0u8; 4096];
    loop {
        let n = up.io.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        up.io.write_all(&buf[..n]).await?;
    }
}
