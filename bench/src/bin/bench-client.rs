//! A benchmark client: one HTTP/2 connection on one of several stacks, or idle connections.
//!
//! ```text
//! bench-client --impl pull|ours|h2|hyper --url http://127.0.0.1:P/small --requests N --concurrency M
//! bench-client --impl ours|h2|hyper|tcp --url http://127.0.0.1:P/1g --download
//! bench-client --impl ours|h2|h1|tcp --url http://127.0.0.1:P/sink --upload
//! bench-client --idle N --proto h1|h2 [--streams S] --url http://127.0.0.1:P/sink
//! bench-client --rate R --seconds D --url http://127.0.0.1:P/small
//! ```
//!
//! Requests: N GETs, M at once, on one prior-knowledge HTTP/2 connection (`pull`:
//! pullhttp's pull client in one task; `ours`: its handles, a task per request slot);
//! prints `requests/s R`. Download: one GET whose body is read and dropped (`tcp`: the raw bytes of
//! `bench-server --impl tcp`); prints `GiB/s G`. Upload: one POST of 1 GiB from one shared
//! buffer (`ours`: pullhttp's HTTP/2 client; `h2`: the h2 crate's client; `h1`: a `Content-Length`
//! head and the octets written straight to the socket; `tcp`: the octets alone, to
//! `bench-server --impl tcp`), timed until the response (`tcp`: until written and shut
//! down); prints `GiB/s G`. Idle: opens N connections (HTTP/2: preface and SETTINGS
//! exchanged; HTTP/1.1: one request answered), prints `ready`; with `--streams S` it then
//! waits for a line on stdin, opens S streams on each HTTP/2 connection (POSTs whose bodies
//! never come, made sure of by a PING answered after them), prints `streams`; it holds
//! everything until stdin closes. Rate: one HTTP/2 connection (the h2 crate's client), R
//! requests per second started on schedule for D seconds, a batch every millisecond, each
//! request's latency measured from when its batch started (a client that falls behind is
//! seen in the `late` count, not hidden by it); prints
//! `latency_us p50 P p99 P max M` and `late N` (requests still unanswered at the end).

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
        let streams = arg("--streams", "0").parse()?;
        return hold_idle(&url, idle, &arg("--proto", "h2"), streams).await;
    }
    let rate: u32 = arg("--rate", "0").parse()?;
    if rate > 0 {
        return fixed_rate(&url, rate, arg("--seconds", "5").parse()?).await;
    }
    let kind = arg("--impl", "ours");
    let download = std::env::args().any(|a| a == "--download");
    let started = Instant::now();
    if std::env::args().any(|a| a == "--upload") {
        let bytes = upload(&kind, &url).await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "GiB/s {:.3} ({bytes} octets)",
            bytes as f64 / secs / f64::from(1 << 30)
        );
        return Ok(());
    }
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
    if kind == "pull" {
        pull_requests(&addr, &url, total, concurrency).await?;
        let secs = started.elapsed().as_secs_f64();
        println!("requests/s {:.0}", total as f64 / secs);
        return Ok(());
    }
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

/// pullhttp's pull client: `total` GETs on one HTTP/2 connection, `concurrency` at a time,
/// every event handled in this one task (no task per request).
async fn pull_requests(
    addr: &str,
    url: &Uri,
    total: usize,
    concurrency: usize,
) -> Result<(), BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let mut builder = client::Builder::new();
    builder.version(client::Version::Http2);
    let mut conn = builder.connect(tcp);
    let head = Request::get(url.clone()).body(())?.into_parts().0;
    let mut sent = 0;
    while sent < concurrency.min(total) {
        conn.send_request(&head, true)?;
        sent += 1;
    }
    let mut done = 0;
    while done < total {
        let finished = match conn.next_event().await? {
            Some(client::Event::Response { end_stream, .. }) => end_stream,
            Some(client::Event::Data {
                key,
                data,
                end_stream,
            }) => {
                conn.release_capacity(key, data.len());
                end_stream
            }
            Some(client::Event::Reset { code, .. }) => {
                return Err(format!("a request was reset: {code:?}").into());
            }
            Some(_) => false,
            None => return Err("the connection closed".into()),
        };
        if finished {
            done += 1;
            if sent < total {
                conn.send_request(&head, true)?;
                sent += 1;
            }
        }
    }
    Ok(())
}

/// The upload's size.
const UPLOAD: u64 = 1 << 30;

/// Uploads 1 GiB to `url` (`/sink`) and returns the octets the server says it read (`tcp`:
/// the octets written).
async fn upload(kind: &str, url: &Uri) -> Result<u64, BoxError> {
    let addr = url
        .authority()
        .ok_or("the URL needs an authority")?
        .as_str();
    let piece = Bytes::from(vec![0u8; pullhttp_bench::PIECE]);
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let pieces = UPLOAD / piece.len() as u64;
    match kind {
        "tcp" => {
            for _ in 0..pieces {
                tcp.write_all(&piece).await?;
            }
            tcp.shutdown().await?;
            Ok(UPLOAD)
        }
        "h1" => {
            let head = format!(
                "POST {} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {UPLOAD}\r\n\r\n",
                url.path()
            );
            tcp.write_all(head.as_bytes()).await?;
            for _ in 0..pieces {
                tcp.write_all(&piece).await?;
            }
            // The response is small: read until its body (the count) has come.
            let mut response = Vec::new();
            let mut buf = [0u8; 1024];
            loop {
                let n = tcp.read(&mut buf).await?;
                if n == 0 {
                    return Err("the server closed before answering".into());
                }
                response.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&response);
                if let Some((_, body)) = text.split_once("\r\n\r\n") {
                    if let Ok(count) = body.trim().parse() {
                        return Ok(count);
                    }
                }
            }
        }
        "h2" => {
            let (send, conn) = h2::client::handshake(tcp).await?;
            tokio::spawn(conn);
            let mut send = send.ready().await?;
            let request = Request::post(url.clone()).body(())?;
            let (response, mut body) = send.send_request(request, false)?;
            for i in 0..pieces {
                let mut piece = piece.clone();
                while !piece.is_empty() {
                    body.reserve_capacity(piece.len());
                    let room = std::future::poll_fn(|cx| body.poll_capacity(cx))
                        .await
                        .ok_or("the stream closed")??;
                    let part = piece.split_to(room.min(piece.len()));
                    body.send_data(part, piece.is_empty() && i + 1 == pieces)?;
                }
            }
            let mut answer = response.await?.into_body();
            let mut text = Vec::new();
            while let Some(chunk) = answer.data().await {
                text.extend_from_slice(&chunk?);
            }
            Ok(String::from_utf8_lossy(&text).trim().parse()?)
        }
        "ours" => {
            let mut builder = client::Builder::new();
            builder.version(client::Version::Http2);
            let (mut send, conn) = builder.handshake(tcp);
            tokio::spawn(conn);
            send.ready().await?;
            let request = Request::post(url.clone()).body(pullhttp_bench::Repeat::new(UPLOAD))?;
            let mut response = send.send(request)?.await?;
            let mut text = Vec::new();
            while let Some(chunk) = response.body_mut().data().await {
                text.extend_from_slice(&chunk?);
            }
            Ok(String::from_utf8_lossy(&text).trim().parse()?)
        }
        other => Err(format!("unknown upload --impl {other} (ours, h2, h1 or tcp)").into()),
    }
}

/// Requests at a fixed rate on one HTTP/2 connection; prints the latency percentiles.
async fn fixed_rate(url: &Uri, rate: u32, seconds: u32) -> Result<(), BoxError> {
    let addr = url
        .authority()
        .ok_or("the URL needs an authority")?
        .as_str();
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (send, conn) = h2::client::handshake(tcp).await?;
    tokio::spawn(conn);
    let send = send.ready().await?;
    let per_tick = rate / 1000;
    if per_tick == 0 {
        return Err("--rate must be at least 1000 (a batch every millisecond)".into());
    }
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let ticks = seconds * 1000;
    let mut timer = tokio::time::interval(std::time::Duration::from_millis(1));
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for _ in 0..ticks {
        timer.tick().await;
        // Counted from when the batch starts, not from the tick's due time: the timer fires
        // up to a millisecond late, the same for every server, and would dominate the figures.
        let due = tokio::time::Instant::now();
        for _ in 0..per_tick {
            let (send, url, done) = (send.clone(), url.clone(), done_tx.clone());
            tokio::spawn(async move {
                let result = async {
                    let mut send = send.ready().await?;
                    let (response, _) = send.send_request(Request::get(url).body(())?, true)?;
                    let mut body = response.await?.into_body();
                    while let Some(chunk) = body.data().await {
                        let chunk = chunk?;
                        let _ = body.flow_control().release_capacity(chunk.len());
                    }
                    Ok::<_, BoxError>(())
                }
                .await;
                let _ = done.send(result.map(|()| due.elapsed()));
            });
        }
    }
    drop(done_tx);
    let total = ticks * per_tick;
    let mut latencies = Vec::with_capacity(total as usize);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while let Ok(Some(result)) = tokio::time::timeout_at(deadline, done_rx.recv()).await {
        latencies.push(result?);
    }
    latencies.sort_unstable();
    // The latency below which `per_mille` of the requests fell.
    let at = |per_mille: usize| {
        latencies
            .get((latencies.len() * per_mille / 1000).min(latencies.len().saturating_sub(1)))
            .map_or(0, |d| d.as_micros())
    };
    println!(
        "latency_us p50 {} p99 {} max {}",
        at(500),
        at(990),
        latencies.last().map_or(0, |d| d.as_micros())
    );
    println!("late {}", total as usize - latencies.len());
    Ok(())
}

/// Opens `n` connections and holds them idle until stdin closes; with `streams`, opens that
/// many streams on each (HTTP/2) after a line on stdin.
async fn hold_idle(url: &Uri, n: usize, proto: &str, streams: usize) -> Result<(), BoxError> {
    let addr = url
        .authority()
        .ok_or("the URL needs an authority")?
        .as_str();
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
        if proto == "h2" {
            // Acknowledge the server's SETTINGS, as every client does (servers close
            // connections that never do).
            tcp.write_all(b"\0\0\0\x04\x01\0\0\0\0").await?;
        }
        held.push(tcp);
    }
    if streams > 0 && proto != "h2" {
        return Err("--streams needs --proto h2".into());
    }
    println!("ready {}", held.len());
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 64];
    let mut open = Vec::new();
    if streams > 0 {
        if stdin.read(&mut sink).await? == 0 {
            return Ok(());
        }
        open = open_streams(url, held, streams).await?;
        held = Vec::new();
        println!("streams {}", open.len());
    }
    while stdin.read(&mut sink).await? > 0 {}
    drop((held, open));
    Ok(())
}

/// Open streams kept alive: each connection's request sender and the bodies never sent.
type OpenStreams = (h2::client::SendRequest<Bytes>, Vec<h2::SendStream<Bytes>>);

/// Replaces each idle connection by an HTTP/2 connection with `streams` open POSTs (the
/// idle ones are closed first, so the server's count of connections stays the same).
async fn open_streams(
    url: &Uri,
    held: Vec<TcpStream>,
    streams: usize,
) -> Result<Vec<OpenStreams>, BoxError> {
    let addr = url
        .authority()
        .ok_or("the URL needs an authority")?
        .as_str();
    let n = held.len();
    drop(held);
    let mut open = Vec::with_capacity(n);
    for _ in 0..n {
        let tcp = TcpStream::connect(addr).await?;
        let (send, mut conn) = h2::client::handshake(tcp).await?;
        let mut ping = conn.ping_pong().ok_or("no PING handle")?;
        tokio::spawn(conn);
        let mut send = send.ready().await?;
        let mut bodies = Vec::with_capacity(streams);
        for _ in 0..streams {
            send = send.ready().await?;
            let (_response, body) =
                send.send_request(Request::post(url.clone()).body(())?, false)?;
            bodies.push(body);
        }
        // The PING is answered after the server has read every HEADERS before it.
        ping.ping(h2::Ping::opaque()).await?;
        open.push((send, bodies));
    }
    Ok(open)
}
