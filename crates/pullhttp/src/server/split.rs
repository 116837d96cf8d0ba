//! The stream-split shape, as thin sugar over the [`Acceptor`]: an [`HttpProtocol`] yields
//! [`HttpStream`]s (HTTP/1.1: one for the whole connection, yielding its requests in order;
//! HTTP/2: one per request stream), each split into a [`RequestInput`] that yields
//! `(RequestKey, Request)` and a [`ResponseOutput`] that answers by key.
//!
//! The protocol object is the driver: requests reach a stream's input only while it is
//! polled (`next`, or `drive_while` around an inline handler). Each stream has a small queue
//! under its own lock (held to push or pop, never across a wake), filled by the driver and
//! drained by the input; HTTP/1.1 reads on demand, so it holds at most the pipelining depth.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use http::{Request, Response, Version};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{Accepted, Acceptor, Builder, RecvBody, Responder, Tunnel};
use crate::error::{Error, Kind};
use crate::shutdown::ShutdownHandle;

/// Stream identities, unique in the process, so a key from another stream is recognised.
static NEXT_STREAM: AtomicU64 = AtomicU64::new(1);

/// Identifies a request within its [`HttpStream`]; answer it with that stream's
/// [`ResponseOutput`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestKey {
    stream: u64,
    key: crate::RequestKey,
    upgradable: bool,
}

impl RequestKey {
    /// The request asks for an upgrade (HTTP/1.1 `Upgrade`, CONNECT in either version):
    /// answer it with [`ResponseOutput::upgrade`] to get the tunnel.
    pub fn is_upgradable(&self) -> bool {
        self.upgradable
    }

    /// The connection-level key (the HTTP/2 stream id or the HTTP/1.1 sequence number).
    pub fn connection_key(&self) -> crate::RequestKey {
        self.key
    }
}

#[derive(Debug, Default)]
struct QueueState {
    items: VecDeque<Accepted>,
    closed: bool,
    error: Option<Error>,
    waker: Option<Waker>,
}

/// The requests of one stream, from the driver to the input.
#[derive(Debug, Default)]
struct Queue {
    state: Mutex<QueueState>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, accepted: Accepted) {
        let waker = {
            let mut state = self.lock();
            state.items.push_back(accepted);
            state.waker.take()
        };
        waker.into_iter().for_each(Waker::wake);
    }

    fn close(&self, error: Option<Error>) {
        let waker = {
            let mut state = self.lock();
            state.closed = true;
            if state.error.is_none() {
                state.error = error;
            }
            state.waker.take()
        };
        waker.into_iter().for_each(Waker::wake);
    }
}

/// A connection whose version was detected, yielding [`HttpStream`]s.
#[derive(Debug)]
pub struct HttpProtocol<IO> {
    acceptor: Acceptor<IO>,
    version: Version,
    /// HTTP/2 streams not yet handed out.
    ready: VecDeque<HttpStream>,
    /// HTTP/1.1: the connection's one stream's queue, and whether it was handed out.
    h1: Option<(Arc<Queue>, bool)>,
    ended: bool,
    error: Option<Error>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin + Send + 'static> HttpProtocol<IO> {
    /// Wraps an accepted connection with the default options and detects its version
    /// (HTTP/2 prior knowledge, HTTP/1.1, or HTTP/1.1 upgraded to h2c by its first request).
    pub async fn new(io: IO) -> Result<Self, Error> {
        Self::with_builder(&Builder::new(), io).await
    }

    /// Like [`new`](Self::new), with options.
    pub async fn with_builder(builder: &Builder, io: IO) -> Result<Self, Error> {
        let mut protocol = HttpProtocol {
            acceptor: builder.acceptor(io),
            version: Version::HTTP_11,
            ready: VecDeque::new(),
            h1: None,
            ended: false,
            error: None,
        };
        // HTTP/2 is known from its preface; HTTP/1.1 from its first request (which could
        // still switch to h2c).
        poll_fn(|cx| {
            while !protocol.ended
                && protocol.acceptor.version() != Some(Version::HTTP_2)
                && protocol.h1.is_none()
            {
                if protocol.poll_route(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            Poll::Ready(())
        })
        .await;
        if protocol.acceptor.version() == Some(Version::HTTP_2) {
            protocol.version = Version::HTTP_2;
        }
        match protocol.error.take() {
            Some(e) if protocol.h1.is_none() && protocol.ready.is_empty() => Err(e),
            error => {
                protocol.error = error;
                Ok(protocol)
            }
        }
    }

    /// The detected version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The next stream, driving the connection meanwhile. `None`: the connection is over.
    pub async fn next(&mut self) -> Option<Result<HttpStream, Error>> {
        poll_fn(|cx| {
            loop {
                if let Some(stream) = self.ready.pop_front() {
                    return Poll::Ready(Some(Ok(stream)));
                }
                if let Some((queue, given @ false)) = &mut self.h1 {
                    *given = true;
                    return Poll::Ready(Some(Ok(HttpStream::new(Version::HTTP_11, queue.clone()))));
                }
                if self.ended {
                    return Poll::Ready(self.error.take().map(Err));
                }
                if self.poll_route(cx).is_pending() {
                    return Poll::Pending;
                }
            }
        })
        .await
    }

    /// Runs `fut` (for example a stream's handler, inline) while driving the connection.
    pub async fn drive_while<F: Future>(&mut self, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            loop {
                if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                    return Poll::Ready(out);
                }
                if self.ended || self.poll_route(cx).is_pending() {
                    return Poll::Pending;
                }
            }
        })
        .await
    }

    /// Starts a graceful shutdown of the connection (see [`Acceptor::graceful_shutdown`]).
    pub fn graceful_shutdown(&mut self) {
        self.acceptor.graceful_shutdown();
    }

    /// A handle to shut the connection down from any task.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.acceptor.shutdown_handle()
    }

    /// One driver step: routes an accepted request to its stream. `Ready` after progress
    /// (or the end).
    fn poll_route(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.acceptor.poll_accept(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(accepted))) => {
                if accepted.0.version() == Version::HTTP_2 {
                    // An h2c upgrade ends the HTTP/1.1 stream.
                    if let Some((queue, _)) = &self.h1 {
                        queue.close(None);
                    }
                    self.version = Version::HTTP_2;
                    let queue = Arc::new(Queue::default());
                    queue.push(accepted);
                    queue.close(None);
                    self.ready
                        .push_back(HttpStream::new(Version::HTTP_2, queue));
                } else {
                    let (queue, _) = self
                        .h1
                        .get_or_insert_with(|| (Arc::new(Queue::default()), false));
                    queue.push(accepted);
                }
                Poll::Ready(())
            }
            Poll::Ready(end) => {
                self.ended = true;
                let error = end.and_then(Result::err);
                match &self.h1 {
                    // The stream's reader sees the error; `next` just ends.
                    Some((queue, true)) => queue.close(error),
                    Some((queue, false)) => {
                        queue.close(None);
                        self.error = error;
                    }
                    None => self.error = error,
                }
                Poll::Ready(())
            }
        }
    }
}

/// A stream of requests: the whole connection (HTTP/1.1) or one request stream (HTTP/2).
#[derive(Debug)]
pub struct HttpStream {
    id: u64,
    version: Version,
    queue: Arc<Queue>,
}

impl HttpStream {
    fn new(version: Version, queue: Arc<Queue>) -> Self {
        HttpStream {
            id: NEXT_STREAM.fetch_add(1, Ordering::Relaxed),
            version,
            queue,
        }
    }

    /// The stream's version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Splits the stream into its request and response halves.
    pub fn split(self) -> (RequestInput, ResponseOutput) {
        let waiting = Arc::new(Mutex::new(VecDeque::new()));
        (
            RequestInput {
                id: self.id,
                queue: self.queue,
                waiting: waiting.clone(),
            },
            ResponseOutput {
                id: self.id,
                version: self.version,
                waiting,
            },
        )
    }
}

/// Requests waiting for their response, oldest first.
type Waiting = Arc<Mutex<VecDeque<(crate::RequestKey, Responder)>>>;

fn lock_waiting(waiting: &Waiting) -> MutexGuard<'_, VecDeque<(crate::RequestKey, Responder)>> {
    waiting
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The request half of an [`HttpStream`].
#[derive(Debug)]
pub struct RequestInput {
    id: u64,
    queue: Arc<Queue>,
    waiting: Waiting,
}

impl RequestInput {
    /// The next request of the stream, in arrival order; `None` when the stream (HTTP/2)
    /// or the connection (HTTP/1.1) has no more. Requests arrive while the
    /// [`HttpProtocol`] is driven.
    pub async fn next(&mut self) -> Option<Result<(RequestKey, Request<RecvBody>), Error>> {
        let (request, responder) = poll_fn(|cx| {
            let mut state = self.queue.lock();
            if let Some(item) = state.items.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if state.closed {
                return Poll::Ready(state.error.take().map(Err));
            }
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await?
        .ok()?;
        let key = RequestKey {
            stream: self.id,
            key: responder.key(),
            upgradable: responder.can_upgrade(),
        };
        lock_waiting(&self.waiting).push_back((key.key, responder));
        Some(Ok((key, request)))
    }
}

/// The response half of an [`HttpStream`].
#[derive(Debug)]
pub struct ResponseOutput {
    id: u64,
    version: Version,
    waiting: Waiting,
}

impl ResponseOutput {
    /// Finds the responder of `key`: it must be this stream's, not yet answered, and for
    /// HTTP/1.1 the oldest unanswered request.
    fn take(&self, key: RequestKey) -> Result<Responder, Error> {
        if key.stream != self.id {
            return Err(Error::with(
                Kind::Misuse,
                "the key belongs to another stream",
            ));
        }
        let mut waiting = lock_waiting(&self.waiting);
        let Some(at) = waiting.iter().position(|(k, _)| *k == key.key) else {
            return Err(Error::with(
                Kind::Misuse,
                "no request with this key waits for a response (already answered?)",
            ));
        };
        if at != 0 && self.version != Version::HTTP_2 {
            return Err(Error::with(
                Kind::Misuse,
                format!(
                    "HTTP/1.1 responses go out in request order: answer {:?} first",
                    waiting[0].0
                ),
            ));
        }
        waiting
            .remove(at)
            .map(|(_, responder)| responder)
            .ok_or_else(|| Error::new(Kind::Misuse))
    }

    /// Sends the response to `key` (head, body, trailers) and resolves once it has been
    /// written and flushed.
    pub async fn send<B>(&mut self, (key, response): (RequestKey, Response<B>)) -> Result<(), Error>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut responder = self.take(key)?;
        responder.send_response_with(response).await
    }

    /// Answers an upgradable request with `response` (101, or 2xx to CONNECT) and returns
    /// the tunnel, consuming both halves of the stream (HTTP/1.1: the connection serves no
    /// more requests).
    pub async fn upgrade(
        self,
        input: RequestInput,
        key: RequestKey,
        response: Response<()>,
    ) -> Result<Tunnel, Error> {
        if input.id != self.id {
            return Err(Error::with(
                Kind::Misuse,
                "the input belongs to another stream",
            ));
        }
        let responder = self.take(key)?;
        drop(input);
        responder.upgrade(response).await
    }
}
