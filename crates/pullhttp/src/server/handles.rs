//! The handle API (DESIGN.md §2, layer 2), in the shape of `h2::server`: an [`Acceptor`]
//! drives the connection and yields `(Request<RecvBody>, Responder)`; the handles can move
//! to other tasks and talk to the connection only through the [`Mailbox`](super::mailbox).
//!
//! Built only on the pull API's public methods: the acceptor applies handle ops with
//! `send_response`/`send_data`/..., and pumps `next_event`, routing each event to its
//! stream's slot. Bodies are credited back to the client as the `RecvBody` consumer takes
//! them (the pull connection runs with `manual_release`). This module owns the routing; the
//! handles themselves live in `respond`, `recv_body` and `tunnel`.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{Connection, Event, RecvBody, Responder, Stats, Tunnel};
use crate::KeyMap;
use crate::error::{Error, Kind};
use crate::mailbox::{Mailbox, Op, PingSlot, Slot, SlotKey, TunnelKind};
use crate::shutdown::ShutdownHandle;
use crate::upgrade::Upgraded;

/// A request with its responder, as the acceptor yields them.
pub type Accepted = (Request<RecvBody>, Responder);

/// Response output waiting for room in the connection.
#[derive(Debug)]
enum Out {
    Data(Bytes, bool),
    Trailers(HeaderMap),
}

/// Writing an HTTP/1.1 upgrade response, then handing over the transport.
type Upgrading<IO> = Pin<Box<dyn Future<Output = Result<Upgraded<IO>, Error>> + Send>>;

/// Drives a server connection and hands out requests with their handles.
///
/// Nothing happens on the connection unless some task polls the acceptor: through
/// [`accept`](Self::accept), [`closed`](Self::closed) or [`drive_while`](Self::drive_while).
/// Handles waiting meanwhile just wait (debug builds warn after a few seconds).
pub struct Acceptor<IO> {
    /// `None` once the transport was handed over by an HTTP/1.1 upgrade.
    conn: Option<Connection<IO>>,
    upgrading: Option<(RequestKey, Upgrading<IO>)>,
    shutdown: ShutdownHandle,
    mailbox: Arc<Mailbox>,
    outgoing: KeyMap<VecDeque<Out>>,
    accepted: VecDeque<Accepted>,
    /// PINGs asked for before the version was known.
    deferred_pings: Vec<[u8; 8]>,
    ended: bool,
}

impl<IO> std::fmt::Debug for Acceptor<IO> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor")
            .field("conn", &self.conn)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<IO> Drop for Acceptor<IO> {
    fn drop(&mut self) {
        self.mailbox.close();
    }
}

impl<IO> Acceptor<IO> {
    /// The protocol in use (`None` while it is being detected, and after an upgrade).
    pub fn version(&self) -> Option<http::Version> {
        self.conn.as_ref().and_then(Connection::version)
    }

    /// Connection counters.
    pub fn stats(&self) -> Stats {
        self.conn
            .as_ref()
            .map(Connection::stats)
            .unwrap_or_default()
    }

    /// Debug builds: how many times a handle of this connection warned that it waited while
    /// nobody drove the connection (always 0 in release builds).
    pub fn stall_warnings(&self) -> usize {
        self.mailbox.stall_warnings()
    }

    /// Streams whose handles or state are still held (for tests of memory bounds).
    pub fn live_streams(&self) -> usize {
        self.mailbox.slots()
    }

    /// A handle that shuts this connection down (gracefully, or abruptly with
    /// [`ShutdownHandle::abort`]) from any task; see also [`Graceful`](crate::Graceful).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// A handle for PINGs whose answers are awaited (HTTP/2).
    pub fn ping_pong(&self) -> PingPong {
        PingPong {
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin + Send + 'static> Acceptor<IO> {
    /// Wraps a pull connection (made with [`Builder::manual_release`](super::Builder::manual_release)
    /// set, as [`Builder::acceptor`](super::Builder::acceptor) does).
    pub(crate) fn new(conn: Connection<IO>) -> Self {
        Acceptor {
            shutdown: conn.shutdown_handle(),
            conn: Some(conn),
            upgrading: None,
            mailbox: Arc::new(Mailbox::default()),
            outgoing: KeyMap::default(),
            accepted: VecDeque::new(),
            deferred_pings: Vec::new(),
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
        poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls the connection to its end without accepting.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            match self.poll_drive(cx) {
                Poll::Ready(Ok(true)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(false)) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Runs `fut` while driving the connection, so handling a stream inline cannot stall
    /// the connection it depends on. Returns `fut`'s output. Requests that arrive meanwhile
    /// wait for the next `accept`.
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

    /// Starts a graceful shutdown: HTTP/2 two-phase GOAWAY (streams in flight complete, new
    /// ones are refused); HTTP/1.1 `Connection: close` on the current response, or an
    /// immediate close when idle. Keep driving the acceptor until `accept` returns `None`.
    pub fn graceful_shutdown(&mut self) {
        if let Some(conn) = &mut self.conn {
            conn.graceful_shutdown();
        }
    }

    /// Ends the connection now: HTTP/2 GOAWAY with `code` and every stream reset; HTTP/1.1
    /// closes. Handles of open streams see a reset. Output the transport does not take at
    /// once is dropped.
    pub fn abrupt_shutdown(&mut self, code: ErrorCode) {
        if let Some(conn) = &mut self.conn {
            conn.abrupt_shutdown(code);
        }
    }

    /// One step: applies handle ops, feeds queued output, pumps one event. `Ok(true)` once
    /// the connection is over; `Ok(false)` after progress; `Pending` when idle.
    fn poll_drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, Error>> {
        if self.ended {
            return Poll::Ready(Ok(true));
        }
        if let Some((key, upgrading)) = &mut self.upgrading {
            let key = *key;
            let Poll::Ready(result) = upgrading.as_mut().poll(cx) else {
                return Poll::Pending;
            };
            self.upgrading = None;
            self.mailbox.update(key, |slot| match result {
                Ok(upgraded) => slot.upgraded = Some(Tunnel::transport(upgraded)),
                Err(_) => {
                    slot.reset.get_or_insert(ErrorCode::CANCEL);
                }
            });
            self.end(ErrorCode::CANCEL);
            return Poll::Ready(Ok(true));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Poll::Ready(Ok(true));
        };
        let ops = self.mailbox.take_ops(cx.waker());
        let applied = !ops.is_empty();
        for op in ops {
            match op {
                Op::Ping { payload } if conn.version().is_none() => {
                    self.deferred_pings.push(payload);
                }
                op => apply(conn, &self.mailbox, &mut self.outgoing, op),
            }
        }
        if conn.version().is_some() {
            for payload in self.deferred_pings.drain(..) {
                apply(
                    conn,
                    &self.mailbox,
                    &mut self.outgoing,
                    Op::Ping { payload },
                );
            }
        }
        feed_outgoing(conn, &self.mailbox, &mut self.outgoing);
        if applied {
            conn.gather_output();
        }
        let event = {
            let fut = conn.next_event();
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
            // Yielding to gather output: already woken, and the ops that arrive meanwhile
            // are taken then.
            Poll::Pending if applied && !conn.gather_yielded() => Poll::Ready(Ok(false)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The connection is over: every open stream is reset for its handles, every PING
    /// waiting for its answer fails.
    fn end(&mut self, code: ErrorCode) {
        self.ended = true;
        self.mailbox.end(code);
    }

    fn route(&mut self, event: Event) {
        match event {
            Event::Request {
                key,
                head,
                end_stream,
                expect_continue,
                upgrade,
            } => {
                let h2 = head.version == http::Version::HTTP_2;
                let tunnel = if upgrade.is_some() {
                    Some(TunnelKind::Transport)
                } else if h2 && head.method == Method::CONNECT {
                    Some(TunnelKind::Stream)
                } else {
                    None
                };
                self.mailbox.lock().slots.insert(
                    key.into(),
                    Slot {
                        end: end_stream,
                        expect_continue,
                        handles: 2,
                        tunnel,
                        h2,
                        ..Slot::default()
                    },
                );
                let body = RecvBody::new(key.into(), self.mailbox.clone());
                let responder = Responder::new(key, self.mailbox.clone());
                self.accepted
                    .push_back((Request::from_parts(*head, body), responder));
            }
            Event::Data {
                key,
                data,
                end_stream,
            } => {
                // Without a slot (the exchange is over) nobody reads the data either.
                let mut discarded = data.len();
                self.mailbox.update(key, |slot| {
                    discarded = 0;
                    if slot.discard_body {
                        discarded = data.len();
                    } else if !data.is_empty() {
                        slot.data.push_back(data);
                    }
                    slot.end |= end_stream;
                });
                if let (Some(conn), true) = (&mut self.conn, discarded > 0) {
                    conn.release_capacity(key, discarded);
                }
            }
            Event::Trailers { key, trailers } => self.mailbox.update(key, |slot| {
                slot.trailers = Some(trailers);
                slot.end = true;
            }),
            Event::Writable { .. } => {
                if let Some(conn) = &mut self.conn {
                    feed_outgoing(conn, &self.mailbox, &mut self.outgoing);
                }
            }
            Event::Sent { key } => {
                self.mailbox.update(key, |slot| slot.sent = true);
                self.mailbox.collect(key);
            }
            Event::Reset { key, code } => {
                self.outgoing.remove(&key);
                self.mailbox.update(key, |slot| {
                    slot.reset = Some(code);
                });
                self.mailbox.collect(key);
            }
            Event::Pong { payload } => self.mailbox.answer_ping(payload, Ok(())),
            Event::Upgraded { key } => {
                if let Some(conn) = self.conn.take() {
                    self.upgrading = Some((key, Box::pin(conn.into_upgraded(key))));
                }
            }
        }
    }
}

/// Applies one handle op to the connection.
fn apply<IO: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Connection<IO>,
    mailbox: &Mailbox,
    outgoing: &mut KeyMap<VecDeque<Out>>,
    op: Op,
) {
    let (key, result) = match op {
        Op::Response {
            key: SlotKey::Key(key),
            head,
            end_stream,
        } => (key, conn.send_response(key, &head, end_stream)),
        Op::Informational {
            key: SlotKey::Key(key),
            head,
        } => (key, conn.send_informational(key, &head)),
        Op::Data {
            key: SlotKey::Key(key),
            data,
            end_stream,
        } => {
            outgoing
                .entry(key)
                .or_default()
                .push_back(Out::Data(data, end_stream));
            return;
        }
        Op::Trailers {
            key: SlotKey::Key(key),
            trailers,
        } => {
            outgoing
                .entry(key)
                .or_default()
                .push_back(Out::Trailers(trailers));
            return;
        }
        Op::Reset {
            key: SlotKey::Key(key),
            code,
        } => {
            outgoing.remove(&key);
            (key, conn.reset_with(key, code))
        }
        Op::Release {
            key: SlotKey::Key(key),
            n,
        } => {
            conn.release_capacity(key, n);
            return;
        }
        Op::Continue {
            key: SlotKey::Key(key),
        } => (key, conn.send_continue(key)),
        Op::Push { parent, head } => {
            let reply = conn.push_promise(parent, &head);
            if let Ok(pushed) = &reply {
                mailbox.lock().slots.insert(
                    SlotKey::Key(*pushed),
                    Slot {
                        end: true,
                        handles: 1,
                        h2: true,
                        ..Slot::default()
                    },
                );
            }
            mailbox.update(parent, |slot| slot.push_reply = Some(reply));
            return;
        }
        Op::Ping { payload } => {
            if let Err(e) = conn.ping(payload) {
                mailbox.answer_ping(payload, Err(e));
            }
            return;
        }
        // Tickets and requests are the client's; a server mailbox never holds them.
        _ => return,
    };
    if result.is_err() {
        // The stream is gone (reset by the peer meanwhile): tell its handles.
        mailbox.update(key, |slot| {
            slot.reset.get_or_insert(ErrorCode::CANCEL);
        });
    }
}

/// Hands queued response output to the connection while it accepts it.
fn feed_outgoing<IO: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Connection<IO>,
    mailbox: &Mailbox,
    outgoing: &mut KeyMap<VecDeque<Out>>,
) {
    outgoing.retain(|&key, queue| {
        let mut taken = 0;
        let mut failed = false;
        while let Some(item) = queue.pop_front() {
            match item {
                Out::Data(data, end) => match conn.send_data(key, data.clone(), end) {
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
                    if conn.send_trailers(key, t).is_err() {
                        failed = true;
                        break;
                    }
                }
            }
        }
        if taken > 0 || failed {
            mailbox.update(key, |slot| {
                slot.queued_out = slot.queued_out.saturating_sub(taken);
                if failed {
                    slot.reset.get_or_insert(ErrorCode::CANCEL);
                }
            });
        }
        !queue.is_empty() && !failed
    });
}

/// Sends PINGs and waits for their answers (HTTP/2), from any task.
#[derive(Debug, Clone)]
pub struct PingPong {
    mailbox: Arc<Mailbox>,
}

impl PingPong {
    pub(crate) fn new(mailbox: Arc<Mailbox>) -> Self {
        PingPong { mailbox }
    }

    /// Sends a PING with an opaque `payload` and waits for its acknowledgement, returning
    /// the round-trip time. Errors: `Misuse` on HTTP/1.1 or when a PING with the same payload
    /// is already in flight; `Closed` or `DriverGone` when the connection ends first.
    pub async fn ping(&self, payload: [u8; 8]) -> Result<Duration, Error> {
        {
            let mut state = self.mailbox.lock();
            if state.gone {
                return Err(Error::new(Kind::DriverGone));
            }
            if state.pings.contains_key(&payload) {
                return Err(Error::with(
                    Kind::Misuse,
                    "a PING with this payload is already in flight",
                ));
            }
            state.pings.insert(payload, PingSlot::default());
        }
        // Forgets the entry however this future ends (answered, failed or dropped).
        struct Forget<'a>(&'a Mailbox, [u8; 8]);
        impl Drop for Forget<'_> {
            fn drop(&mut self) {
                self.0.lock().pings.remove(&self.1);
            }
        }
        let _forget = Forget(&self.mailbox, payload);
        let start = tokio::time::Instant::now();
        self.mailbox.push(Op::Ping { payload })?;
        poll_fn(|cx| {
            let mut state = self.mailbox.lock();
            let gone = state.gone;
            let Some(slot) = state.pings.get_mut(&payload) else {
                return Poll::Ready(Err(Error::new(Kind::Closed)));
            };
            if let Some(done) = slot.done.take() {
                return Poll::Ready(done);
            }
            if gone {
                return Poll::Ready(Err(Error::new(Kind::DriverGone)));
            }
            slot.waker = Some(cx.waker().clone());
            drop(state);
            self.mailbox.check_stall("PingPong", cx);
            Poll::Pending
        })
        .await?;
        Ok(start.elapsed())
    }
}
