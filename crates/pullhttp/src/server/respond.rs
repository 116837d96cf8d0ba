//! The sending handles: [`Responder`] (response head, informational responses, push
//! promises, reset, upgrade), [`SendBody`] (the body, bounded by the send buffer) and
//! [`Finished`] (the response has been written and flushed). They only push ops into the
//! mailbox and wait on their stream's slot; the driver does the rest.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes};
use http::{HeaderMap, Request, Response, StatusCode};
use pullhttp_proto::RequestKey;
use pullhttp_proto::h2::{ErrorCode, StreamId};

use super::Tunnel;
use super::recv_body::RecvBody;
use crate::error::{Error, Kind};
use crate::mailbox::{Mailbox, Op, SEND_HIGH_WATER, Slot, SlotKey, TunnelKind};

pub(crate) fn reset_error(code: ErrorCode) -> Error {
    Error::reset(code, false)
}

/// Asks the driver to reset `key` (a closed mailbox means the stream is gone anyway).
fn send_reset(mailbox: &Mailbox, key: SlotKey, code: ErrorCode) {
    let _ = mailbox.push(Op::Reset { key, code });
}

/// Waits for `key`'s reset, parking with `park`.
fn poll_reset(
    mailbox: &Mailbox,
    key: SlotKey,
    cx: &mut Context<'_>,
    what: &str,
    park: impl FnOnce(&mut Slot, Waker),
) -> Poll<Result<ErrorCode, Error>> {
    mailbox.poll_slot(key, cx, what, |s| s.reset, park)
}

/// Answers one request: the response head, informational responses, push promises, a
/// reset, or an upgrade.
#[derive(Debug)]
pub struct Responder {
    key: RequestKey,
    mailbox: Arc<Mailbox>,
    /// A response head was sent; dropping the responder before that resets the stream.
    answered: bool,
}

impl Responder {
    pub(super) fn new(key: RequestKey, mailbox: Arc<Mailbox>) -> Self {
        Responder {
            key,
            mailbox,
            answered: false,
        }
    }

    /// The request's key (the HTTP/2 stream id, or the HTTP/1 sequence number).
    pub fn key(&self) -> RequestKey {
        self.key
    }

    fn slot(&self) -> SlotKey {
        self.key.into()
    }

    /// The request asks for an upgrade or a tunnel (HTTP/1.1 `Upgrade`, CONNECT in either
    /// version): [`upgrade`](Self::upgrade) can accept it.
    pub fn can_upgrade(&self) -> bool {
        self.mailbox
            .lock()
            .slots
            .get(&self.slot())
            .is_some_and(|s| s.tunnel.is_some())
    }

    /// The HTTP/2 stream id (`None` for HTTP/1.1 exchanges).
    pub fn stream_id(&self) -> Option<StreamId> {
        let h2 = self
            .mailbox
            .lock()
            .slots
            .get(&self.slot())
            .is_some_and(|s| s.h2);
        let id = u32::try_from(self.key.id()).ok()?;
        h2.then(|| StreamId::new(id))
    }

    /// Sends the response head; the body follows on the returned [`SendBody`] unless
    /// `end_stream`.
    pub fn send_response(
        &mut self,
        response: Response<()>,
        end_stream: bool,
    ) -> Result<SendBody, Error> {
        let head = response.into_parts().0;
        self.answered = true;
        self.mailbox.push(Op::Response {
            key: self.slot(),
            head,
            end_stream,
        })?;
        Ok(SendBody::new(self.slot(), self.mailbox.clone()))
    }

    /// Sends a whole response, pumping its body (data, then trailers) through the send
    /// buffer, and waits until it has been written and flushed. A body whose size hint is
    /// exact gets a `Content-Length` unless the response has one. Runs in the caller's task:
    /// nothing is spawned. A body error resets the stream (INTERNAL_ERROR) and is returned.
    pub async fn send_response_with<B>(&mut self, response: Response<B>) -> Result<(), Error>
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut head, body) = response.into_parts();
        let mut body = pin!(body);
        let end = body.is_end_stream();
        // A body of known length is framed by it (HTTP/1.1: no chunked encoding).
        let no_body_status = head.status == StatusCode::NO_CONTENT
            || head.status == StatusCode::NOT_MODIFIED
            || head.status.is_informational();
        if let (Some(n), false, false) = (
            body.size_hint().exact(),
            no_body_status,
            head.headers.contains_key(http::header::CONTENT_LENGTH),
        ) {
            head.headers
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(n));
        }
        let mut send = self.send_response(Response::from_parts(head, ()), end)?;
        if end {
            return send.finished().await;
        }
        loop {
            match poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
                None => return send.finish()?.await,
                Some(Err(e)) => {
                    send.send_reset(ErrorCode::INTERNAL_ERROR);
                    return Err(Error::with(Kind::Body, e));
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(mut data) => {
                        let data = data.copy_to_bytes(data.remaining());
                        if !data.is_empty() {
                            send.write(data).await?;
                        }
                    }
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            return send.send_trailers(trailers)?.await;
                        }
                    }
                },
            }
        }
    }

    /// Sends an informational (1xx) response.
    pub fn send_informational(&mut self, response: Response<()>) -> Result<(), Error> {
        let head = response.into_parts().0;
        self.mailbox.push(Op::Informational {
            key: self.slot(),
            head,
        })
    }

    /// HTTP/2: promises a pushed response to `request` (a `GET` or `HEAD` with an absolute
    /// URI, so it has an authority) on this stream, and returns the [`Responder`] of the
    /// pushed exchange. Fails with `Misuse` when the client disabled pushes, the connection
    /// is closing, the request is not pushable, or on HTTP/1.1.
    pub async fn push_request(&mut self, request: Request<()>) -> Result<Responder, Error> {
        let head = request.into_parts().0;
        {
            let mut state = self.mailbox.lock();
            if let Some(slot) = state.slots.get_mut(&self.slot()) {
                slot.push_reply = None;
            }
        }
        self.mailbox.push(Op::Push {
            parent: self.key,
            head,
        })?;
        let key = poll_fn(|cx| {
            self.mailbox.poll_slot(
                self.slot(),
                cx,
                "Responder",
                |s| s.push_reply.take(),
                |s, w| s.responder_waker = Some(w),
            )
        })
        .await??;
        Ok(Responder::new(key, self.mailbox.clone()))
    }

    /// Resets the stream (HTTP/2) or closes the connection (HTTP/1).
    pub fn send_reset(&mut self, code: ErrorCode) {
        send_reset(&self.mailbox, self.slot(), code);
    }

    /// Resolves when the stream is reset (by the peer, or because the connection ended),
    /// with its code.
    pub fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Result<ErrorCode, Error>> {
        poll_reset(&self.mailbox, self.slot(), cx, "Responder", |s, w| {
            s.responder_waker = Some(w);
        })
    }

    /// The stream was reset: its code.
    pub async fn cancelled(&mut self) -> Result<ErrorCode, Error> {
        poll_fn(|cx| self.poll_reset(cx)).await
    }

    /// Accepts an upgrade and returns the tunnel. HTTP/1.1 `Upgrade` (answer `101`) or
    /// CONNECT (answer 2xx): the response is written, then the transport is handed over
    /// with the octets already read ([`Tunnel::into_transport`]); the connection serves no
    /// more requests. HTTP/2 CONNECT or extended CONNECT (answer 2xx): the stream becomes
    /// the tunnel, bounded by flow control and the send buffer, still driven by the
    /// connection. Do not read the request's body yourself: its octets are the tunnel's.
    ///
    /// Errors: `Misuse` for a request that asks for no upgrade or a status that grants
    /// none; `StreamReset` if the stream or connection ended first.
    pub async fn upgrade(mut self, response: Response<()>) -> Result<Tunnel, Error> {
        let kind = self
            .mailbox
            .lock()
            .slots
            .get(&self.slot())
            .and_then(|s| s.tunnel);
        let status = response.status();
        match kind {
            None => Err(Error::with(
                Kind::Misuse,
                "the request asked for no upgrade or tunnel",
            )),
            Some(TunnelKind::Stream) if status.is_success() => {
                let send = self.send_response(response, false)?;
                self.mailbox.add_handle(self.slot());
                let recv = RecvBody::for_tunnel(self.slot(), self.mailbox.clone());
                Ok(Tunnel::stream(recv, send))
            }
            Some(TunnelKind::Transport)
                if status == StatusCode::SWITCHING_PROTOCOLS || status.is_success() =>
            {
                self.send_response(response, false)?;
                poll_fn(|cx| {
                    self.mailbox.poll_slot(
                        self.slot(),
                        cx,
                        "Responder",
                        |s| {
                            if let Some(tunnel) = s.upgraded.take() {
                                return Some(Ok(tunnel));
                            }
                            s.reset.map(|code| Err(reset_error(code)))
                        },
                        |s, w| s.responder_waker = Some(w),
                    )
                })
                .await?
            }
            Some(_) => Err(Error::with(
                Kind::Misuse,
                format!("status {status} does not accept an upgrade"),
            )),
        }
    }
}

/// The response body being sent.
///
/// Data waits in a per-stream buffer of the mailbox (at most 256 KiB counted by
/// [`capacity`](Self::capacity)) until the connection takes it, which it does as its own
/// send buffer and the peer's flow-control windows allow.
#[derive(Debug)]
pub struct SendBody {
    key: SlotKey,
    mailbox: Arc<Mailbox>,
    reserved: usize,
}

impl SendBody {
    pub(crate) fn new(key: SlotKey, mailbox: Arc<Mailbox>) -> Self {
        mailbox.add_handle(key);
        SendBody {
            key,
            mailbox,
            reserved: 0,
        }
    }

    /// Asks [`poll_capacity`](Self::poll_capacity) to wait until at least `n` octets (at
    /// most the buffer's size) can be queued, instead of any room at all.
    pub fn reserve_capacity(&mut self, n: usize) {
        self.reserved = n.min(SEND_HIGH_WATER);
    }

    /// Octets that can be queued now without exceeding the buffer.
    pub fn capacity(&self) -> usize {
        let state = self.mailbox.lock();
        state
            .slots
            .get(&self.key)
            .map_or(0, |s| SEND_HIGH_WATER.saturating_sub(s.queued_out))
    }

    /// Waits for room (at least the reserved amount), returning it. A reset stream is an
    /// error.
    pub fn poll_capacity(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize, Error>> {
        let want = self.reserved.max(1);
        self.mailbox
            .poll_slot(
                self.key,
                cx,
                "SendBody",
                |s| {
                    if let Some(code) = s.reset {
                        return Some(Err(code));
                    }
                    let room = SEND_HIGH_WATER.saturating_sub(s.queued_out);
                    (room >= want).then_some(Ok(room))
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

    /// Ends the body with trailers; the returned future resolves once they are sent.
    pub fn send_trailers(&mut self, trailers: HeaderMap) -> Result<Finished, Error> {
        self.mailbox.push(Op::Trailers {
            key: self.key,
            trailers,
        })?;
        Ok(self.finished())
    }

    /// Ends the body; the returned future resolves once the response's last octet is
    /// written and flushed.
    pub fn finish(&mut self) -> Result<Finished, Error> {
        self.send_data(Bytes::new(), true)?;
        Ok(self.finished())
    }

    /// The response's end, for a response sent with `end_stream`.
    pub(super) fn finished(&self) -> Finished {
        self.mailbox.add_handle(self.key);
        Finished {
            key: self.key,
            mailbox: self.mailbox.clone(),
        }
    }

    /// Resets the stream.
    pub fn send_reset(&mut self, code: ErrorCode) {
        send_reset(&self.mailbox, self.key, code);
    }

    /// Resolves when the stream is reset, with its code.
    pub fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Result<ErrorCode, Error>> {
        poll_reset(&self.mailbox, self.key, cx, "SendBody", |s, w| {
            s.send_waker = Some(w);
        })
    }

    /// Octets handed to the driver and not yet taken by the connection.
    pub(super) fn poll_drained(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.mailbox
            .poll_slot(
                self.key,
                cx,
                "SendBody",
                |s| {
                    if let Some(code) = s.reset {
                        return Some(Err(reset_error(code)));
                    }
                    (s.queued_out == 0).then_some(Ok(()))
                },
                |s, w| s.send_waker = Some(w),
            )
            .map(|r| r.and_then(|r| r))
    }
}

/// Resolves when the response has been sent: its last octet written and flushed.
#[derive(Debug)]
#[must_use = "a Finished does nothing unless awaited"]
pub struct Finished {
    key: SlotKey,
    mailbox: Arc<Mailbox>,
}

impl Future for Finished {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.mailbox
            .poll_slot(
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

macro_rules! drop_handle {
    ($($t:ty),*) => {$(
        impl Drop for $t {
            fn drop(&mut self) {
                self.mailbox.drop_handle(self.key);
            }
        }
    )*};
}

drop_handle!(SendBody, Finished);

/// A responder dropped without answering resets its stream (HTTP/2 CANCEL; HTTP/1.1
/// closes the connection), so the client is not left waiting.
impl Drop for Responder {
    fn drop(&mut self) {
        if !self.answered {
            send_reset(&self.mailbox, self.slot(), ErrorCode::CANCEL);
        }
        self.mailbox.drop_handle(self.slot());
    }
}
