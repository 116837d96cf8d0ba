//! The one driver both roles share: a [`Driver`] owns the transport, the read buffer, the
//! one timer, keep-alive and the shutdown signal, and pumps a [`Protocol`] (the server's
//! detection + HTTP/1 + HTTP/2 cores, or the client's). It knows IO and time; it must not
//! know what a request or a response is: the protocol maps its core's events to the role's
//! vocabulary.

mod keepalive;
mod pump;
mod versioned;

use std::io::IoSlice;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use pullhttp_proto::h2::ErrorCode;

use self::keepalive::KeepAlive;
use crate::error::Error;
use crate::shutdown::ShutdownHandle;

pub(crate) use self::pump::Pumped;
pub(crate) use self::versioned::Versioned;

/// The current time as the cores want it (tokio's clock, so paused time works in tests).
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// What a protocol's next step is.
pub(crate) enum Step<E> {
    /// Nothing now.
    Idle,
    /// An event for the application.
    Event(E),
    /// The answer to a PING (the keep-alive's or the application's).
    PingAck([u8; 8]),
    /// The connection ended (with an error, or cleanly).
    Closed(Option<Error>),
}

/// The protocol side of a connection, as the driver sees it. The call order is the cores':
/// after any input or command, drain `next_step`, then write the output, then arm the
/// timer for `next_deadline`.
pub(crate) trait Protocol {
    /// The role's events.
    type Event;

    /// The next step. Octets to write before the protocol's own output (an h2c `101`) go
    /// to `preamble`.
    fn next_step(&mut self, preamble: &mut BytesMut) -> Step<Self::Event>;
    /// The event reporting the answer to an application PING.
    fn pong(payload: [u8; 8]) -> Self::Event;
    fn handle_input(&mut self, data: &[u8], now: Instant);
    /// Where the next read may land directly (HTTP/2 inside an incomplete frame), not the
    /// per-thread read buffer; after reading into it, `input_appended`.
    fn direct_input(&mut self) -> Option<&mut BytesMut>;
    fn input_appended(&mut self, now: Instant);
    /// End of input; true when the connection is over at once (nothing was ever said).
    fn handle_eof(&mut self, now: Instant) -> bool;
    /// A deadline passed; an error ends the connection (a timeout the core does not own).
    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error>;
    fn next_deadline(&self) -> Option<Instant>;
    fn wants_read(&self) -> bool;
    fn is_closed(&self) -> bool;
    /// Frees what an idle connection does not need; true if it was idle (see
    /// `pump::RELEASE_AFTER`).
    fn release_idle(&mut self) -> bool;
    /// Whether output is waiting (checked before `output`, which fills a slice array).
    fn has_output(&mut self) -> bool;
    /// Fills `slices` from the front with the output waiting; returns how many it filled.
    fn output<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize;
    fn advance_written(&mut self, n: usize);
    fn on_flushed(&mut self);
    /// Starts a graceful shutdown; true when the connection can simply close (nothing has
    /// begun on it).
    fn graceful_shutdown(&mut self, now: Instant) -> bool;
    fn abrupt_shutdown(&mut self, code: ErrorCode);
    fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error>;
    /// After an HTTP/1.1 upgrade: the octets received past the boundary (`None` when the
    /// connection did not upgrade).
    fn take_upgraded(&mut self) -> Option<BytesMut>;
}

/// How much one read takes at most.
const READ_SIZE: usize = 64 << 10;

thread_local! {
    /// The buffer reads land in, one per thread: the cores copy what they keep, so a
    /// connection needs no read buffer of its own while it waits (an idle connection's memory
    /// is its state, not 16 KiB of buffer), and one read can take a large burst.
    static READ_BUF: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; READ_SIZE].into_boxed_slice());
}

/// Runs `f` on this thread's read buffer. `f` must not call back into here (the pump's
/// reads do not nest).
pub(crate) fn with_read_buf<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    READ_BUF.with(|buf| f(&mut buf.borrow_mut()))
}

/// Body octets handed to the application and not yet taken by it, and the most allowed
/// before reading pauses. Only HTTP/1 pauses on it: HTTP/2 is bounded by its windows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyGate {
    held: usize,
    max: usize,
}

impl BodyGate {
    pub(crate) fn new(max: usize) -> Self {
        BodyGate { held: 0, max }
    }

    /// `n` more octets are held by the application.
    pub(crate) fn hold(&mut self, n: usize) {
        self.held += n;
    }

    /// `n` octets were taken.
    pub(crate) fn release(&mut self, n: usize) {
        self.held = self.held.saturating_sub(n);
    }

    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// True when reading must pause: an HTTP/1 core with more held than allowed.
    pub(crate) fn closed(&self, core: &Versioned) -> bool {
        matches!(core, Versioned::H1(_)) && self.held > self.max
    }
}

/// Transport-side state of the pump.
struct Transport {
    timer: Pin<Box<tokio::time::Sleep>>,
    needs_flush: bool,
    read_closed: bool,
    write_closed: bool,
    /// Octets to write before the protocol's output (an h2c upgrade's 101).
    preamble: BytesMut,
    /// Input still to discard while closing (see `poll_close`).
    linger_left: usize,
    /// Abrupt shutdown: close without waiting for output or the peer.
    hard_close: bool,
    /// The last read filled its buffer: input is streaming in, and reads inside a large
    /// frame may go straight into the core's buffer (`Protocol::direct_input`). Only then:
    /// a peer that sends a few octets of a frame and stalls must not make its connection
    /// reserve a whole read's worth.
    bulk: bool,
}

/// The single owner of a connection's transport, timer and protocol.
pub(crate) struct Driver<IO, P> {
    pub(crate) io: IO,
    pub(crate) proto: P,
    transport: Transport,
    ended: bool,
    /// The protocol ended; its last output is being written, then this is returned.
    closing: Option<Option<Error>>,
    keepalive: KeepAlive,
    pub(crate) shutdown: ShutdownHandle,
    shutdown_seen: bool,
    /// When an idle connection frees its buffers.
    idle: pump::IdleRelease,
    /// Holding output back for one yield, to gather what other tasks are handing over.
    gather: pump::Gather,
    /// Octets read from and written to the transport.
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
}

impl<IO, P: Protocol> Driver<IO, P> {
    pub(crate) fn new(io: IO, proto: P, keep_alive: Option<(Duration, Duration)>) -> Self {
        let now = now();
        Driver {
            io,
            proto,
            transport: Transport {
                timer: Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
                    now,
                ))),
                needs_flush: false,
                read_closed: false,
                write_closed: false,
                preamble: BytesMut::new(),
                linger_left: 0,
                hard_close: false,
                bulk: false,
            },
            ended: false,
            closing: None,
            keepalive: KeepAlive::new(keep_alive, now),
            shutdown: ShutdownHandle::default(),
            shutdown_seen: false,
            idle: pump::IdleRelease::default(),
            gather: pump::Gather::default(),
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// The handle layers call this after applying commands other tasks sent: the output
    /// they made waits for one yield to the scheduler, so the commands of every task that
    /// is already runnable leave in the same write (see `pump::Gather`).
    pub(crate) fn gather_output(&mut self) {
        self.gather.hold();
    }

    /// The last poll returned `Pending` to yield for gathering, and the task is already
    /// woken: the caller must return `Pending` too rather than poll again.
    pub(crate) fn gather_yielded(&self) -> bool {
        self.gather.woke
    }

    /// Starts a graceful shutdown (idempotent).
    pub(crate) fn graceful_shutdown(&mut self) {
        self.shutdown_seen = true;
        if self.proto.graceful_shutdown(now()) {
            self.closing.get_or_insert(None);
        }
    }

    /// Ends the connection now; output the transport does not take at once is dropped.
    pub(crate) fn abrupt_shutdown(&mut self, code: ErrorCode) {
        self.shutdown_seen = true;
        self.transport.hard_close = true;
        self.proto.abrupt_shutdown(code);
    }
}
