//! The pump: the one loop that moves a connection forward. Each poll delivers a ready event,
//! or writes the queued output (vectored, coalesced: everything produced by one read leaves
//! in as few writes as the transport allows), flushes, reads, and runs the one timer, doing
//! at most `WORK_BUDGET` steps before yielding.
//!
//! Cancel safety: every piece of state lives in the [`Driver`]; a dropped `next_event`
//! future loses nothing. Only this module does IO.

use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Driver, Protocol, Step};
use crate::error::{Error, Kind};

/// Reads, writes and timer firings per poll before yielding to other tasks.
const WORK_BUDGET: usize = 64;

/// Output slices per vectored write.
const MAX_SLICES: usize = 64;

/// How long a closing connection waits for the peer to close after our FIN.
const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(1);

/// Input read and discarded at most while lingering.
const LINGER_BYTES: usize = 64 << 10;

/// How long a connection waits with no input before it gives its idle buffers back.
pub(crate) const RELEASE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// When the waiting connection gives its buffers back.
#[derive(Debug, Default)]
pub(crate) struct IdleRelease {
    /// The release is due (armed when the connection starts waiting).
    at: Option<std::time::Instant>,
    /// Done, until input comes again.
    released: bool,
}

/// Write gathering for the handle APIs. Their driver is woken by the first task that
/// hands over a command; writing at once sends one request or response per write while the
/// tasks behind it are about to hand over theirs (one `writev` per request on a loaded
/// client connection). Holding the output back for one yield puts the driver behind the
/// tasks already runnable, and their commands go out together. At most one yield per
/// write: a driver fed without pause still writes every other poll.
#[derive(Debug, Default)]
pub(crate) struct Gather {
    /// Writes wait until the pump has nothing else to do, then it yields once.
    held: bool,
    /// Yielded since the last write: do not hold again before writing.
    yielded: bool,
    /// The last `poll_pump` yielded for it (and woke the task).
    pub(super) woke: bool,
}

impl Gather {
    pub(crate) fn hold(&mut self) {
        if !self.yielded {
            self.held = true;
        }
    }

    /// The pump is about to wait: true if it must yield instead (the held output is
    /// written on the next poll).
    fn take_yield(&mut self) -> bool {
        let held = std::mem::take(&mut self.held);
        self.yielded |= held;
        self.woke = held;
        held
    }
}

/// What one core step produced.
pub(crate) enum Pumped<E> {
    Event(E),
    /// The connection is over (cleanly).
    End,
}

impl<IO: AsyncRead + AsyncWrite + Unpin, P: Protocol> Driver<IO, P> {
    /// Polls the connection until the protocol has an event (or the connection ends).
    /// `read_paused`: the application holds too much unread input; do not read now.
    pub(crate) fn poll_pump(
        &mut self,
        cx: &mut Context<'_>,
        read_paused: bool,
    ) -> Poll<Result<Pumped<P::Event>, Error>> {
        self.gather.woke = false;
        if self.ended {
            return Poll::Ready(Ok(Pumped::End));
        }
        for _ in 0..WORK_BUDGET {
            match self.proto.next_step(&mut self.transport.preamble) {
                Step::Event(event) => return Poll::Ready(Ok(Pumped::Event(event))),
                Step::PingAck(super::keepalive::PAYLOAD) => {
                    self.keepalive.acked();
                    continue;
                }
                Step::PingAck(payload) => {
                    return Poll::Ready(Ok(Pumped::Event(P::pong(payload))));
                }
                Step::Closed(error) => {
                    // The core's last words (a GOAWAY, an error response) go out first.
                    self.closing = Some(error);
                }
                Step::Idle => {}
            }
            if let Some(error) = self.closing.take() {
                if self.poll_close(cx)?.is_pending() {
                    self.closing = Some(error);
                    return Poll::Pending;
                }
                self.ended = true;
                return Poll::Ready(error.map_or(Ok(Pumped::End), Err));
            }
            if self.proto.is_closed() {
                self.closing = Some(None);
                continue;
            }
            if self.shutdown_signal() {
                // The core may have closed or queued a GOAWAY: look again.
                continue;
            }
            if !self.gather.held && self.poll_write(cx)?.1 {
                // A flush may have made `Sent` events due: look again.
                continue;
            }
            if !read_paused && self.poll_read(cx)?.is_ready() {
                continue;
            }
            if self.poll_timer(cx)?.is_ready() {
                continue;
            }
            // About to wait: be woken by a shutdown request, and act on one that came in
            // meanwhile (registered here rather than on every step: the lock costs).
            self.shutdown.register(cx);
            if self.shutdown_signal() {
                continue;
            }
            if self.gather.take_yield() {
                // Output held back: let the runnable tasks hand over theirs, then write.
                cx.waker().wake_by_ref();
            }
            return Poll::Pending;
        }
        // Work budget spent: let other tasks run, and come back at once.
        self.gather.take_yield();
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// After an HTTP/1.1 upgrade: writes and flushes what is queued (the `101` or the 2xx),
    /// then takes the octets received past the boundary.
    pub(crate) async fn flush_and_take_upgraded(&mut self) -> Result<bytes::BytesMut, Error> {
        std::future::poll_fn(|cx| match self.poll_write(cx) {
            Err(e) => Poll::Ready(Err(e)),
            Ok((Poll::Ready(()), _)) => Poll::Ready(Ok(())),
            Ok((Poll::Pending, _)) => Poll::Pending,
        })
        .await?;
        self.proto
            .take_upgraded()
            .ok_or_else(|| Error::with(Kind::Misuse, "not an upgraded HTTP/1.1 connection"))
    }

    /// Writes queued output: `Ready` once everything is written and flushed, and whether
    /// anything was written or flushed.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Result<(Poll<()>, bool), Error> {
        match self.poll_write_inner(cx) {
            Err(e) if is_hang_up(&e) => {
                // The peer hung up: nothing more can be written. Treat it as the end of input
                // and let the protocol decide whether that was orderly (nothing in flight).
                self.transport.write_closed = true;
                if !self.transport.read_closed {
                    self.transport.read_closed = true;
                    self.proto.handle_eof(super::now());
                }
                Ok((Poll::Ready(()), true))
            }
            other => other,
        }
    }

    fn poll_write_inner(&mut self, cx: &mut Context<'_>) -> Result<(Poll<()>, bool), Error> {
        let mut progress = false;
        if self.transport.write_closed {
            return Ok((Poll::Ready(()), false));
        }
        // Octets that precede the core's output (the 101 of an h2c upgrade).
        while !self.transport.preamble.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &self.transport.preamble) {
                Poll::Pending => return Ok((Poll::Pending, progress)),
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Ready(Ok(0)) => {
                    return Err(Error::with(
                        Kind::Io,
                        std::io::Error::from(std::io::ErrorKind::WriteZero),
                    ));
                }
                Poll::Ready(Ok(n)) => {
                    let _ = self.transport.preamble.split_to(n);
                    self.bytes_out += n as u64;
                    self.transport.needs_flush = true;
                    progress = true;
                }
            }
        }
        // Checked first: filling the slice array costs more than the check, and most
        // polls find nothing (more) to write.
        while self.proto.has_output() {
            // On the stack: no allocation per write.
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let filled = self.proto.output(&mut slices);
            if filled == 0 {
                break;
            }
            let n = match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..filled]) {
                Poll::Pending => return Ok((Poll::Pending, progress)),
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Ready(Ok(0)) => {
                    return Err(Error::with(
                        Kind::Io,
                        std::io::Error::from(std::io::ErrorKind::WriteZero),
                    ));
                }
                Poll::Ready(Ok(n)) => n,
            };
            self.bytes_out += n as u64;
            self.proto.advance_written(n);
            self.transport.needs_flush = true;
            self.gather.yielded = false;
            progress = true;
        }
        if self.transport.needs_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Pending => return Ok((Poll::Pending, progress)),
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Ready(Ok(())) => {
                    self.transport.needs_flush = false;
                    self.proto.on_flushed();
                    progress = true;
                }
            }
        }
        Ok((Poll::Ready(()), progress))
    }

    /// Closes the transport without losing the last output: write and flush it, send FIN,
    /// then read and discard input until the peer closes, for at most [`LINGER_TIME`] and
    /// [`LINGER_BYTES`]. Closing a socket with unread input makes the kernel send RST, and an
    /// RST can destroy the GOAWAY or error response still on its way to the peer.
    ///
    /// After an abrupt shutdown nothing is waited for: what the transport takes at once is
    /// written, then the connection ends (a peer that never reads cannot hold it open).
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Result<Poll<()>, Error> {
        if self.transport.hard_close {
            let _ = self.poll_write(cx);
            if !self.transport.write_closed {
                let _ = Pin::new(&mut self.io).poll_shutdown(cx);
                self.transport.write_closed = true;
            }
            return Ok(Poll::Ready(()));
        }
        if self.poll_write(cx)?.0.is_pending() {
            return Ok(Poll::Pending);
        }
        let t = &mut self.transport;
        if !t.write_closed {
            if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() {
                return Ok(Poll::Pending);
            }
            t.write_closed = true;
            let deadline = tokio::time::Instant::now() + LINGER_TIME;
            t.timer.as_mut().reset(deadline);
            t.linger_left = LINGER_BYTES;
        }
        while !t.read_closed && t.linger_left > 0 {
            let io = &mut self.io;
            let read = super::with_read_buf(|scratch| {
                let mut buf = ReadBuf::new(scratch);
                Pin::new(io)
                    .poll_read(cx, &mut buf)
                    .map(|r| r.map(|()| buf.filled().len()))
            });
            match read {
                Poll::Ready(Ok(n)) if n > 0 => {
                    t.linger_left = t.linger_left.saturating_sub(n);
                }
                // EOF, or an error: nothing more to protect.
                Poll::Ready(_) => t.read_closed = true,
                Poll::Pending => {
                    if t.timer.as_mut().poll(cx).is_ready() {
                        return Ok(Poll::Ready(()));
                    }
                    return Ok(Poll::Pending);
                }
            }
        }
        Ok(Poll::Ready(()))
    }

    /// Reads once if the core wants input; `Ready` if something was read (or EOF).
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Result<Poll<()>, Error> {
        if self.transport.read_closed || !self.proto.wants_read() {
            return Ok(Poll::Pending);
        }
        let direct = if self.transport.bulk {
            self.proto.direct_input()
        } else {
            None
        };
        if let Some(input) = direct {
            // Streaming, inside a frame: read straight into the core's input, no copy.
            let room = input.capacity() - input.len();
            return match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, input) {
                Poll::Pending => Ok(Poll::Pending),
                Poll::Ready(Err(e)) => Err(e.into()),
                Poll::Ready(Ok(0)) => {
                    self.read_ended(super::now());
                    Ok(Poll::Ready(()))
                }
                Poll::Ready(Ok(n)) => {
                    let now = super::now();
                    self.read_some(n, n == room, now);
                    self.proto.input_appended(now);
                    Ok(Poll::Ready(()))
                }
            };
        }
        super::with_read_buf(|scratch| {
            let mut buf = ReadBuf::new(scratch);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Pending => Ok(Poll::Pending),
                Poll::Ready(Err(e)) => Err(e.into()),
                Poll::Ready(Ok(())) => {
                    let now = super::now();
                    let filled = buf.filled();
                    if filled.is_empty() {
                        self.read_ended(now);
                    } else {
                        self.read_some(filled.len(), buf.remaining() == 0, now);
                        self.proto.handle_input(filled, now);
                    }
                    Ok(Poll::Ready(()))
                }
            }
        })
    }

    /// `n` octets came in (`full`: the read filled all the room it had).
    fn read_some(&mut self, n: usize, full: bool, now: std::time::Instant) {
        self.transport.bulk = full;
        self.bytes_in += n as u64;
        self.keepalive.activity(now);
        self.idle = IdleRelease::default();
    }

    /// The transport's read side ended.
    fn read_ended(&mut self, now: std::time::Instant) {
        self.transport.read_closed = true;
        if self.proto.handle_eof(now) {
            self.ended = true;
        }
    }

    /// Arms the one timer for the nearest deadline; `Ready` if one fired.
    ///
    /// Reached only when nothing more can be done now (no event, output written or the
    /// transport full, nothing to read), so it also arms the idle release: a connection
    /// that waits `RELEASE_AFTER` with no input gives its buffers back
    /// (`Protocol::release_idle`). Not at once: a keep-alive connection between two
    /// requests would free and allocate them again every time.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Result<Poll<()>, Error> {
        if !self.idle.released && self.idle.at.is_none() {
            self.idle.at = Some(super::now() + RELEASE_AFTER);
        }
        let deadline = [
            self.proto.next_deadline(),
            self.keepalive.deadline(),
            self.idle.at,
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(deadline) = deadline else {
            return Ok(Poll::Pending);
        };
        let at = tokio::time::Instant::from_std(deadline);
        let timer = &mut self.transport.timer;
        // Re-armed only for an earlier deadline: most moves are later ones (every request
        // pushes the keep-alive deadline on), and re-arming tokio's timer each time was a
        // fortieth of a small keep-alive exchange. A timer that fires before the deadline
        // it now stands for finds nothing due below, and the next call arms it again.
        if at < timer.deadline() || timer.is_elapsed() {
            timer.as_mut().reset(at);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Ok(Poll::Pending);
        }
        let now = super::now();
        if self.idle.at.is_some_and(|at| at <= now) {
            // Not idle (a stream still open, say): try again after the next wait.
            self.idle = IdleRelease {
                at: None,
                released: self.proto.release_idle(),
            };
        }
        match self.keepalive.on_timer(now) {
            super::keepalive::Action::Ping(payload) => {
                // Fails only once the connection is closing, when no probe is needed.
                let _ = self.proto.ping(payload);
            }
            super::keepalive::Action::Dead => return Err(Error::new(Kind::Timeout)),
            super::keepalive::Action::None => {}
        }
        self.proto.handle_timeout(now)?;
        Ok(Poll::Ready(()))
    }

    /// Acts on a shutdown asked for through a [`ShutdownHandle`](crate::ShutdownHandle);
    /// true if it started one now.
    fn shutdown_signal(&mut self) -> bool {
        if self.transport.hard_close {
            return false;
        }
        let requested = self.shutdown.is_requested();
        if self.shutdown.is_aborted() {
            self.abrupt_shutdown(pullhttp_proto::h2::ErrorCode::NO_ERROR);
            true
        } else if requested && !self.shutdown_seen {
            self.graceful_shutdown();
            true
        } else {
            false
        }
    }
}

/// True for write errors that mean the peer closed the connection.
fn is_hang_up(e: &Error) -> bool {
    use std::error::Error as _;
    e.is_io()
        && e.source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::BrokenPipe
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted
                )
            })
}
