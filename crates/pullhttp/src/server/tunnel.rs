//! [`Tunnel`]: the byte stream an accepted upgrade becomes, as `AsyncRead + AsyncWrite`.
//!
//! Two shapes behind one type: an HTTP/1.1 upgrade or CONNECT hands over the transport
//! itself (boxed, with the octets read past the response; [`Tunnel::into_transport`] gives
//! back the concrete type), while an HTTP/2 CONNECT or extended CONNECT stream stays inside
//! its connection: reads take the stream's DATA (credited back as taken) and writes queue
//! DATA through the stream's send buffer, so both directions are bounded by flow control and
//! the buffer, and the connection's driver moves them (nothing is spawned).

use std::any::Any;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{RecvBody, SendBody};
use crate::upgrade::Upgraded;

/// A transport that can be handed over in a [`Tunnel`].
trait Io: AsyncRead + AsyncWrite + Send + Unpin + Any {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + Any> Io for T {}

enum Inner {
    Transport { io: Box<dyn Io>, read_buf: BytesMut },
    Stream(StreamParts),
}

/// An HTTP/2 stream tunnel's state.
struct StreamParts {
    recv: RecvBody,
    send: SendBody,
    /// Data taken from the stream, not yet read.
    pending: Bytes,
    /// Our side ended (END_STREAM queued).
    shut: bool,
}

/// An accepted upgrade or tunnel: read and write the new protocol's octets.
///
/// From an HTTP/1.1 upgrade it is the connection's transport; from HTTP/2 CONNECT it is one
/// stream of a connection that keeps serving others (keep its [`Acceptor`](super::Acceptor)
/// driven). `poll_flush` on a stream tunnel resolves once the connection has taken every
/// queued octet (it writes them in the same driver turn); `poll_shutdown` ends our side of
/// the stream (END_STREAM).
pub struct Tunnel {
    inner: Inner,
}

/// Dropping an HTTP/2 stream tunnel whose side was not shut down resets the stream
/// (CANCEL), so the peer does not wait for octets that will never come. A tunnel shut down
/// on our side just goes: whatever the peer still sends is credited back and dropped until
/// it ends its side (resetting there would fail a peer still finishing, say, a WebSocket
/// closing handshake).
impl Drop for StreamParts {
    fn drop(&mut self) {
        if !self.shut {
            self.send.send_reset(pullhttp_proto::h2::ErrorCode::CANCEL);
        }
    }
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Transport { read_buf, .. } => f
                .debug_struct("Tunnel::Transport")
                .field("read_buf", &read_buf.len())
                .finish_non_exhaustive(),
            Inner::Stream(StreamParts { recv, .. }) => f
                .debug_struct("Tunnel::Stream")
                .field("recv", recv)
                .finish_non_exhaustive(),
        }
    }
}

impl Tunnel {
    pub(super) fn transport<IO: AsyncRead + AsyncWrite + Send + Unpin + 'static>(
        upgraded: Upgraded<IO>,
    ) -> Self {
        Tunnel {
            inner: Inner::Transport {
                io: Box::new(upgraded.io),
                read_buf: upgraded.read_buf,
            },
        }
    }

    pub(crate) fn stream(recv: RecvBody, send: SendBody) -> Self {
        Tunnel {
            inner: Inner::Stream(StreamParts {
                recv,
                send,
                pending: Bytes::new(),
                shut: false,
            }),
        }
    }

    /// True for an HTTP/2 stream tunnel, false for a handed-over transport.
    pub fn is_stream(&self) -> bool {
        matches!(self.inner, Inner::Stream(StreamParts { .. }))
    }

    /// The handed-over transport as its concrete type, with the octets read past the
    /// upgrade response that were not yet read from this tunnel. `Err(self)` for a stream
    /// tunnel or another transport type.
    pub fn into_transport<IO: 'static>(self) -> Result<Upgraded<IO>, Self> {
        match self.inner {
            Inner::Transport { io, read_buf } if (&*io as &dyn Any).is::<IO>() => {
                let io: Box<dyn Any> = io;
                match io.downcast::<IO>() {
                    Ok(io) => Ok(Upgraded { io: *io, read_buf }),
                    Err(_) => unreachable!("type checked just above"),
                }
            }
            inner => Err(Tunnel { inner }),
        }
    }
}

fn to_io(e: crate::Error) -> io::Error {
    io::Error::other(e)
}

impl AsyncRead for Tunnel {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Transport { io, read_buf } => {
                if !read_buf.is_empty() {
                    let n = read_buf.len().min(buf.remaining());
                    buf.put_slice(&read_buf.split_to(n));
                    return Poll::Ready(Ok(()));
                }
                Pin::new(io).poll_read(cx, buf)
            }
            Inner::Stream(StreamParts { recv, pending, .. }) => {
                while pending.is_empty() {
                    match ready!(http_body::Body::poll_frame(Pin::new(&mut *recv), cx)) {
                        None => return Poll::Ready(Ok(())),
                        Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
                        Some(Ok(frame)) => {
                            // Trailers end a tunnel like the end of data.
                            match frame.into_data() {
                                Ok(data) => *pending = data,
                                Err(_) => return Poll::Ready(Ok(())),
                            }
                        }
                    }
                }
                let n = pending.len().min(buf.remaining());
                buf.put_slice(&pending[..n]);
                pending.advance(n);
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl AsyncWrite for Tunnel {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Transport { io, .. } => Pin::new(io).poll_write(cx, buf),
            Inner::Stream(StreamParts { send, shut, .. }) => {
                if *shut {
                    return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
                }
                if buf.is_empty() {
                    return Poll::Ready(Ok(0));
                }
                let room = ready!(send.poll_capacity(cx)).map_err(to_io)?;
                let n = room.min(buf.len());
                send.send_data(Bytes::copy_from_slice(&buf[..n]), false)
                    .map_err(to_io)?;
                Poll::Ready(Ok(n))
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Transport { io, .. } => Pin::new(io).poll_flush(cx),
            Inner::Stream(StreamParts { send, .. }) => send.poll_drained(cx).map_err(to_io),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Transport { io, .. } => Pin::new(io).poll_shutdown(cx),
            Inner::Stream(StreamParts { send, shut, .. }) => {
                if !*shut {
                    send.send_data(Bytes::new(), true).map_err(to_io)?;
                    *shut = true;
                }
                send.poll_drained(cx).map_err(to_io)
            }
        }
    }
}
