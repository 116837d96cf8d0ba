//! The receiving handle: [`RecvBody`], a request body as an [`http_body::Body`], and its
//! manual [`FlowControl`]. Data taken from the body is credited back to the client (HTTP/2
//! WINDOW_UPDATE) unless flow control was made manual.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::Frame;

use super::respond::reset_error;
use crate::error::Error;
use crate::mailbox::{Mailbox, Op, SlotKey, TunnelKind};

/// A request body, as an [`http_body::Body`]. Data is credited back to the client as it is
/// taken (or by [`FlowControl::release_capacity`] after [`RecvBody::flow_control`]).
#[derive(Debug)]
pub struct RecvBody {
    key: SlotKey,
    mailbox: Arc<Mailbox>,
    auto_release: bool,
    /// This handle reads an HTTP/2 tunnel (the request's own body handle then no longer
    /// owns the data).
    tunnel: bool,
}

impl RecvBody {
    /// A handle on `key`'s body; the slot already counts it.
    pub(crate) fn new(key: SlotKey, mailbox: Arc<Mailbox>) -> Self {
        RecvBody {
            key,
            mailbox,
            auto_release: true,
            tunnel: false,
        }
    }

    /// The body handle of an HTTP/2 tunnel; the slot already counts it.
    pub(super) fn for_tunnel(key: SlotKey, mailbox: Arc<Mailbox>) -> Self {
        if let Some(slot) = mailbox.lock().slots.get_mut(&key) {
            slot.tunnel_taken = true;
        }
        RecvBody {
            key,
            mailbox,
            auto_release: true,
            tunnel: true,
        }
    }

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

    /// The trailers, once the data is consumed (remaining data is read and dropped).
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
        self.mailbox.add_handle(self.key);
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
        let polled = this.mailbox.poll_slot(
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

impl Drop for RecvBody {
    fn drop(&mut self) {
        // Nobody will read the rest: data never taken, and whatever still arrives, goes
        // back to the client's window at once (the driver discards later data).
        let unread: usize = {
            let mut state = self.mailbox.lock();
            state.slots.get_mut(&self.key).map_or(0, |s| {
                // The octets of an HTTP/2 CONNECT stream belong to its tunnel, even one made
                // after the request's own body handle is dropped.
                let tunnel_pending = s.tunnel == Some(TunnelKind::Stream) && !s.tunnel_taken;
                if s.tunnel_taken != self.tunnel || tunnel_pending {
                    return 0;
                }
                s.discard_body = true;
                let n = s.data.iter().map(Bytes::len).sum();
                s.data.clear();
                n
            })
        };
        if unread > 0 {
            let _ = self.mailbox.push(Op::Release {
                key: self.key,
                n: unread,
            });
        }
        self.mailbox.drop_handle(self.key);
    }
}

/// Manual flow control of one request body.
#[derive(Debug)]
pub struct FlowControl {
    key: SlotKey,
    mailbox: Arc<Mailbox>,
}

impl FlowControl {
    /// Credits `n` consumed octets back to the client (HTTP/2).
    pub fn release_capacity(&mut self, n: usize) -> Result<(), Error> {
        self.mailbox.push(Op::Release { key: self.key, n })
    }
}

impl Drop for FlowControl {
    fn drop(&mut self) {
        self.mailbox.drop_handle(self.key);
    }
}
