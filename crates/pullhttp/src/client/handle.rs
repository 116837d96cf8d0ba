//! The client's handle API (DESIGN.md §2, layer 2), in the shape of `h2::client` and
//! hyper's `client::conn`: [`handshake`](super::handshake) gives a [`SendRequest`] (cloneable,
//! usable from any task) and a [`Connection`], the `#[must_use]` future that owns the
//! transport and drives it. Nothing is spawned: spawn the `Connection`, select on it, or run
//! work inside [`Connection::drive_while`].
//!
//! Built only on the pull API's public methods ([`super::Connection`]): the driver applies
//! handle ops with `send_request`/`send_data`/..., pumps `next_event` and routes each event
//! to its request's slot in the shared [`Mailbox`]. Requests are numbered by their handle
//! (tickets) so `send_request` answers at once; the driver sends them in order as the
//! connection takes them (HTTP/1.1: one at a time, or the pipelining depth; HTTP/2: within
//! the server's stream limit) and maps tickets to the connection's keys.
//!
//! Naming: the pull type is `client::Connection` (layer 1), so the handle driver is
//! `client::handle::Connection`; [`client::handshake`](super::handshake) returns it.

use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{HeaderMap, Request, Response, request};
use http_body::Body;
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2::{self, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{Event, Parts};
use crate::KeyMap;
use crate::error::{Error, Kind};
use crate::mailbox::{BoxError, DriverBody, MAX_INFORMATIONAL, Mailbox, Op, Slot, SlotKey};
use crate::server::{PingPong, RecvBody, SendBody, Tunnel};
use crate::shutdown::ShutdownHandle;

/// Request output waiting for room in the connection.
#[derive(Debug)]
enum Out {
    Data(Bytes, bool),
    Trailers(HeaderMap),
}

/// A request the connection could not take yet.
#[derive(Debug)]
struct Waiting {
    ticket: u64,
    head: request::Parts,
    end_stream: bool,
    body: Option<DriverBody>,
}

/// One sent request, as the driver tracks it.
#[derive(Debug)]
struct Exchange {
    ticket: u64,
    sent: bool,
    received: bool,
}

/// Sends requests on a client connection, from any task. Cloneable; HTTP/2 multiplexes the
/// clones' requests, HTTP/1.1 sends them one after another (queued in order).
///
/// When every `SendRequest` is dropped and no request is in flight, the connection closes
/// (HTTP/2 with GOAWAY).
#[derive(Debug)]
pub struct SendRequest {
    mailbox: Arc<Mailbox>,
}

impl Clone for SendRequest {
    fn clone(&self) -> Self {
        self.mailbox.lock().client.senders += 1;
        SendRequest {
            mailbox: self.mailbox.clone(),
        }
    }
}

impl Drop for SendRequest {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.mailbox.lock();
            state.client.senders = state.client.senders.saturating_sub(1);
            // The driver closes an idle connection nobody can use any more.
            (state.client.senders == 0)
                .then(|| state.take_driver_waker())
                .flatten()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl SendRequest {
    /// Waits until the connection takes another request at once: HTTP/1.1, nothing in
    /// flight (or fewer than the pipelining depth); HTTP/2, under the server's
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` — counting the requests other handles have queued
    /// and the driver has not sent yet, so many tasks can each be ready while the driver
    /// gathers their requests into one write. Requests sent without waiting are queued in
    /// order. Errors with `Closed` once no request can be sent any more (GOAWAY, shutdown, end).
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut state = self.mailbox.lock();
        let c = &mut state.client;
        if c.closed {
            return Poll::Ready(Err(closed_error()));
        }
        if c.waiting < c.room {
            return Poll::Ready(Ok(()));
        }
        if !c.ready_wakers.iter().any(|w| w.will_wake(cx.waker())) {
            c.ready_wakers.push(cx.waker().clone());
        }
        drop(state);
        self.mailbox.check_stall("SendRequest", cx);
        Poll::Pending
    }

    /// Waits until the connection takes another request (see [`poll_ready`](Self::poll_ready)).
    pub async fn ready(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_ready(cx)).await
    }

    /// Whether no request can be sent any more.
    pub fn is_closed(&self) -> bool {
        self.mailbox.lock().client.closed
    }

    /// HTTP/2: the server's SETTINGS as last received (`None` before they arrive, and on
    /// HTTP/1.1).
    pub fn peer_settings(&self) -> Option<h2::PeerSettings> {
        self.mailbox.lock().client.peer_settings.clone()
    }

    /// HTTP/2: waits for the server's first SETTINGS (to know, for example, whether it
    /// accepts extended CONNECT) and returns them. `Misuse` on HTTP/1.1; `Closed` if the
    /// connection ends first.
    pub async fn peer_settings_ready(&mut self) -> Result<h2::PeerSettings, Error> {
        poll_fn(|cx| {
            let mut state = self.mailbox.lock();
            if let Some(s) = &state.client.peer_settings {
                return Poll::Ready(Ok(s.clone()));
            }
            if state.client.http1 {
                return Poll::Ready(Err(Error::with(Kind::Misuse, "HTTP/1.1 has no SETTINGS")));
            }
            if state.client.closed || state.gone {
                return Poll::Ready(Err(closed_error()));
            }
            if !state
                .client
                .ready_wakers
                .iter()
                .any(|w| w.will_wake(cx.waker()))
            {
                state.client.ready_wakers.push(cx.waker().clone());
            }
            drop(state);
            self.mailbox.check_stall("SendRequest", cx);
            Poll::Pending
        })
        .await
    }

    /// A handle for PINGs whose answers are awaited (HTTP/2).
    pub fn ping_pong(&self) -> PingPong {
        PingPong::new(self.mailbox.clone())
    }

    /// Sends a request head; the body follows on the returned [`SendBody`] unless
    /// `end_stream`. The request target and `Host` are written exactly as given (see the
    /// [module docs](super)). Answers at once: the driver sends the request when the
    /// connection takes it. Errors with `Closed` when no request can be sent any more.
    pub fn send_request(
        &mut self,
        request: Request<()>,
        end_stream: bool,
    ) -> Result<(ResponseFuture, Option<SendBody>), Error> {
        let ticket = self.enqueue(request.into_parts().0, end_stream, None)?;
        let body = (!end_stream).then(|| SendBody::new(ticket, self.mailbox.clone()));
        Ok((ResponseFuture::new(ticket, self.mailbox.clone()), body))
    }

    /// Sends a whole request. Its body is polled by the connection's driver as the
    /// connection has room (no task is spawned); a body whose size hint is exact gets a
    /// `Content-Length` unless the request has one. A body error resets the request
    /// (HTTP/2 INTERNAL_ERROR; HTTP/1.1 closes the connection) and fails the response.
    pub fn send<B>(&mut self, request: Request<B>) -> Result<ResponseFuture, Error>
    where
        B: Body + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (mut head, body) = request.into_parts();
        let end = body.is_end_stream();
        if let (Some(n), false) = (
            body.size_hint().exact(),
            head.headers.contains_key(http::header::CONTENT_LENGTH),
        ) {
            // A body-less GET or CONNECT is better without `Content-Length: 0`.
            if n > 0 || !matches!(head.method, http::Method::GET | http::Method::HEAD) {
                head.headers
                    .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(n));
            }
        }
        let body = (!end).then(|| DriverBody(Box::pin(BytesBody(Box::pin(body)))));
        let ticket = self.enqueue(head, end, body)?;
        Ok(ResponseFuture::new(ticket, self.mailbox.clone()))
    }

    fn enqueue(
        &mut self,
        head: request::Parts,
        end_stream: bool,
        body: Option<DriverBody>,
    ) -> Result<SlotKey, Error> {
        let ticket = {
            let mut state = self.mailbox.lock();
            if state.client.closed || state.gone {
                return Err(closed_error());
            }
            let ticket = state.client.next_ticket;
            state.client.next_ticket += 1;
            state.client.waiting += 1;
            state.slots.insert(
                SlotKey::Ticket(ticket),
                Slot {
                    handles: 1,
                    ..Slot::default()
                },
            );
            ticket
        };
        self.mailbox.push(Op::Request {
            ticket,
            head,
            end_stream,
            body,
        })?;
        Ok(SlotKey::Ticket(ticket))
    }
}

fn closed_error() -> Error {
    Error::with(Kind::Closed, "the connection takes no more requests")
}

/// Adapts any body to `Bytes` data and boxed errors (boxed, so it is `Unpin`).
struct BytesBody<B>(Pin<Box<B>>);

impl<B> Body for BytesBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        self.0.as_mut().poll_frame(cx).map(|frame| {
            frame.map(|r| {
                r.map(|f| f.map_data(|mut d| d.copy_to_bytes(d.remaining())))
                    .map_err(Into::into)
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }
}

/// The response to one request, and what comes before it: informational responses and,
/// on HTTP/2 with pushes enabled, push promises.
#[derive(Debug)]
#[must_use = "a ResponseFuture does nothing unless polled"]
pub struct ResponseFuture {
    key: SlotKey,
    mailbox: Arc<Mailbox>,
}

impl ResponseFuture {
    fn new(key: SlotKey, mailbox: Arc<Mailbox>) -> Self {
        ResponseFuture { key, mailbox }
    }

    /// The connection's key once the driver sent the request (`None` before): its
    /// [`RequestKey::id`] is the HTTP/2 stream id, or the HTTP/1.1 exchange's sequence
    /// number.
    pub fn request_key(&self) -> Option<RequestKey> {
        self.mailbox
            .lock()
            .slots
            .get(&self.key)
            .and_then(|s| s.stream)
    }

    /// The next informational (1xx) response that came before the final one (100
    /// Continue, 103 Early Hints, ...), or `None` once the final response is there (the
    /// last 16 are kept).
    pub async fn informational(&mut self) -> Result<Option<Response<()>>, Error> {
        poll_fn(|cx| {
            self.mailbox.poll_slot(
                self.key,
                cx,
                "ResponseFuture",
                |s| {
                    if let Some(head) = s.informational.pop_front() {
                        return Some(Ok(Some(Response::from_parts(head, ()))));
                    }
                    if s.response.is_some() {
                        return Some(Ok(None));
                    }
                    s.reset.map(|code| Err(Error::reset(code, s.retryable)))
                },
                |s, w| s.responder_waker = Some(w),
            )
        })
        .await?
    }

    /// HTTP/2: the next push promise made on this request, as the promised request and the
    /// pushed response's future; `None` once the final response is there and no promise is
    /// left. Pushes arrive only when enabled (`Builder::http2().enable_push = true`);
    /// promises nobody takes are cancelled when their future is dropped.
    pub async fn push_promise(&mut self) -> Result<Option<(Request<()>, ResponseFuture)>, Error> {
        let next = poll_fn(|cx| {
            self.mailbox.poll_slot(
                self.key,
                cx,
                "ResponseFuture",
                |s| {
                    if let Some(next) = s.pushes.pop_front() {
                        return Some(Ok(Some(next)));
                    }
                    if s.response.is_some() {
                        return Some(Ok(None));
                    }
                    s.reset.map(|code| Err(Error::reset(code, s.retryable)))
                },
                |s, w| s.responder_waker = Some(w),
            )
        })
        .await??;
        Ok(next.map(|(head, ticket)| {
            // The promise queue's handle passes to the future.
            let key = SlotKey::Ticket(ticket);
            (
                Request::from_parts(head, ()),
                ResponseFuture::new(key, self.mailbox.clone()),
            )
        }))
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<RecvBody>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let head = self.mailbox.poll_slot(
            self.key,
            cx,
            "ResponseFuture",
            |s| {
                if let Some(head) = s.response.take() {
                    return Some(Ok(head));
                }
                if let Some(e) = s.failed.take() {
                    return Some(Err(e));
                }
                s.reset.map(|code| Err(Error::reset(code, s.retryable)))
            },
            |s, w| s.responder_waker = Some(w),
        );
        let head = match head {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) | Poll::Ready(Ok(Err(e))) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(Ok(head))) => head,
        };
        // The body takes a handle of its own; this future's goes when it is dropped.
        self.mailbox.add_handle(self.key);
        let body = RecvBody::new(self.key, self.mailbox.clone());
        Poll::Ready(Ok(Response::from_parts(head, body)))
    }
}

impl Drop for ResponseFuture {
    fn drop(&mut self) {
        self.mailbox.drop_handle(self.key);
    }
}

/// Turns an HTTP/2 CONNECT or extended CONNECT (RFC 8441) exchange into a byte stream:
/// `response` is the server's 2xx to a request sent with [`SendRequest::send_request`]
/// (`end_stream = false`), `send` that request's body handle. Reads take the response's
/// DATA, writes send DATA; both stay bounded by flow control and the send buffer, and the
/// connection's driver moves them (keep the [`Connection`] driven). `Misuse` for another
/// status, or for HTTP/1.1 (there the transport itself is handed over:
/// [`Connection::without_shutdown`]).
pub fn tunnel(response: Response<RecvBody>, send: SendBody) -> Result<Tunnel, Error> {
    if !response.status().is_success() || response.version() != http::Version::HTTP_2 {
        return Err(Error::with(
            Kind::Misuse,
            format!(
                "a tunnel needs a 2xx HTTP/2 response, got {} over {:?}",
                response.status(),
                response.version()
            ),
        ));
    }
    Ok(Tunnel::stream(response.into_body(), send))
}

/// Drives a client connection: owns the transport, sends what the handles queued, routes
/// responses to them. A future: spawn it, select on it, or use
/// [`drive_while`](Self::drive_while). Resolves when the connection is over (also when
/// every [`SendRequest`] is gone and nothing is in flight).
#[must_use = "a client Connection does nothing unless polled"]
pub struct Connection<IO> {
    conn: super::Connection<IO>,
    mailbox: Arc<Mailbox>,
    _close: CloseOnDrop,
    waiting: VecDeque<Waiting>,
    /// Sent requests by the connection's key.
    exchanges: KeyMap<Exchange>,
    /// The connection's key of each sent ticket.
    keys: HashMap<u64, RequestKey>,
    outgoing: HashMap<u64, VecDeque<Out>>,
    bodies: HashMap<u64, DriverBody>,
    /// HTTP/1.1: the transport is ready to be handed over.
    upgraded: bool,
    ended: bool,
    idle_close_started: bool,
}

impl<IO> std::fmt::Debug for Connection<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("client::handle::Connection")
            .field("conn", &self.conn)
            .field("in_flight", &self.exchanges.len())
            .field("waiting", &self.waiting.len())
            .finish_non_exhaustive()
    }
}

/// Closes the mailbox when the driver goes, so waiting handles fail instead of hanging.
#[derive(Debug)]
struct CloseOnDrop(Arc<Mailbox>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Connection<IO> {
    pub(super) fn new(conn: super::Connection<IO>) -> (SendRequest, Self) {
        let mailbox = Arc::new(Mailbox::default());
        mailbox.lock().client.senders = 1;
        let send = SendRequest {
            mailbox: mailbox.clone(),
        };
        let driver = Connection {
            conn,
            _close: CloseOnDrop(mailbox.clone()),
            mailbox,
            waiting: VecDeque::new(),
            exchanges: KeyMap::default(),
            keys: HashMap::new(),
            outgoing: HashMap::new(),
            bodies: HashMap::new(),
            upgraded: false,
            ended: false,
            idle_close_started: false,
        };
        (send, driver)
    }

    /// The protocol in use.
    pub fn version(&self) -> http::Version {
        self.conn.version()
    }

    /// HTTP/2: the server's SETTINGS as last received.
    pub fn peer_settings(&self) -> Option<&h2::PeerSettings> {
        self.conn.peer_settings()
    }

    /// A handle for PINGs whose answers are awaited (HTTP/2).
    pub fn ping_pong(&self) -> PingPong {
        PingPong::new(self.mailbox.clone())
    }

    /// A handle that shuts this connection down from any task.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.conn.shutdown_handle()
    }

    /// Starts a graceful shutdown: HTTP/2 GOAWAY (requests in flight complete); HTTP/1.1
    /// closes once the exchange in flight is done. Queued requests not yet sent fail as
    /// retryable. Keep driving the connection until it resolves.
    pub fn graceful_shutdown(&mut self) {
        self.conn.graceful_shutdown();
        self.refuse_waiting();
    }

    /// Ends the connection now (HTTP/2 GOAWAY with `code`); every open request fails.
    pub fn abrupt_shutdown(&mut self, code: ErrorCode) {
        self.conn.abrupt_shutdown(code);
        self.refuse_waiting();
    }

    /// Runs `fut` while driving the connection, so a task can send a request and await its
    /// response without spawning the connection. Returns `fut`'s output.
    pub async fn drive_while<F: Future>(&mut self, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            while !self.ended && !self.upgraded {
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

    /// Drives the connection until an HTTP/1.1 upgrade (`101`, or a 2xx to CONNECT) hands
    /// the transport over, then returns it with the octets the server sent past its
    /// response ([`Parts`]); nothing is closed. Also returns the parts when the connection
    /// ends by itself with the transport intact (every `SendRequest` dropped, HTTP/1.1
    /// idle). Errors if the connection fails first.
    pub async fn without_shutdown(mut self) -> Result<Parts<IO>, Error> {
        poll_fn(|cx| {
            while !self.upgraded {
                match self.poll_drive(cx) {
                    Poll::Ready(Ok(true)) => break,
                    Poll::Ready(Ok(false)) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            Poll::Ready(Ok(()))
        })
        .await?;
        self.into_parts().await
    }

    /// Writes what is queued, then hands over the transport and the octets read past the
    /// last response (see [`without_shutdown`](Self::without_shutdown), which first drives
    /// the connection to the upgrade).
    pub async fn into_parts(self) -> Result<Parts<IO>, Error> {
        // The handles fail from here on (the guard closes the mailbox when dropped).
        let Connection { conn, .. } = self;
        conn.into_parts().await
    }

    /// One step: applies handle ops, sends queued requests and body output, pumps one
    /// event. `Ok(true)` once the connection is over (or upgraded); `Ok(false)` after
    /// progress; `Pending` when idle.
    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, Error>> {
        if self.ended || self.upgraded {
            return Poll::Ready(Ok(true));
        }
        let ops = self.mailbox.take_ops(cx.waker());
        let mut progress = !ops.is_empty();
        for op in ops {
            self.apply(op);
        }
        progress |= self.send_waiting();
        self.poll_bodies(cx);
        self.feed_outgoing();
        self.publish();
        if progress {
            self.conn.gather_output();
        }
        let event = {
            let fut = self.conn.next_event();
            let mut fut = pin!(fut);
            fut.as_mut().poll(cx)
        };
        match event {
            Poll::Ready(Ok(Some(event))) => {
                self.route(event);
                Poll::Ready(Ok(self.upgraded))
            }
            Poll::Ready(Ok(None)) => {
                self.end(ErrorCode::CANCEL);
                Poll::Ready(Ok(true))
            }
            Poll::Ready(Err(e)) => {
                self.end(ErrorCode::INTERNAL_ERROR);
                Poll::Ready(Err(e))
            }
            // Yielding to gather output: already woken, and the ops that arrive meanwhile
            // are taken then.
            Poll::Pending if progress && !self.conn.gather_yielded() => Poll::Ready(Ok(false)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Request {
                ticket,
                head,
                end_stream,
                body,
            } => {
                self.waiting.push_back(Waiting {
                    ticket,
                    head,
                    end_stream,
                    body,
                });
                // Queued by a handle just before the connection stopped taking requests.
                if self.mailbox.lock().client.closed {
                    self.refuse_waiting();
                }
            }
            Op::Data {
                key: SlotKey::Ticket(t),
                data,
                end_stream,
            } => self
                .outgoing
                .entry(t)
                .or_default()
                .push_back(Out::Data(data, end_stream)),
            Op::Trailers {
                key: SlotKey::Ticket(t),
                trailers,
            } => self
                .outgoing
                .entry(t)
                .or_default()
                .push_back(Out::Trailers(trailers)),
            Op::Reset {
                key: SlotKey::Ticket(t),
                code,
            } => self.reset(t, code),
            Op::Release {
                key: SlotKey::Ticket(t),
                n,
            } => {
                match self.keys.get(&t) {
                    Some(&key) => self.conn.release_capacity(key, n),
                    // The exchange is over (its last octets were read after it ended): only
                    // the HTTP/1.1 read gate still counts them.
                    None => self.conn.release_buffered(n),
                }
            }
            Op::Ping { payload } => {
                if let Err(e) = self.conn.ping(payload) {
                    self.mailbox.answer_ping(payload, Err(e));
                }
            }
            // Responses, 1xx, 100-continue and pushes are the server's; the client core
            // sends the 100-continue body by itself.
            _ => {}
        }
    }

    /// The application abandons request `t`.
    fn reset(&mut self, t: u64, code: ErrorCode) {
        self.outgoing.remove(&t);
        self.bodies.remove(&t);
        if let Some(&key) = self.keys.get(&t) {
            let _ = self.conn.reset(key, code);
        } else if let Some(i) = self.waiting.iter().position(|w| w.ticket == t) {
            self.waiting.remove(i);
            let mut state = self.mailbox.lock();
            state.client.waiting = state.client.waiting.saturating_sub(1);
            drop(state);
        }
        self.mailbox.update(SlotKey::Ticket(t), |s| {
            s.reset.get_or_insert(code);
        });
        self.mailbox.collect(SlotKey::Ticket(t));
    }

    /// Sends queued requests while the connection takes them. Returns whether any went.
    fn send_waiting(&mut self) -> bool {
        let mut sent = false;
        while !self.waiting.is_empty() && self.conn.can_send_request() {
            let Some(w) = self.waiting.pop_front() else {
                break;
            };
            let mut state = self.mailbox.lock();
            state.client.waiting = state.client.waiting.saturating_sub(1);
            drop(state);
            sent = true;
            match self.conn.send_request(&w.head, w.end_stream) {
                Ok(key) => {
                    self.keys.insert(w.ticket, key);
                    self.exchanges.insert(
                        key,
                        Exchange {
                            ticket: w.ticket,
                            sent: false,
                            received: false,
                        },
                    );
                    if let Some(body) = w.body {
                        self.bodies.insert(w.ticket, body);
                    }
                    self.mailbox
                        .update(SlotKey::Ticket(w.ticket), |s| s.stream = Some(key));
                }
                Err(e) => self.fail_ticket(w.ticket, e),
            }
        }
        if self.conn_closed_for_requests() {
            self.refuse_waiting();
        }
        sent
    }

    /// No request can be sent any more on this connection.
    fn conn_closed_for_requests(&self) -> bool {
        // HTTP/2 after GOAWAY, HTTP/1.1 after `Connection: close`: nothing in flight and
        // still no room means no room ever.
        !self.conn.can_send_request() && self.exchanges.is_empty()
    }

    /// Queued requests fail as retryable: the server never saw them.
    fn refuse_waiting(&mut self) {
        let waiting = std::mem::take(&mut self.waiting);
        {
            let mut state = self.mailbox.lock();
            state.client.waiting = 0;
            state.client.closed = true;
        }
        for w in waiting {
            self.mailbox.update(SlotKey::Ticket(w.ticket), |s| {
                s.reset.get_or_insert(ErrorCode::REFUSED_STREAM);
                s.retryable = true;
            });
            self.mailbox.collect(SlotKey::Ticket(w.ticket));
        }
        self.wake_ready();
    }

    /// The connection refused to send request `t` though it had room (an invalid head, for
    /// one): its `ResponseFuture` gets that error; the request is not retryable.
    fn fail_ticket(&mut self, t: u64, e: Error) {
        self.mailbox.update(SlotKey::Ticket(t), |s| {
            s.reset.get_or_insert(ErrorCode::CANCEL);
            s.failed = Some(e);
        });
        self.mailbox.collect(SlotKey::Ticket(t));
    }

    /// Polls the bodies the driver sends, while the connection takes their data.
    fn poll_bodies(&mut self, cx: &mut Context<'_>) {
        let mut done = Vec::new();
        for (&t, body) in &mut self.bodies {
            let queue = self.outgoing.entry(t).or_default();
            let Some(&key) = self.keys.get(&t) else {
                continue;
            };
            loop {
                // Feed what is queued first; poll the body only when the connection took it.
                feed_one(&mut self.conn, key, queue);
                if !queue.is_empty() {
                    break;
                }
                match body.0.as_mut().poll_frame(cx) {
                    Poll::Pending => break,
                    Poll::Ready(None) => {
                        queue.push_back(Out::Data(Bytes::new(), true));
                        feed_one(&mut self.conn, key, queue);
                        done.push((t, None));
                        break;
                    }
                    Poll::Ready(Some(Err(_))) => {
                        done.push((t, Some(ErrorCode::INTERNAL_ERROR)));
                        break;
                    }
                    Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                        Ok(data) => {
                            let end = body.0.is_end_stream();
                            queue.push_back(Out::Data(data, end));
                            if end {
                                done.push((t, None));
                                feed_one(&mut self.conn, key, queue);
                                break;
                            }
                        }
                        Err(frame) => {
                            if let Ok(trailers) = frame.into_trailers() {
                                queue.push_back(Out::Trailers(trailers));
                            }
                            done.push((t, None));
                            feed_one(&mut self.conn, key, queue);
                            break;
                        }
                    },
                }
            }
        }
        for (t, reset) in done {
            self.bodies.remove(&t);
            if let Some(code) = reset {
                self.reset(t, code);
            }
        }
    }

    /// Hands queued request output to the connection while it accepts it.
    fn feed_outgoing(&mut self) {
        let mut taken_by = Vec::new();
        let keys = &self.keys;
        let conn = &mut self.conn;
        self.outgoing.retain(|&t, queue| {
            let Some(&key) = keys.get(&t) else {
                // Not sent yet: keep it for later.
                return true;
            };
            let (taken, failed) = feed_one(conn, key, queue);
            if taken > 0 || failed {
                taken_by.push((t, taken, failed));
            }
            !queue.is_empty() && !failed
        });
        for (t, taken, failed) in taken_by {
            self.mailbox.update(SlotKey::Ticket(t), |slot| {
                slot.queued_out = slot.queued_out.saturating_sub(taken);
                if failed {
                    slot.reset.get_or_insert(ErrorCode::CANCEL);
                }
            });
        }
    }

    /// Tells the handles how many requests can go now and the version; closes
    /// the connection once nobody can send another request and nothing is in flight.
    fn publish(&mut self) {
        let room = self.conn.request_room();
        let (no_senders, wakers) = {
            let mut state = self.mailbox.lock();
            let c = &mut state.client;
            c.room = room;
            c.http1 = self.conn.version() != http::Version::HTTP_2;
            // `ready()` waiters are woken only when a request would go at once.
            let wakers = if c.waiting < room {
                std::mem::take(&mut c.ready_wakers)
            } else {
                Vec::new()
            };
            (c.senders == 0, wakers)
        };
        wakers.into_iter().for_each(|w| w.wake());
        let idle = self.exchanges.is_empty() && self.waiting.is_empty();
        if no_senders && idle && !self.idle_close_started {
            self.idle_close_started = true;
            self.conn.graceful_shutdown();
        }
    }

    fn wake_ready(&self) {
        let wakers = std::mem::take(&mut self.mailbox.lock().client.ready_wakers);
        wakers.into_iter().for_each(|w| w.wake());
    }

    /// The connection is over: every open request fails, every PING waiting fails.
    fn end(&mut self, code: ErrorCode) {
        self.ended = true;
        for w in std::mem::take(&mut self.waiting) {
            self.mailbox.update(SlotKey::Ticket(w.ticket), |s| {
                s.reset.get_or_insert(ErrorCode::REFUSED_STREAM);
                s.retryable = true;
            });
        }
        self.mailbox.end(code);
    }

    /// The exchange of `key` is over for the connection once sent and received (or reset).
    fn finish(&mut self, key: RequestKey, sent: bool, received: bool) {
        let Some(ex) = self.exchanges.get_mut(&key) else {
            return;
        };
        ex.sent |= sent;
        ex.received |= received;
        if ex.sent && ex.received {
            let t = ex.ticket;
            self.exchanges.remove(&key);
            self.keys.remove(&t);
            self.outgoing.remove(&t);
            self.bodies.remove(&t);
            self.mailbox.collect(SlotKey::Ticket(t));
        }
    }

    fn ticket(&self, key: RequestKey) -> Option<SlotKey> {
        self.exchanges.get(&key).map(|e| SlotKey::Ticket(e.ticket))
    }

    fn route(&mut self, event: Event) {
        match event {
            Event::Response {
                key,
                head,
                end_stream,
            } => {
                if let Some(t) = self.ticket(key) {
                    self.mailbox.update(t, |s| {
                        s.response = Some(*head);
                        s.end |= end_stream;
                    });
                }
                if end_stream {
                    self.finish(key, false, true);
                }
            }
            Event::Informational { key, head } => {
                if let Some(t) = self.ticket(key) {
                    self.mailbox.update(t, |s| {
                        if s.informational.len() == MAX_INFORMATIONAL {
                            s.informational.pop_front();
                        }
                        s.informational.push_back(*head);
                    });
                }
            }
            Event::PushPromise { parent, key, head } => self.promised(parent, key, *head),
            Event::Data {
                key,
                data,
                end_stream,
            } => {
                let n = data.len();
                let mut discarded = n;
                if let Some(t) = self.ticket(key) {
                    self.mailbox.update(t, |s| {
                        discarded = 0;
                        if s.discard_body {
                            discarded = n;
                        } else if !data.is_empty() {
                            s.data.push_back(data);
                        }
                        s.end |= end_stream;
                    });
                }
                if discarded > 0 {
                    self.conn.release_capacity(key, discarded);
                }
                if end_stream {
                    self.finish(key, false, true);
                }
            }
            Event::Trailers { key, trailers } => {
                if let Some(t) = self.ticket(key) {
                    self.mailbox.update(t, |s| {
                        s.trailers = Some(trailers);
                        s.end = true;
                    });
                }
                self.finish(key, false, true);
            }
            Event::Writable { .. } => self.feed_outgoing(),
            Event::Sent { key } => {
                if let Some(t) = self.ticket(key) {
                    self.mailbox.update(t, |s| s.sent = true);
                }
                self.finish(key, true, false);
            }
            Event::Reset {
                key,
                code,
                retryable,
                ..
            } => {
                if let Some(t) = self.ticket(key) {
                    self.mailbox.update(t, |s| {
                        s.reset.get_or_insert(code);
                        s.retryable = retryable;
                    });
                }
                self.finish(key, true, true);
            }
            Event::GoAway { .. } => {
                // Requests above its last stream come as retryable resets; no new ones.
                self.mailbox.lock().client.closed = true;
                self.refuse_waiting();
            }
            Event::PeerSettings => {
                self.mailbox.lock().client.peer_settings = self.conn.peer_settings().cloned();
                self.wake_ready();
            }
            Event::Pong { payload } => self.mailbox.answer_ping(payload, Ok(())),
            Event::Upgraded { .. } => self.upgraded = true,
        }
    }

    /// A push promise on `parent`: handed to its `ResponseFuture`, or cancelled when nobody
    /// listens any more.
    fn promised(&mut self, parent: RequestKey, key: RequestKey, head: request::Parts) {
        let Some(p) = self.ticket(parent) else {
            let _ = self.conn.reset(key, ErrorCode::CANCEL);
            return;
        };
        let ticket = {
            let mut state = self.mailbox.lock();
            if !state.slots.contains_key(&p) {
                drop(state);
                let _ = self.conn.reset(key, ErrorCode::CANCEL);
                return;
            }
            let ticket = state.client.next_ticket;
            state.client.next_ticket += 1;
            state.slots.insert(
                SlotKey::Ticket(ticket),
                Slot {
                    sent: true,
                    h2: true,
                    stream: Some(key),
                    // Held by the parent's promise queue until `push_promise` takes it.
                    handles: 1,
                    ..Slot::default()
                },
            );
            ticket
        };
        self.keys.insert(ticket, key);
        self.exchanges.insert(
            key,
            Exchange {
                ticket,
                sent: true,
                received: false,
            },
        );
        self.mailbox
            .update(p, |s| s.pushes.push_back((head, ticket)));
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Future for Connection<IO> {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this.poll_drive(cx) {
                Poll::Ready(Ok(true)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(false)) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Feeds one request's queued output; returns (octets taken, failed).
fn feed_one<IO: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut super::Connection<IO>,
    key: RequestKey,
    queue: &mut VecDeque<Out>,
) -> (usize, bool) {
    let mut taken = 0;
    while let Some(item) = queue.pop_front() {
        match item {
            Out::Data(data, end) => match conn.send_data(key, data.clone(), end) {
                Ok(n) if n == data.len() => taken += n,
                Ok(n) => {
                    taken += n;
                    queue.push_front(Out::Data(data.slice(n..), end));
                    break;
                }
                Err(_) => return (taken, true),
            },
            Out::Trailers(t) => {
                if conn.send_trailers(key, t).is_err() {
                    return (taken, true);
                }
            }
        }
    }
    (taken, false)
}
