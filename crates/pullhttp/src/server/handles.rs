//! The handle API (DESIGN.md §2, layer 2), in the shape of `h2::server`: an [`Acceptor`]
//! drives the connection and yields `(Request<RecvBody>, Responder)`; the handles can move
//! to other tasks and talk to the connection only through the [`Mailbox`](super::mailbox).
//!
//! Built only on the pull API's public methods: the acceptor applies handle ops with
//! `send_response`/`send_data`/..., and pumps `next_event`, routing each event to its
//! stream's slot. Bodies are credited back to the client as the `RecvBody` consumer takes
//! them (the pull connection runs with `manual_release`).

use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body::Frame;
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite};

use super::mailbox::{Mailbox, Op, SEND_HIGH_WATER, Slot};
use super::{Connection, Event, Stats};
use crate::error::{Error, Kind};

/// A request with its responder, as the acceptor yields them.
pub type Accepted = (Request<RecvBody>, Responder);

/// Response output waiting for room in the connection.
#[derive(Debug)]
enum Out {
    Data(Bytes, bool),
    Trailers(HeaderMap),
}

/// Drives a server connection and hands out requests with their handles.
pub struct Acceptor<IO> {
    conn: Connection<IO>,
    mailbox: Arc<Mailbox>,
    outgoing: HashMap<RequestKey, VecDeque<Out>>,
    accepted: VecDeque<Accepted>,
    ended: bool,
}

impl<IO> std::fmt::Debug for Acceptor<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl<IO> Drop for Acceptor<IO> {
    fn drop(&mut self) {
        self.mailbox.close();
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Acceptor<IO> {
    /// Wraps a pull connection (made with [`Builder::manual_release`](super::Builder::manual_release)
    /// set, as [`Builder::acceptor`](super::Builder::acceptor) does).
    pub(crate) fn new(conn: Connection<IO>) -> Self {
        Acceptor {
            conn,
            mailbox: Arc::new(Mailbox::default()),
            outgoing: HashMap::new(),
            accepted: VecDeque::new(),
            ended: false,
        }
    }

    /// The next request with its responder, driving the connection meanwhile. `None`: the
    /// connection is over.
    pub async fn accept(&mut self) -> Option<Result<Accepted, Error>> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next request.
    pub fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Accepted, Error>>> {
        loop {
            if let Some(next) = self.accepted.pop_front() {
                return Poll::Ready(Some(Ok(next)));
            }
            match self.poll_drive(cx) {
                Poll::Ready(Ok(true)) => return Poll::Ready(None),
                Poll::Ready(Ok(false)) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Drives the connection without accepting (like h2's `poll_closed`): requests that
    /// arrive meanwhile wait for the next `accept`. Resolves when the connection is over.
    pub async fn closed(&mut self) -> Result<(), Error> {
        poll_fn(|cx| {
            loop {
                match self.poll_drive(cx) {
                    Poll::Ready(Ok(true)) => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(false)) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await
    }

    /// Runs `fut` while driving the connection, so handling a stream inline cannot stall
    /// the connection it depends on. Returns `fut`'s output.
    pub async fn drive_while<F: Future>(&mut self, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            // Drive until the connection has nothing to do (or ends; then only `fut` is left).
            while !self.ended {
                match self.poll_drive(cx) {
                    Poll::Ready(_) => {
                        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                            return Poll::Ready(out);
                        }
                    }
                    Poll::Pending => break,
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Starts a graceful shutdown (HTTP/2: two-phase GOAWAY; HTTP/1.1: `Connection: close`).
    pub fn graceful_shutdown(&mut self) {
        self.conn.graceful_shutdown();
    }

    /// Sends a PING with an opaque payload (HTTP/2).
    pub fn ping(&mut self, payload: [u8; 8]) {
        self.conn.ping(payload);
    }

    /// Connection counters.
    pub fn stats(&self) -> Stats {
        self.conn.stats()
    }

    /// Streams whose handles or state are still held (for tests of memory bounds).
    pub fn live_streams(&self) -> usize {
        self.mailbox.slots()
    }

    /// One step: applies handle ops, feeds queued output, pumps one event. `Ok(true)` once
    /// the connection is over; `Ok(false)` after progress; `Pending` when idle.
    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, Error>> {
        if self.ended {
            return Poll::Ready(Ok(true));
        }
        let ops = self.mailbox.take_ops(cx.waker());
        let applied = !ops.is_empty();
        for op in ops {
            self.apply(op);
        }
        self.feed_outgoing();
        let event = {
            let fut = self.conn.next_event();
            let mut fut = pin!(fut);
            fut.as_mut().poll(cx)
        };
        match event {
            Poll::Ready(Ok(Some(event))) => {
                self.route(event);
                Poll::Ready(Ok(false))
            }
            Poll::Ready(Ok(None)) => {
                self.end(ErrorCode::CANCEL);
                Poll::Ready(Ok(true))
            }
            Poll::Ready(Err(e)) => {
                self.end(ErrorCode::INTERNAL_ERROR);
                Poll::Ready(Err(e))
            }
            Poll::Pending if applied => Poll::Ready(Ok(false)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The connection is over: every open stream is reset for its handles.
    fn end(&mut self, code: ErrorCode) {
        self.ended = true;
        let mut wakers = Vec::new();
        {
            let mut state = self.mailbox.lock();
            for slot in state.slots.values_mut() {
                if !(slot.sent && slot.end) {
                    slot.reset.get_or_insert(code);
                }
                slot.take_wakers(&mut wakers);
            }
        }
        wakers.into_iter().for_each(|w| w.wake());
    }

    fn apply(&mut self, op: Op) {
        let (key, result) = match op {
            Op::Response {
                key,
                head,
                end_stream,
            } => (key, self.conn.send_response(key, &head, end_stream)),
            Op::Informational { key, head } => (key, self.conn.send_informational(key, &head)),
            Op::Data {
                key,
                data,
                end_stream,
            } => {
                self.outgoing
                    .entry(key)
                    .or_default()
                    .push_back(Out::Data(data, end_stream));
                return;
            }
            Op::Trailers { key, trailers } => {
                self.outgoing
                    .entry(key)
                    .or_default()
                    .push_back(Out::Trailers(trailers));
                return;
            }
            Op::Reset { key, code } => {
                self.outgoing.remove(&key);
                (key, self.conn.reset_with(key, code))
            }
            Op::Release { key, n } => {
                self.conn.release_capacity(key, n);
                return;
            }
            Op::Continue { key } => (key, self.conn.send_continue(key)),
        };
        if result.is_err() {
            // The stream is gone (reset by the peer meanwhile): tell its handles.
            self.with_slot(key, |slot| {
                slot.reset.get_or_insert(ErrorCode::CANCEL);
            });
        }
    }

    /// Hands queued response output to the connection while it accepts it.
    fn feed_outgoing(&mut self) {
        let keys: Vec<RequestKey> = self.outgoing.keys().copied().collect();
        for key in keys {
            let mut taken = 0;
            let mut failed = false;
            if let Some(queue) = self.outgoing.get_mut(&key) {
                while let Some(item) = queue.pop_front() {
                    match item {
                        Out::Data(data, end) => match self.conn.send_data(key, data.clone(), end) {
                            Ok(n) if n == data.len() => taken += n,
                            Ok(n) => {
                                taken += n;
                                queue.push_front(Out::Data(data.slice(n..), end));
                                break;
                            }
                            Err(_) => {
                                failed = true;
                                break;
                            }
                        },
                        Out::Trailers(t) => {
                            if self.conn.send_trailers(key, t).is_err() {
                                failed = true;
                                break;
                            }
                        }
                    }
                }
                if queue.is_empty() || failed {
                    self.outgoing.remove(&key);
                }
            }
            if taken > 0 || failed {
                self.with_slot(key, |slot| {
                    slot.queued_out = slot.queued_out.saturating_sub(taken);
                    if failed {
                        slot.reset.get_or_insert(ErrorCode::CANCEL);
                    }
                });
            }
        }
    }

    /// Runs `f` on a stream's slot under the lock, then wakes its handles.
    fn with_slot(&self, key: RequestKey, f: impl FnOnce(&mut Slot)) {
        let mut wakers = Vec::new();
        {
            let mut state = self.mailbox.lock();
            if let Some(slot) = state.slots.get_mut(&key) {
                f(slot);
                slot.take_wakers(&mut wakers);
            }
        }
        wakers.into_iter().for_each(|w| w.wake());
    }

    fn route(&mut self, event: Event) {
        match event {
            Event::Request {
                key,
                head,
                end_stream,
                expect_continue,
                ..
            } => {
                self.mailbox.lock().slots.insert(
                    key,
                    Slot {
                        end: end_stream,
                        expect_continue,
                        handles: 2,
                        ..Slot::default()
                    },
                );
                let body = RecvBody {
                    key,
                    mailbox: self.mailbox.clone(),
                    auto_release: true,
                };
                let responder = Responder {
                    key,
                    mailbox: self.mailbox.clone(),
                };
                self.accepted
                    .push_back((Request::from_parts(head, body), responder));
            }
            Event::Data {
                key,
                data,
                end_stream,
            } => self.with_slot(key, |slot| {
                if !data.is_empty() {
                    slot.data.push_back(data);
                }
                slot.end |= end_stream;
            }),
            Event::Trailers { key, trailers } => self.with_slot(key, |slot| {
                slot.trailers = Some(trailers);
                slot.end = true;
            }),
            Event::Writable { .. } => self.feed_outgoing(),
            Event::Sent { key } => {
                self.with_slot(key, |slot| slot.sent = true);
                self.mailbox.collect(key);
            }
            Event::Reset { key, code } => {
                self.outgoing.remove(&key);
                self.with_slot(key, |slot| {
                    slot.reset = Some(code);
                });
                self.mailbox.collect(key);
            }
            Event::Upgraded { .. } => {}
        }
    }
}

/// Waits on a slot: `check` answers under the lock, or the waker is stored by `park`.
fn poll_slot<T>(
    mailbox: &Mailbox,
    key: RequestKey,
    cx: &mut Context<'_>,
    what: &str,
    check: impl FnOnce(&mut Slot) -> Option<T>,
    park: impl FnOnce(&mut Slot, std::task::Waker),
) -> Poll<Result<T, Error>> {
    let mut state = mailbox.lock();
    let gone = state.gone;
    let Some(slot) = state.slots.get_mut(&key) else {
        return Poll::Ready(Err(Error::new(Kind::Closed)));
    };
    if let Some(out) = check(slot) {
        return Poll::Ready(Ok(out));
    }
    if gone {
        return Poll::Ready(Err(Error::new(Kind::DriverGone)));
    }
    park(slot, cx.waker().clone());
    drop(state);
    mailbox.check_stall(what);
    Poll::Pending
}

/// Answers one request: send the response head, informational responses, or a reset.
#[derive(Debug)]
pub struct Responder {
    key: RequestKey,
    mailbox: Arc<Mailbox>,
}

impl Responder {
    /// The request's key (the HTTP/2 stream id, or the HTTP/1 sequence number).
    pub fn key(&self) -> RequestKey {
        self.key
    }

    /// Sends the response head; the body follows on the returned [`SendBody`] unless
    /// `end_stream`.
    pub fn send_response(
        &mut self,
        response: Response<()>,
        end_stream: bool,
    ) -> Result<SendBody, Error> {
        let head = response.into_parts().0;
        self.mailbox.push(Op::Response {
            key: self.key,
            head,
            end_stream,
        })?;
        self.mailbox.add_handle(self.key);
        Ok(SendBody {
            key: self.key,
            mailbox: self.mailbox.clone(),
        })
    }

    /// Sends an informational (1xx) response.
    pub fn send_informational(&mut self, response: Response<()>) -> Result<(), Error> {
        let head = response.into_parts().0;
        self.mailbox.push(Op::Informational {
            key: self.key,
            head,
        })
    }

    /// Resets the stream (HTTP/2) or closes the connection (HTTP/1).
    pub fn send_reset(&mut self, code: ErrorCode) {
        let _ = self.mailbox.push(Op::Reset {
            key: self.key,
            code,
        });
    }

    /// Resolves when the peer resets the stream, with its code.
    pub fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Result<ErrorCode, Error>> {
        poll_slot(
            &self.mailbox,
            self.key,
            cx,
            "Responder",
            |s| s.reset,
            |s, w| s.sent_waker = Some(w),
        )
    }

    /// The peer reset the stream: its code.
    pub async fn cancelled(&mut self) -> Result<ErrorCode, Error> {
        poll_fn(|cx| self.poll_reset(cx)).await
    }
}

/// The response body being sent.
#[derive(Debug)]
pub struct SendBody {
    key: RequestKey,
    mailbox: Arc<Mailbox>,
}

impl SendBody {
    /// Octets that can be queued before [`write`](Self::write) waits.
    pub fn capacity(&self) -> usize {
        let state = self.mailbox.lock();
        state
            .slots
            .get(&self.key)
            .map_or(0, |s| SEND_HIGH_WATER.saturating_sub(s.queued_out))
    }

    /// Waits for room, returning it.
    pub fn poll_capacity(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize, Error>> {
        poll_slot(
            &self.mailbox,
            self.key,
            cx,
            "SendBody",
            |s| {
                if let Some(code) = s.reset {
                    return Some(Err(code));
                }
                let room = SEND_HIGH_WATER.saturating_sub(s.queued_out);
                (room > 0).then_some(Ok(room))
            },
            |s, w| s.send_waker = Some(w),
        )
        .map(|r| r.and_then(|r| r.map_err(reset_error)))
    }

    /// Waits until there is room to queue data.
    pub async fn capacity_ready(&mut self) -> Result<usize, Error> {
        poll_fn(|cx| self.poll_capacity(cx)).await
    }

    /// Queues data without waiting (respect [`capacity`](Self::capacity) to stay bounded).
    pub fn send_data(&mut self, data: Bytes, end_stream: bool) -> Result<(), Error> {
        {
            let mut state = self.mailbox.lock();
            if let Some(slot) = state.slots.get_mut(&self.key) {
                if let Some(code) = slot.reset {
                    return Err(reset_error(code));
                }
                slot.queued_out += data.len();
            }
        }
        self.mailbox.push(Op::Data {
            key: self.key,
            data,
            end_stream,
        })
    }

    /// Queues data, waiting first for room in the send buffer.
    pub async fn write(&mut self, data: Bytes) -> Result<(), Error> {
        self.capacity_ready().await?;
        self.send_data(data, false)
    }

    /// Ends the body with trailers; the returned future resolves once it is sent.
    pub fn send_trailers(&mut self, trailers: HeaderMap) -> Result<Finished, Error> {
        self.mailbox.push(Op::Trailers {
            key: self.key,
            trailers,
        })?;
        self.mailbox.add_handle(self.key);
        Ok(Finished {
            key: self.key,
            mailbox: self.mailbox.clone(),
        })
    }

    /// Ends the body; the returned future resolves once the response's last octet is
    /// written and flushed.
    pub fn finish(&mut self) -> Result<Finished, Error> {
        self.send_data(Bytes::new(), true)?;
        self.mailbox.add_handle(self.key);
        Ok(Finished {
            key: self.key,
            mailbox: self.mailbox.clone(),
        })
    }

    /// Resets the stream.
    pub fn send_reset(&mut self, code: ErrorCode) {
        let _ = self.mailbox.push(Op::Reset {
            key: self.key,
            code,
        });
    }
}

fn reset_error(code: ErrorCode) -> Error {
    Error::with(Kind::StreamReset, format!("stream reset with {code}"))
}

/// Resolves when the response has been sent: its last octet written and flushed.
#[derive(Debug)]
#[must_use = "a Finished does nothing unless awaited"]
pub struct Finished {
    key: RequestKey,
    mailbox: Arc<Mailbox>,
}

impl Future for Finished {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        poll_slot(
            &self.mailbox,
            self.key,
            cx,
            "Finished",
            |s| {
                if s.sent {
                    Some(Ok(()))
                } else {
                    s.reset.map(|code| Err(reset_error(code)))
                }
            },
            |s, w| s.sent_waker = Some(w),
        )
        .map(|r| r.and_then(|r| r))
    }
}

/// A request body, as an [`http_body::Body`]. Data is credited back to the client as it is
/// taken (or by [`FlowControl::release_capacity`] after [`RecvBody::flow_control`]).
#[derive(Debug)]
pub struct RecvBody {
    key: RequestKey,
    mailbox: Arc<Mailbox>,
    auto_release: bool,
}

impl RecvBody {
    /// The next chunk of data; `None` at the end of the data.
    pub async fn data(&mut self) -> Option<Result<Bytes, Error>> {
        match poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut *self), cx)).await? {
            Ok(frame) => match frame.into_data() {
                Ok(data) => Some(Ok(data)),
                // Trailers: put back for `trailers()`.
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        if let Some(slot) = self.mailbox.lock().slots.get_mut(&self.key) {
                            slot.trailers = Some(t);
                        }
                    }
                    None
                }
            },
            Err(e) => Some(Err(e)),
        }
    }

    /// The trailers, once the data is consumed.
    pub async fn trailers(&mut self) -> Result<Option<HeaderMap>, Error> {
        while let Some(d) = self.data().await {
            d?;
        }
        Ok(self
            .mailbox
            .lock()
            .slots
            .get_mut(&self.key)
            .and_then(|s| s.trailers.take()))
    }

    /// Switches to manual flow control: data is credited back only through the returned
    /// handle.
    pub fn flow_control(&mut self) -> FlowControl {
        self.auto_release = false;
        FlowControl {
            key: self.key,
            mailbox: self.mailbox.clone(),
        }
    }
}

impl http_body::Body for RecvBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        let mut ask_continue = false;
        let polled = poll_slot(
            &this.mailbox,
            this.key,
            cx,
            "RecvBody",
            |s| {
                if let Some(data) = s.data.pop_front() {
                    return Some(Ok(Some(Frame::data(data))));
                }
                if let Some(t) = s.trailers.take() {
                    return Some(Ok(Some(Frame::trailers(t))));
                }
                if s.end {
                    return Some(Ok(None));
                }
                if let Some(code) = s.reset {
                    return Some(Err(reset_error(code)));
                }
                ask_continue = std::mem::take(&mut s.expect_continue);
                None
            },
            |s, w| s.recv_waker = Some(w),
        );
        if ask_continue {
            // The client waits for 100 Continue: the body is being read now.
            let _ = this.mailbox.push(Op::Continue { key: this.key });
        }
        match polled {
            Poll::Ready(Ok(Ok(Some(frame)))) => {
                if let (true, Some(data)) = (this.auto_release, frame.data_ref()) {
                    let _ = this.mailbox.push(Op::Release {
                        key: this.key,
                        n: data.len(),
                    });
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Ok(Ok(None))) => Poll::Ready(None),
            // The slot is gone: the exchange finished and everything was taken.
            Poll::Ready(Err(e)) if e.is_closed() => Poll::Ready(None),
            Poll::Ready(Err(e)) | Poll::Ready(Ok(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        let state = self.mailbox.lock();
        state
            .slots
            .get(&self.key)
            .is_none_or(|s| s.end && s.data.is_empty() && s.trailers.is_none())
    }
}

/// Manual flow control of one request body.
#[derive(Debug)]
pub struct FlowControl {
    key: RequestKey,
    mailbox: Arc<Mailbox>,
}

impl FlowControl {
    /// Credits `n` consumed octets back to the client (HTTP/2).
    pub fn release_capacity(&mut self, n: usize) -> Result<(), Error> {
        self.mailbox.push(Op::Release { key: self.key, n })
    }
}

macro_rules! drop_handle {
    ($($t:ty),*) => {$(
        impl Drop for $t {
            fn drop(&mut self) {
                self.mailbox.drop_handle(self.key);
            }
        }
    )*};
}

drop_handle!(Responder, SendBody, Finished, RecvBody);
