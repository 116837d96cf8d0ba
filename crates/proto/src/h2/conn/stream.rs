//! One stream's state (RFC 9113 §5.1) and its two halves: what we receive and what we send.
//!
//! ```text
//!                              +--------+
//!                      send PP |        | recv PP
//!                     ,--------+  idle  +--------.
//!                    /         |        |         \
//!                   v          +--------+          v
//!            +----------+          |           +----------+
//!            |          |          | send H /  |          |
//!     ,------+ reserved |          | recv H    | reserved +------.
//!     |      | (local)  |          |           | (remote) |      |
//!     |      +---+------+          v           +------+---+      |
//!     |          |             +--------+             |          |
//!     |          |     recv ES |        | send ES     |          |
//!     |   send H |     ,-------+  open  +-------.     | recv H   |
//!     |          |    /        |        |        \    |          |
//!     |          v   v         +---+----+         v   v          |
//!     |      +----------+          |           +----------+      |
//!     |      |   half-  |          |           |   half-  |      |
//!     |      |  closed  |          | send R /  |  closed  |      |
//!     |      | (remote) |          | recv R    | (local)  |      |
//!     |      +----+-----+          |           +-----+----+      |
//!     |           |                |                 |           |
//!     |           | send ES /      |       recv ES / |           |
//!     |           |  send R /      v        send R / |           |
//!     |           |  recv R    +--------+   recv R   |           |
//!     | send R /  `----------->|        |<-----------'  send R / |
//!     | recv R                 | closed |               recv R   |
//!     `----------------------->|        |<-----------------------'
//!                              +--------+
//! ```
//!
//! Idle streams are not stored (the store infers them from ids), and a closed stream is
//! dropped from the store once its events are out; so [`State`] holds the live states.

use std::collections::VecDeque;

use bytes::Bytes;
use http::HeaderMap;

use super::flow::{RecvFlow, Window};
use super::priority::Priority;
use crate::h2::StreamId;

/// The live states of §5.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    ReservedLocal,
    ReservedRemote,
    Open,
    HalfClosedLocal,
    HalfClosedRemote,
    Closed,
}

impl State {
    /// We sent END_STREAM.
    pub(crate) fn send_end(self) -> State {
        match self {
            State::Open => State::HalfClosedLocal,
            State::HalfClosedRemote => State::Closed,
            other => other,
        }
    }

    /// The peer sent END_STREAM.
    pub(crate) fn recv_end(self) -> State {
        match self {
            State::Open => State::HalfClosedRemote,
            State::HalfClosedLocal => State::Closed,
            other => other,
        }
    }

    /// The peer may still send DATA or HEADERS (open or half-closed local).
    pub(crate) fn is_recv_open(self) -> bool {
        matches!(self, State::Open | State::HalfClosedLocal)
    }

    /// We may still send DATA or HEADERS.
    pub(crate) fn is_send_open(self) -> bool {
        matches!(
            self,
            State::Open | State::HalfClosedRemote | State::ReservedLocal
        )
    }
}

/// Where the peer's message on this stream stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecvPhase {
    /// No header section yet (our request is out, or a push is reserved).
    Head,
    /// Informational responses received; the final one is still due.
    Informational,
    /// The final head arrived; DATA and trailers may follow.
    Body,
    /// END_STREAM seen.
    Done,
}

/// What we receive on a stream.
#[derive(Debug)]
pub(crate) struct RecvHalf {
    pub(crate) flow: RecvFlow,
    pub(crate) phase: RecvPhase,
    /// `content-length` of the peer's message, checked against the DATA total.
    pub(crate) content_length: Option<u64>,
    pub(crate) data_total: u64,
    /// The application has taken the stream's opening event (server: the request).
    pub(crate) accepted: bool,
}

/// Where our message on this stream stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendPhase {
    /// No head sent yet.
    Head,
    /// The head is out; body and trailers may follow.
    Body,
    /// END_STREAM queued or written.
    Done,
}

/// What we send on a stream.
#[derive(Debug)]
pub(crate) struct SendHalf {
    pub(crate) window: Window,
    pub(crate) phase: SendPhase,
    pub(crate) buf: Chunks,
    pub(crate) buffered: usize,
    /// END_STREAM goes out once the buffer (and trailers) are sent.
    pub(crate) end_queued: bool,
    pub(crate) trailers: Option<HeaderMap>,
    /// A `send_data` found the buffer full: announce `Writable` when room frees.
    pub(crate) wants_writable: bool,
    pub(crate) priority: Priority,
    /// The stream is in a scheduler queue.
    pub(crate) scheduled: bool,
    /// The request was HEAD (client) or answers a HEAD (server): no body allowed.
    pub(crate) head_request: bool,
}

/// A stream's DATA waiting to be framed, in order: the first chunk inline, any more on the
/// heap (most responses hand over their body in one piece, and a queue would allocate for
/// it on every stream). Invariant: `rest` is empty while `first` is `None`.
#[derive(Debug, Default)]
pub(crate) struct Chunks {
    first: Option<Bytes>,
    rest: VecDeque<Bytes>,
}

impl Chunks {
    pub(crate) fn push_back(&mut self, chunk: Bytes) {
        if self.first.is_none() {
            self.first = Some(chunk);
        } else {
            self.rest.push_back(chunk);
        }
    }

    pub(crate) fn front_mut(&mut self) -> Option<&mut Bytes> {
        self.first.as_mut()
    }

    pub(crate) fn pop_front(&mut self) -> Option<Bytes> {
        let front = self.first.take();
        self.first = self.rest.pop_front();
        front
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Bytes> {
        self.first.iter().chain(&self.rest)
    }
}

impl SendHalf {
    /// The stream has DATA, END_STREAM or trailers waiting to be written.
    pub(crate) fn has_pending(&self) -> bool {
        self.buffered > 0 || self.end_queued || self.trailers.is_some()
    }
}

/// One stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) id: StreamId,
    pub(crate) state: State,
    pub(crate) recv: RecvHalf,
    pub(crate) send: SendHalf,
    /// `Sent` or `Reset` was reported for our half.
    pub(crate) send_reported: bool,
    /// Pushed stream: the request the promise was made on.
    pub(crate) parent: Option<StreamId>,
}

impl Stream {
    pub(crate) fn new(id: StreamId, state: State, recv_window: u32, send_window: u32) -> Self {
        Stream {
            id,
            state,
            recv: RecvHalf {
                flow: RecvFlow::new(recv_window, recv_window),
                phase: RecvPhase::Head,
                content_length: None,
                data_total: 0,
                accepted: false,
            },
            send: SendHalf {
                window: Window::new(send_window),
                phase: SendPhase::Head,
                buf: Chunks::default(),
                buffered: 0,
                end_queued: false,
                trailers: None,
                wants_writable: false,
                priority: Priority::default(),
                scheduled: false,
                head_request: false,
            },
            send_reported: false,
            parent: None,
        }
    }
}
