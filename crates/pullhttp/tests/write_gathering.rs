//! Write gathering in the handle APIs: requests (client) and responses (server) that many
//! tasks hand over at about the same time leave the driver together, not one write each.
//!
//! The runtime is tokio's multi-thread scheduler with one worker: deterministic, and with
//! its LIFO slot, the scheduling that made a handle driver run right after the first task
//! that woke it (and write that task's request alone) while the other tasks were still
//! queued. The transport counts write rounds: writes followed by a flush, which the driver
//! does once per round (over a socket, one `writev`).

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use pullhttp::{client, server};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Concurrent tasks, and requests each makes one after the other.
const TASKS: usize = 32;
const EACH: usize = 8;

/// A transport that counts its write rounds.
struct CountRounds<T> {
    io: T,
    wrote: bool,
    rounds: Arc<AtomicUsize>,
}

impl<T> CountRounds<T> {
    fn new(io: T) -> (Self, Arc<AtomicUsize>) {
        let rounds = Arc::new(AtomicUsize::new(0));
        let io = CountRounds {
            io,
            wrote: false,
            rounds: rounds.clone(),
        };
        (io, rounds)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CountRounds<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CountRounds<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote |= matches!(polled, Poll::Ready(Ok(n)) if n > 0);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote |= matches!(polled, Poll::Ready(Ok(n)) if n > 0);
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        if polled.is_ready() && std::mem::take(&mut self.wrote) {
            self.rounds.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

fn one_worker() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The Rust `h2` server answering every request at once with a 5-octet body.
async fn h2_hello_server(io: tokio::io::DuplexStream) {
    let mut conn = h2::server::handshake(io).await.unwrap();
    while let Some(accepted) = conn.accept().await {
        let (_, mut respond) = accepted.unwrap();
        let mut send = respond.send_response(Response::new(()), false).unwrap();
        send.send_data(Bytes::from_static(b"hello"), true).unwrap();
    }
}

#[test]
fn client_handles_requests_from_many_tasks_leave_in_few_writes() {
    one_worker().block_on(async {
        let (a, b) = tokio::io::duplex(1 << 20);
        tokio::spawn(h2_hello_server(b));
        let (io, rounds) = CountRounds::new(a);
        let mut builder = client::Builder::new();
        builder.version(client::Version::Http2);
        let (send, conn) = builder.handshake(io);
        tokio::spawn(conn);
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let mut send = send.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..EACH {
                    // `ready` passes while the connection has room for the requests queued
                    // before this one: the tasks do not wait for each other's to be sent.
                    send.ready().await.unwrap();
                    let request = Request::get("http://example.org/").body(()).unwrap();
                    let (response, _) = send.send_request(request, true).unwrap();
                    let mut response = response.await.unwrap();
                    assert_eq!(response.status(), 200);
                    let data = response.body_mut().data().await.unwrap().unwrap();
                    assert_eq!(&data[..], b"hello");
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let rounds = rounds.load(Ordering::Relaxed);
        let requests = TASKS * EACH;
        // One round per request before gathering; a few per batch of 32 with it.
        assert!(
            rounds <= requests / 4,
            "{rounds} write rounds for {requests} requests"
        );
    });
}

#[test]
fn server_handles_responses_from_many_tasks_leave_in_few_writes() {
    one_worker().block_on(async {
        let (a, b) = tokio::io::duplex(1 << 20);
        let (io, rounds) = CountRounds::new(b);
        let server = tokio::spawn(async move {
            let mut acceptor = server::acceptor(io);
            while let Some(accepted) = acceptor.accept().await {
                let (_, mut responder) = accepted.unwrap();
                tokio::spawn(async move {
                    let mut send = responder.send_response(Response::new(()), false)?;
                    send.write(Bytes::from_static(b"hello")).await?;
                    send.finish()?.await
                });
            }
        });
        let (client, conn) = h2::client::handshake(a).await.unwrap();
        let driver = tokio::spawn(conn);
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..EACH {
                    let mut ready = client.clone().ready().await.unwrap();
                    let request = Request::get("http://example.org/").body(()).unwrap();
                    let (response, _) = ready.send_request(request, true).unwrap();
                    let mut body = response.await.unwrap().into_body();
                    let data = body.data().await.unwrap().unwrap();
                    assert_eq!(&data[..], b"hello");
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        drop(client);
        driver.await.unwrap().unwrap();
        server.await.unwrap();
        let rounds = rounds.load(Ordering::Relaxed);
        let responses = TASKS * EACH;
        assert!(
            rounds <= responses / 4,
            "{rounds} write rounds for {responses} responses"
        );
    });
}
