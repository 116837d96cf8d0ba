//! The mailbox between handles and the connection's driver, for both roles: the server's
//! ([`Responder`](crate::server::Responder), [`SendBody`](crate::server::SendBody),
//! [`RecvBody`](crate::server::RecvBody) driven by the [`Acceptor`](crate::server::Acceptor))
//! and the client's ([`SendRequest`](crate::client::SendRequest), its `ResponseFuture`, the
//! same body handles, driven by [`client::handle::Connection`](crate::client::handle::Connection)).
//!
//! Slots are keyed by [`SlotKey`]: the server's slots by the connection's [`RequestKey`], the
//! client's by a ticket the `SendRequest` handle draws before the driver has sent the request
//! (so `send_request` answers at once; the driver maps tickets to keys).
//!
//! Protocol (DESIGN.md §2, layer 2):
//! - One `Mutex<State>` per connection. It is held only to push or pop queue entries, read or
//!   set a slot's fields, and swap wakers: never across IO, never while calling into the
//!   protocol core, never while waking anyone (wakers are taken out under the lock and woken
//!   after it is released).
//! - Handles push [`Op`]s. A push that finds the queue empty takes the driver's waker and
//!   wakes it; pushes onto a non-empty queue do not (the driver will drain them all: wakes
//!   are coalesced).
//! - The driver takes all ops at once. If it finds the queue empty it registers its waker
//!   *under the same lock*, so a push after that sees the waker and no wake-up is lost.
//! - The driver writes what the connection produced for handles (body data, trailers, the
//!   stream's `Sent`, resets, buffer room) into per-stream [`Slot`]s and wakes the handle
//!   waiting on that slot. Ops applied in a driver turn are written and flushed in the same
//!   turn (the driver polls the connection's pump after applying them).
//! - When the driver is dropped it marks the mailbox `gone` and wakes every waiting handle;
//!   every later operation fails with `DriverGone` instead of waiting forever.
//! - Debug builds: a handle that waits more than [`STALL_WARNING`] while the driver has not
//!   taken any op logs a warning naming the likely cause (nobody drives the connection). A
//!   timer per connection, polled by parking handles, wakes one of them to check.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, request, response};
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2;
use pullhttp_proto::h2::ErrorCode;

use crate::error::{Error, Kind};

/// How long a handle may wait with no driver activity before a debug warning.
pub(crate) const STALL_WARNING: Duration = Duration::from_secs(5);

/// Informational responses kept per request for `ResponseFuture::informational`; older
/// ones are dropped (a server may send any number of them).
pub(crate) const MAX_INFORMATIONAL: usize = 16;

/// Octets a stream may have queued for the connection before `write` waits.
pub(crate) const SEND_HIGH_WATER: usize = 256 << 10;

/// What a slot is keyed by: a server exchange's key, or a client request's ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SlotKey {
    /// The connection's key of the exchange.
    Key(RequestKey),
    /// A client request, numbered by its `SendRequest` before the driver sent it.
    Ticket(u64),
}

impl From<RequestKey> for SlotKey {
    fn from(key: RequestKey) -> Self {
        SlotKey::Key(key)
    }
}

/// A command from a handle to the driver.
#[derive(Debug)]
pub(crate) enum Op {
    Response {
        key: SlotKey,
        head: response::Parts,
        end_stream: bool,
    },
    Informational {
        key: SlotKey,
        head: response::Parts,
    },
    Data {
        key: SlotKey,
        data: Bytes,
        end_stream: bool,
    },
    Trailers {
        key: SlotKey,
        trailers: HeaderMap,
    },
    Reset {
        key: SlotKey,
        code: ErrorCode,
    },
    Release {
        key: SlotKey,
        n: usize,
    },
    Continue {
        key: SlotKey,
    },
    Push {
        parent: RequestKey,
        head: request::Parts,
    },
    Ping {
        payload: [u8; 8],
    },
    /// Client: a request, numbered by its `SendRequest`; `body` is polled by the driver.
    Request {
        ticket: u64,
        head: request::Parts,
        end_stream: bool,
        body: Option<DriverBody>,
    },
}

/// An error of a body polled by the driver.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body the client's driver polls (`SendRequest::send`): nothing is spawned.
pub(crate) struct DriverBody(
    pub(crate) Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send>>,
);

impl std::fmt::Debug for DriverBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverBody")
            .field("end", &self.0.is_end_stream())
            .finish_non_exhaustive()
    }
}

/// The client's connection-wide state shared with its `SendRequest` handles.
#[derive(Debug, Default)]
pub(crate) struct ClientState {
    /// The next request's ticket.
    pub(crate) next_ticket: u64,
    /// Live `SendRequest` handles (with none left and nothing in flight, the connection
    /// closes).
    pub(crate) senders: usize,
    /// Requests queued by handles and not yet sent by the driver.
    pub(crate) waiting: usize,
    /// How many more requests the connection takes now (published by the driver every
    /// turn); a handle's request goes at once while `waiting` is below it.
    pub(crate) room: usize,
    /// No request can be sent any more (GOAWAY, shutdown, or the end).
    pub(crate) closed: bool,
    pub(crate) ready_wakers: Vec<Waker>,
    pub(crate) peer_settings: Option<h2::PeerSettings>,
    /// The connection speaks HTTP/1.1 (no SETTINGS will come).
    pub(crate) http1: bool,
}

/// What a stream's request asks to become, if answered with success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TunnelKind {
    /// HTTP/1.1 `Upgrade` or CONNECT: the transport is handed over.
    Transport,
    /// HTTP/2 CONNECT or extended CONNECT: the stream carries the octets.
    Stream,
}

/// One application PING in flight.
#[derive(Debug, Default)]
pub(crate) struct PingSlot {
    /// The acknowledgement came (`Ok`), or the PING could not be sent (`Err`).
    pub(crate) done: Option<Result<(), Error>>,
    pub(crate) waker: Option<Waker>,
}

/// What the driver has for one stream's handles.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    /// Request body data not yet taken by the `RecvBody`.
    pub(crate) data: VecDeque<Bytes>,
    /// The request body ended.
    pub(crate) end: bool,
    pub(crate) trailers: Option<HeaderMap>,
    /// The stream was reset (or the connection ended with it open).
    pub(crate) reset: Option<ErrorCode>,
    pub(crate) recv_waker: Option<Waker>,
    /// Response octets handed to the driver and not yet accepted by the connection.
    pub(crate) queued_out: usize,
    pub(crate) send_waker: Option<Waker>,
    /// The response's last octet was written and flushed.
    pub(crate) sent: bool,
    pub(crate) sent_waker: Option<Waker>,
    /// The `Responder`'s own wait (reset, push reply, upgrade).
    pub(crate) responder_waker: Option<Waker>,
    /// The driver's answer to the `Responder`'s last push request.
    pub(crate) push_reply: Option<Result<RequestKey, Error>>,
    /// What a successful answer turns the exchange into, if anything.
    pub(crate) tunnel: Option<TunnelKind>,
    /// HTTP/1.1 upgrade: the transport, once the driver handed it over.
    pub(crate) upgraded: Option<crate::server::Tunnel>,
    /// The exchange is an HTTP/2 stream.
    pub(crate) h2: bool,
    /// An HTTP/2 tunnel reads the body (not the request's own `RecvBody`).
    pub(crate) tunnel_taken: bool,
    /// The body's reader is gone: later data is credited back and dropped by the driver.
    pub(crate) discard_body: bool,
    /// HTTP/1.1 `Expect: 100-continue` not yet answered.
    pub(crate) expect_continue: bool,
    /// Client: the final response head, until the `ResponseFuture` takes it.
    pub(crate) response: Option<response::Parts>,
    /// Client: informational (1xx) heads not yet taken (at most [`MAX_INFORMATIONAL`]).
    pub(crate) informational: VecDeque<response::Parts>,
    /// Client: the reset means the server did not process the request.
    pub(crate) retryable: bool,
    /// Client: pushed requests promised on this stream, with their tickets.
    pub(crate) pushes: VecDeque<(request::Parts, u64)>,
    /// Client: why the connection refused to send the request (an invalid head, say).
    pub(crate) failed: Option<Error>,
    /// Client: the connection's key, once the driver sent the request.
    pub(crate) stream: Option<RequestKey>,
    /// Live handles referring to this slot; it is dropped once none is left and the
    /// exchange is over.
    pub(crate) handles: usize,
}

impl Slot {
    /// The exchange is over for the connection (sent or reset).
    pub(crate) fn is_over(&self) -> bool {
        self.sent || self.reset.is_some()
    }

    /// Takes every waker (to wake after unlocking), without allocating.
    pub(crate) fn wakers(&mut self) -> [Option<Waker>; 4] {
        [
            self.recv_waker.take(),
            self.send_waker.take(),
            self.sent_waker.take(),
            self.responder_waker.take(),
        ]
    }

    /// Takes every waker into `into` (for wakes gathered over many slots).
    pub(crate) fn take_wakers(&mut self, into: &mut Vec<Waker>) {
        into.extend(self.wakers().into_iter().flatten());
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    ops: VecDeque<Op>,
    driver: Option<Waker>,
    /// When the driver last took ops (for the stall warning).
    last_drive: Option<tokio::time::Instant>,
    stall_warnings: usize,
    pub(crate) gone: bool,
    pub(crate) slots: HashMap<SlotKey, Slot, std::hash::BuildHasherDefault<crate::KeyHasher>>,
    /// Application PINGs in flight, by payload.
    pub(crate) pings: HashMap<[u8; 8], PingSlot>,
    /// Client connections only.
    pub(crate) client: ClientState,
}

impl State {
    /// Takes the driver's waker (to wake it after unlocking).
    pub(crate) fn take_driver_waker(&mut self) -> Option<Waker> {
        self.driver.take()
    }
}

/// The shared mailbox of one connection.
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    state: Mutex<State>,
    /// Debug builds: wakes a waiting handle to check for a stall (see `check_stall`).
    stall_timer: Mutex<Option<Pin<Box<tokio::time::Sleep>>>>,
}

impl Mailbox {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind: keep going with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues an op for the driver, waking it if the queue was empty.
    pub(crate) fn push(&self, op: Op) -> Result<(), Error> {
        let waker = {
            let mut state = self.lock();
            if state.gone {
                return Err(Error::new(Kind::DriverGone));
            }
            let was_empty = state.ops.is_empty();
            state.ops.push_back(op);
            if was_empty { state.driver.take() } else { None }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Driver: takes every queued op; with none, registers `waker` under the same lock.
    pub(crate) fn take_ops(&self, waker: &Waker) -> VecDeque<Op> {
        let mut state = self.lock();
        state.last_drive = Some(tokio::time::Instant::now());
        if state.ops.is_empty() {
            if !state.driver.as_ref().is_some_and(|w| w.will_wake(waker)) {
                state.driver = Some(waker.clone());
            }
            return VecDeque::new();
        }
        std::mem::take(&mut state.ops)
    }

    /// Driver is gone: fail every handle from now on and wake the waiting ones.
    pub(crate) fn close(&self) {
        let mut wakers = Vec::new();
        {
            let mut state = self.lock();
            state.gone = true;
            state.ops.clear();
            for slot in state.slots.values_mut() {
                slot.take_wakers(&mut wakers);
            }
            wakers.extend(state.pings.values_mut().filter_map(|p| p.waker.take()));
            state.client.closed = true;
            wakers.append(&mut state.client.ready_wakers);
        }
        for w in wakers {
            w.wake();
        }
    }

    /// The connection is over: every exchange not complete both ways is reset with `code`
    /// for its handles, every PING waiting for its answer fails, and (client) no request
    /// can be sent any more. Wakes everyone waiting.
    pub(crate) fn end(&self, code: ErrorCode) {
        let mut wakers = Vec::new();
        {
            let mut state = self.lock();
            for slot in state.slots.values_mut() {
                if !(slot.sent && slot.end) {
                    slot.reset.get_or_insert(code);
                }
                slot.take_wakers(&mut wakers);
            }
            for ping in state.pings.values_mut() {
                ping.done
                    .get_or_insert_with(|| Err(Error::with(Kind::Closed, "connection closed")));
                wakers.extend(ping.waker.take());
            }
            state.client.closed = true;
            state.client.waiting = 0;
            wakers.append(&mut state.client.ready_wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// A handle of `key` appeared.
    pub(crate) fn add_handle(&self, key: impl Into<SlotKey>) {
        let key = key.into();
        if let Some(slot) = self.lock().slots.get_mut(&key) {
            slot.handles += 1;
        }
    }

    /// A handle of `key` was dropped: forget the slot when it was the last and the exchange
    /// is over.
    pub(crate) fn drop_handle(&self, key: impl Into<SlotKey>) {
        let key = key.into();
        let mut state = self.lock();
        if let Some(slot) = state.slots.get_mut(&key) {
            slot.handles = slot.handles.saturating_sub(1);
            if slot.handles == 0 && slot.is_over() {
                state.slots.remove(&key);
            }
        }
    }

    /// Forgets a finished slot no handle refers to.
    pub(crate) fn collect(&self, key: impl Into<SlotKey>) {
        let key = key.into();
        let mut state = self.lock();
        if state
            .slots
            .get(&key)
            .is_some_and(|s| s.handles == 0 && s.is_over())
        {
            state.slots.remove(&key);
        }
    }

    /// Driver: runs `f` on a stream's slot under the lock, then wakes its handles.
    pub(crate) fn update(&self, key: impl Into<SlotKey>, f: impl FnOnce(&mut Slot)) {
        let key = key.into();
        let wakers = {
            let mut state = self.lock();
            let Some(slot) = state.slots.get_mut(&key) else {
                return;
            };
            f(slot);
            slot.wakers()
        };
        wakers.into_iter().flatten().for_each(Waker::wake);
    }

    /// Driver: a PING of the application was answered (or could not be sent).
    pub(crate) fn answer_ping(&self, payload: [u8; 8], result: Result<(), Error>) {
        let waker = {
            let mut state = self.lock();
            let Some(ping) = state.pings.get_mut(&payload) else {
                return;
            };
            ping.done = Some(result);
            ping.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Handle: waits on a slot. `check` answers under the lock, else `park` stores the waker
    /// (in the same critical section, so no update is missed).
    pub(crate) fn poll_slot<T>(
        &self,
        key: impl Into<SlotKey>,
        cx: &mut Context<'_>,
        what: &str,
        check: impl FnOnce(&mut Slot) -> Option<T>,
        park: impl FnOnce(&mut Slot, Waker),
    ) -> Poll<Result<T, Error>> {
        let key = key.into();
        let mut state = self.lock();
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
        self.check_stall(what, cx);
        Poll::Pending
    }

    /// Slots alive (for statistics and tests).
    pub(crate) fn slots(&self) -> usize {
        self.lock().slots.len()
    }

    /// Debug builds: a handle parks; if it is still waiting [`STALL_WARNING`] later while
    /// the driver has taken no op meanwhile, print a warning naming the likely cause. One
    /// timer per connection wakes the handle that parked last, which then checks again.
    pub(crate) fn check_stall(&self, what: &str, cx: &mut Context<'_>) {
        if !cfg!(debug_assertions) {
            return;
        }
        let mut timer = self
            .stall_timer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(STALL_WARNING)));
        if timer.as_mut().poll(cx).is_pending() {
            return;
        }
        let now = tokio::time::Instant::now();
        timer.as_mut().reset(now + STALL_WARNING);
        let _ = timer.as_mut().poll(cx);
        let mut state = self.lock();
        let idle = state.last_drive.map(|last| now - last);
        if idle.is_none_or(|idle| idle >= STALL_WARNING) {
            state.stall_warnings += 1;
            drop(state);
            eprintln!(
                "pullhttp: a {what} has waited while nobody drove its connection for {}; \
                 poll its driver (a server Acceptor's accept, closed or drive_while; a client \
                 handle::Connection future) from some task",
                idle.map_or_else(|| "ever".to_owned(), |d| format!("{d:?}"))
            );
        }
    }

    /// Stall warnings printed so far (debug builds).
    pub(crate) fn stall_warnings(&self) -> usize {
        self.lock().stall_warnings
    }
}
