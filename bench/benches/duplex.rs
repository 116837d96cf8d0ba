//! Whole HTTP/2 connections in memory: the same client (the h2 crate's) against pullhttp's
//! pull server, its handle server, hyper and the h2 crate's server, over a
//! `tokio::io::duplex` — no sockets, no second thread, so what differs is the server's own
//! work: HPACK, framing, flow control, scheduling, the API. (The h2 crate's HPACK is not
//! public, so this is where our HPACK meets theirs.)
//!
//! `cargo bench -p pullhttp-bench --bench duplex`; throughput is requests per second.
//! Each request carries browser-like fields (so HPACK and its dynamic table matter) and
//! gets the 13-octet `/small` answer; 16 requests are in flight at a time.

#![allow(missing_docs, reason = "criterion_group! generates undocumented items")]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Request;
use pullhttp_bench::servers;

/// Requests in flight at once.
const IN_FLIGHT: u64 = 16;

fn request() -> Request<()> {
    Request::get("http://example.com/small")
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
        .header("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .header("accept-language", "en-GB,en;q=0.9")
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .header("cookie", "session=8f2e0c4a9b7d6e5f4a3b2c1d0e9f8a7b; theme=dark")
        .body(())
        .expect("a valid request")
}

/// Runs `n` requests against a fresh in-memory connection to `kind`; returns the time
/// they took (the handshake not included).
async fn run(kind: &str, n: u64) -> Duration {
    let (client_io, server_io) = tokio::io::duplex(256 << 10);
    match kind {
        "pull" => tokio::spawn(servers::pull(server_io)),
        "handle" => tokio::spawn(servers::handle(server_io)),
        "hyper" => tokio::spawn(servers::hyper_conn(server_io)),
        "h2" => tokio::spawn(servers::h2_conn(server_io)),
        other => panic!("unknown server {other}"),
    };
    let (send, conn) = h2::client::handshake(client_io)
        .await
        .expect("the handshake");
    tokio::spawn(conn);
    let send = send.ready().await.expect("ready");
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..IN_FLIGHT {
        let send = send.clone();
        // Worker w takes every IN_FLIGHT-th request.
        let count = n / IN_FLIGHT + u64::from(w < n % IN_FLIGHT);
        workers.spawn(async move {
            let mut send = send;
            for _ in 0..count {
                send = send.ready().await.expect("ready");
                let (response, _) = send.send_request(request(), true).expect("sent");
                let mut body = response.await.expect("a response").into_body();
                let mut got = 0;
                while let Some(chunk) = body.data().await {
                    let chunk = chunk.expect("body");
                    got += chunk.len();
                    let _ = body.flow_control().release_capacity(chunk.len());
                }
                assert_eq!(got, pullhttp_bench::SMALL.len());
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("a worker");
    }
    started.elapsed()
}

fn whole_connection(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("h2 connection in memory");
    group.throughput(Throughput::Elements(1));
    for kind in ["pull", "handle", "hyper", "h2"] {
        group.bench_function(kind, |b| b.iter_custom(|n| rt.block_on(run(kind, n))));
    }
    group.finish();
}

criterion_group!(benches, whole_connection);
criterion_main!(benches);
