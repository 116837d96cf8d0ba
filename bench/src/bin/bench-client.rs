//! A benchmark client: one HTTP/2 connection on one of several stacks, or idle connections.
//!
//! ```text
//! bench-client --impl ours|h2|hyper --url http://127.0.0.1:P/small --requests N --concurrency M
//! bench-client --impl ours|h2|hyper|tcp --url http://127.0.0.1:P/1g --download
//! bench-client --idle N --proto h1|h2 --url http://127.0.0.1:P/small
//! ```
//!
//! Requests: N GETs, M at once, on one prior-knowledge HTTP/2 connection; prints
//! `requests/s R`. Download: one GET whose body is read and dropped (`tcp`: the raw bytes of
//! `bench-server --impl tcp`); prints `GiB/s G`. Idle: opens N connections (HTTP/2: preface
//! and SETTINGS exchanged; HTTP/1.1: one request answered), prints `ready`, and holds them
//! until stdin closes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::BodyExt;
use pullhttp::client;
use pullhttp_bench::{BoxError, arg, runtime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn main() -> Result<(), BoxError> {
    let rt = runtime(&arg("--runtime", "multi"))?;
    rt.block_on(run())
}

async fn run() -> Result<(), BoxError> {
    let url: Uri = arg("--url", "http://127.0.0.1:8080/small").parse()?;
    let addr = url
        .authority()
        .ok_or("the URL needs an authority")?
        .as_str()
        .to_owned();
    let idle: usize = arg("--idle", "0").parse()?;
    if idle > 0 {
        return hold_idle(&addr, idle, &arg("--proto", "h2")).await;
    }
    let kind = arg("--impl", "ours");
    let download = std::env::args().any(|a| a == "--download");
    let started = Instant::now();
    if download {
        let bytes = match kind.as_str() {
            "tcp" => {
                let mut tcp = TcpStream::connect(&addr).await?;
                let mut buf = vec![0u8; 256 << 10];
                let mut n = 0u64;
                loop {
                    let got = tcp.read(&mut buf).await?;
                    if got == 0 {
                        break n;
                    }
                    n += got as u64;
                }
            }
            _ => Client::connect(&kind, &addr).await?.get(&url).await?,
        };
        let secs = started.elapsed().as_secs_f64();
        println!(
            "GiB/s {:.3} ({bytes} octets)",
            bytes as f64 / secs / f64::from(1 << 30)
        );
        return Ok(());
    }
    let total: usize = arg("--requests", "100000").parse()?;
    let concurrency: usize = arg("--concurrency", "64").parse()?;
    let client = Client::connect(&kind, &addr).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, next, url) = (client.clone(), next.clone(), url.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                client.get(&url).await?;
            }
            Ok::<_, BoxError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("requests/s {:.0}", total as f64 / secs);
    Ok(())
}

/// One HTTP/2 connection of one stack, shareable by tasks.
#[derive(Clone)]
enum Client {
    Ours(client::SendRequest),
    H2(h2::client::SendRequest<Bytes>),
    Hyper(hyper::client::conn::http2::SendRequest<http_body_util::Empty<Bytes>>),
}

impl Client {
    async fn connect(kind: &str, addr: &str) -> Result<Client, BoxError> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(match kind {
            "ours" => {
                let mut builder = client::Builder::new();
                builder.version(client::Version::Http2);
                let (send, conn) = builder.handshake(tcp);
                tokio::spawn(conn);
                Client::Ours(send)
            }
            "h2" => {
                let (send, conn) = h2::client::handshake(tcp).await?;
                tokio::spawn(conn);
                Client::H2(send)
            }
            "hyper" => {
                let (send, conn) = hyper::client::conn::http2::handshake(
                    hyper_util::rt::TokioExecutor::new(),
                    hyper_util::rt::TokioIo::new(tcp),
                )
                .await?;
                tokio::spawn(conn);
                Client::Hyper(send)
            }
            other => return Err(format!("unknown --impl {other}").into()),
        })
    }

    /// One GET; returns the body's length (the body is read and dropped).
    async fn get(&self, url: &Uri) -> Result<u64, BoxError> {
        let mut n = 0u64;
        match self.clone() {
            Client::Ours(mut send) => {
                send.ready().await?;
                let request = Request::get(url.clone()).body(())?;
                let (response, _) = send.send_request(request, true)?;
                let mut response = response.await?;
                while let Some(chunk) = response.body_mut().data().await {
                    n += chunk?.len() as u64;
                }
            }
            Client::H2(send) => {
                let mut send = send.ready().await?;
                let (response, _) = send.send_request(Request::get(url.clone()).body(())?, true)?;
                let mut body = response.await?.into_body();
                while let Some(chunk) = body.data().await {
                    let chunk = chunk?;
                    n += chunk.len() as u64;
                    let _ = body.flow_control().release_capacity(chunk.len());
                }
            }
            Client::Hyper(mut send) => {
                send.ready().await?;
                let request = Request::get(url.clone()).body(http_body_util::Empty::new())?;
                let mut body = send.send_request(request).await?.into_body();
                while let Some(frame) = body.frame().await {
                    n += frame?.data_ref().map_or(0, |d| d.len() as u64);
                }
            }
        }
        Ok(n)
    }
}

/// Opens `n` connections and holds them idle until stdin closes.
async fn hold_idle(addr: &str, n: usize, proto: &str) -> Result<(), BoxError> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut tcp = TcpStream::connect(addr).await?;
        if proto == "h2" {
            // The preface and an empty SETTINGS; then the server's SETTINGS (and its ACK of ours).
            tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
                .await?;
        } else {
            tcp.write_all(b"GET /small HTTP/1.1\r\nhost: x\r\n\r\n")
                .await?;
        }
        let mut buf = [0u8; 1024];
        let got = tcp.read(&mut buf).await?;
        if got == 0 {
            return Err("the server closed an idle connection at once".into());
        }
        held.push(tcp);
    }
    println!("ready {}", held.len());
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 64];
    while stdin.read(&mut sink).await? > 0 {}
    drop(held);
    Ok(())
}
