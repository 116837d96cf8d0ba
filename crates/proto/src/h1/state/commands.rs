//! The application's commands on an HTTP/1 connection: they validate, move the exchange's
//! write state (rule-numbered in the parent module) and queue octets.

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, EXPECT, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version, request, response};

use super::{Connection, Exchange, Expect, Read, Write};
use crate::h1::body::Encoder;
use crate::h1::error::Misuse;
use crate::h1::event::Event;
use crate::h1::head::{HeaderCase, Upgrade, has_connection_token};
use crate::h1::write;
use crate::output::Marker;
use crate::{RequestKey, Role};

impl Connection {
    fn index(&self, key: RequestKey) -> Result<usize, Misuse> {
        if key.connection() != self.id {
            return Err(Misuse::ForeignKey);
        }
        if self.closed {
            return Err(Misuse::Closing);
        }
        self.exchanges
            .iter()
            .position(|e| e.seq == key.id())
            .ok_or(Misuse::UnknownExchange)
    }

    /// The exchange whose output goes straight to the queue.
    fn writer(&self) -> Option<usize> {
        self.exchanges
            .iter()
            .position(|e| e.write != Write::Done || !e.pending.is_empty())
    }

    /// Queues octets of exchange `index`: to the output if it is the writer, else to its
    /// own buffer (rule 1).
    fn emit(&mut self, index: usize, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if self.writer() == Some(index) {
            self.out.push_payload(bytes);
        } else {
            self.exchanges[index].pending.push_back(bytes);
        }
    }

    /// Octets queued for exchange `index` (its share of the send buffer).
    fn queued(&self, index: usize) -> usize {
        if self.writer() == Some(index) {
            self.out.len()
        } else {
            self.exchanges[index].pending.iter().map(Bytes::len).sum()
        }
    }

    /// Our message on exchange `index` is complete (rule 7).
    fn finish_message(&mut self, index: usize) {
        let ex = &mut self.exchanges[index];
        ex.write = Write::Done;
        let seq = ex.seq;
        if ex.pending.is_empty() && self.writer().is_none_or(|w| w > index) {
            self.out.mark(Marker::End(seq));
        }
        if self.config.role == Role::Server && !self.exchanges[index].read_done {
            self.early_response(index);
        }
        self.maybe_complete();
    }

    /// Rule 4: the response is complete but the request body is not.
    fn early_response(&mut self, index: usize) {
        let seq = self.exchanges[index].seq;
        let reading = matches!(&self.read, Read::Body { seq: s, .. } if *s == seq);
        self.exchanges[index].read_done = true;
        if !reading {
            return;
        }
        let Read::Body { decoder, .. } = std::mem::replace(&mut self.read, Read::Done) else {
            return;
        };
        if self.keep_alive {
            self.drain_deadline = Some(self.now + self.config.drain_timeout);
            self.read = Read::Drain {
                decoder,
                budget: self.config.drain_limit,
            };
        }
    }

    // ----- server -----

    /// Server: sends the final response head. Framing follows from the head: its
    /// `Content-Length` if set; none for 204, 304 and responses to HEAD; `content-length: 0`
    /// with `end_stream`; otherwise chunked (HTTP/1.1 clients) or until close (HTTP/1.0).
    /// A 101 (to an upgrade request) or a 2xx to CONNECT is the upgrade boundary. A head
    /// whose framing leaves no body (`content-length: 0`, 204, 304, HEAD) completes the
    /// response by itself.
    pub fn send_response(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
        end_stream: bool,
    ) -> Result<(), Misuse> {
        if self.config.role != Role::Server {
            return Err(Misuse::WrongRole);
        }
        let index = self.index(key)?;
        let ex = &self.exchanges[index];
        if ex.write != Write::Head {
            return Err(Misuse::InvalidState("response already sent"));
        }
        let status = head.status;
        let upgrading = (status == StatusCode::SWITCHING_PROTOCOLS
            && matches!(ex.upgrade, Some(Upgrade::Protocol(_) | Upgrade::H2c(_))))
            || (ex.method == Method::CONNECT && status.is_success());
        if status.is_informational() && !upgrading {
            return Err(Misuse::InvalidState("use send_informational for 1xx"));
        }
        let no_body = upgrading
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
            || ex.method == Method::HEAD;
        let user_length = head
            .headers
            .get(CONTENT_LENGTH)
            .map(parse_length)
            .transpose()?;
        let user_chunked = head.headers.get(TRANSFER_ENCODING).is_some();
        let mut extra: Vec<(&'static str, HeaderValue)> = Vec::new();
        let encoder = if no_body {
            Encoder::Empty
        } else if let Some(n) = user_length {
            Encoder::Length(n)
        } else if user_chunked {
            Encoder::Chunked
        } else if end_stream {
            extra.push(("content-length", HeaderValue::from_static("0")));
            Encoder::Length(0)
        } else if ex.version == Version::HTTP_11 {
            extra.push(("transfer-encoding", HeaderValue::from_static("chunked")));
            Encoder::Chunked
        } else {
            self.keep_alive = false;
            Encoder::Close
        };
        // Rule 4: a request body left unread that cannot be drained closes the connection.
        if !ex.read_done && !upgrading {
            let fits = match &self.read {
                Read::Body { seq, decoder } if *seq == ex.seq => decoder
                    .remaining()
                    .is_some_and(|r| r <= self.config.drain_limit),
                _ => true,
            };
            self.keep_alive &= fits;
        }
        let keep_alive = self.keep_alive && ex.keep_alive && !upgrading;
        if !keep_alive && !upgrading && !has_connection_token(&head.headers, b"close") {
            extra.push(("connection", HeaderValue::from_static("close")));
        } else if keep_alive
            && ex.version == Version::HTTP_10
            && !head.headers.contains_key(CONNECTION)
        {
            extra.push(("connection", HeaderValue::from_static("keep-alive")));
        }
        if let Some(date) = self
            .date
            .clone()
            .filter(|_| !head.headers.contains_key(DATE))
        {
            extra.push(("date", date));
        }
        let mut buf = BytesMut::new();
        write::response_head(
            status,
            &head.headers,
            head.extensions.get::<HeaderCase>(),
            &extra,
            &mut buf,
        );
        self.emit(index, buf.freeze());
        if upgrading {
            self.exchanges[index].read_done = true;
            self.exchanges[index].write = Write::Done;
            let seq = self.exchanges[index].seq;
            self.out.mark(Marker::End(seq));
            self.read = Read::Upgraded;
            self.events.push_back(Event::Upgraded { key });
            return Ok(());
        }
        if matches!(self.read, Read::Boundary) && !self.closed {
            // Rule 5: the upgrade was declined; HTTP resumes after this response.
            self.read = Read::Head;
        }
        self.exchanges[index].write = Write::Body(encoder);
        if end_stream || encoder == Encoder::Empty || encoder == Encoder::Length(0) {
            self.finish_message(index);
        }
        Ok(())
    }

    /// Server: sends an informational response (100, 103...; not 101) to an HTTP/1.1 client.
    pub fn send_informational(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
    ) -> Result<(), Misuse> {
        if self.config.role != Role::Server {
            return Err(Misuse::WrongRole);
        }
        let index = self.index(key)?;
        let ex = &self.exchanges[index];
        if !head.status.is_informational() || head.status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(Misuse::InvalidHead("not an informational status"));
        }
        if ex.write != Write::Head || ex.version != Version::HTTP_11 {
            return Err(Misuse::InvalidState("no informational response possible"));
        }
        let mut buf = BytesMut::new();
        write::response_head(
            head.status,
            &head.headers,
            head.extensions.get::<HeaderCase>(),
            &[],
            &mut buf,
        );
        self.emit(index, buf.freeze());
        Ok(())
    }

    /// Server: answers `Expect: 100-continue` with 100 Continue (rule 6).
    pub fn send_continue(&mut self, key: RequestKey) -> Result<(), Misuse> {
        let head = response::Response::builder()
            .status(StatusCode::CONTINUE)
            .body(())
            .map_err(|_| Misuse::InvalidHead("100"))?;
        self.send_informational(key, &head.into_parts().0)
    }

    /// Server: ends the connection gracefully: the current response (if its head is not yet
    /// written) carries `Connection: close`; an idle connection closes at once.
    pub fn graceful_shutdown(&mut self) {
        self.keep_alive = false;
        if self.exchanges.is_empty() {
            self.close(None);
        }
    }

    // ----- client -----

    /// Client: sends a request head. The target is written as the URI gives it; `Host` is
    /// the caller's, or derived from the URI when absent (empty when the URI has no
    /// authority). Framing: the head's `Content-Length`, else none with `end_stream` (or
    /// `content-length: 0` for methods that usually carry a body), else chunked. A head with
    /// `content-length: 0` completes the request by itself.
    pub fn send_request(
        &mut self,
        head: &request::Parts,
        end_stream: bool,
    ) -> Result<RequestKey, Misuse> {
        if self.config.role != Role::Client {
            return Err(Misuse::WrongRole);
        }
        if self.closed || !self.keep_alive || matches!(self.read, Read::Upgraded | Read::Done) {
            return Err(Misuse::Closing);
        }
        if self.exchanges.len() >= self.config.pipeline_depth.max(1) {
            return Err(Misuse::Busy);
        }
        let mut extra: Vec<(&'static str, HeaderValue)> = Vec::new();
        if !head.headers.contains_key(HOST) {
            let host = head.uri.authority().map_or("", |a| a.as_str());
            let value = HeaderValue::from_str(host).map_err(|_| Misuse::InvalidHead("host"))?;
            extra.push(("host", value));
        }
        let user_length = head
            .headers
            .get(CONTENT_LENGTH)
            .map(parse_length)
            .transpose()?;
        let encoder = if let Some(n) = user_length {
            Encoder::Length(n)
        } else if head.headers.contains_key(TRANSFER_ENCODING) {
            Encoder::Chunked
        } else if end_stream {
            if matches!(head.method, Method::POST | Method::PUT | Method::PATCH) {
                extra.push(("content-length", HeaderValue::from_static("0")));
            }
            Encoder::Length(0)
        } else {
            extra.push(("transfer-encoding", HeaderValue::from_static("chunked")));
            Encoder::Chunked
        };
        let upgrade = if head.method == Method::CONNECT {
            Some(Upgrade::Connect)
        } else {
            head.headers
                .get(http::header::UPGRADE)
                .map(|u| Upgrade::Protocol(u.clone()))
        };
        let expect = head
            .headers
            .get(EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let seq = self.next_seq;
        self.next_seq += 1;
        let version = if head.version == Version::HTTP_10 {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        self.exchanges.push_back(Exchange {
            seq,
            method: head.method.clone(),
            version,
            keep_alive: true,
            upgrade,
            expect: if expect && !end_stream {
                Expect::Waiting
            } else {
                Expect::None
            },
            write: Write::Body(encoder),
            pending: Default::default(),
            held: Default::default(),
            read_done: false,
            wants_writable: false,
        });
        self.idle_deadline = None;
        if expect && !end_stream {
            self.continue_deadline = Some(self.now + self.config.continue_timeout);
        }
        let index = self.exchanges.len() - 1;
        let mut buf = BytesMut::new();
        let case = head.extensions.get::<HeaderCase>();
        write::request_head(
            &head.method,
            &head.uri,
            version,
            &head.headers,
            case,
            &extra,
            &mut buf,
        );
        self.emit(index, buf.freeze());
        if end_stream || encoder == Encoder::Length(0) {
            self.finish_message(index);
        }
        Ok(self.key(seq))
    }

    /// Client: the 100 came (or its wait timed out): send the held body (rule 6).
    pub(super) fn release_held(&mut self) {
        self.continue_deadline = None;
        let Some(index) = self
            .exchanges
            .iter()
            .position(|e| e.expect == Expect::Waiting)
        else {
            return;
        };
        self.exchanges[index].expect = Expect::None;
        let held: Vec<(Bytes, bool)> = self.exchanges[index].held.drain(..).collect();
        let key = self.key(self.exchanges[index].seq);
        for (data, end) in held {
            let _ = self.send_data(key, data, end);
        }
    }

    // ----- both -----

    /// Queues body data; returns how much was accepted (bounded by `max_send_buffer`; retry
    /// the rest after [`Event::Writable`]). `end_stream` applies only if all was accepted.
    pub fn send_data(
        &mut self,
        key: RequestKey,
        data: Bytes,
        end_stream: bool,
    ) -> Result<usize, Misuse> {
        let index = self.index(key)?;
        let room = self
            .config
            .max_send_buffer
            .saturating_sub(self.queued(index));
        let ex = &mut self.exchanges[index];
        let Write::Body(mut encoder) = ex.write else {
            return Err(Misuse::InvalidState("no body can be sent now"));
        };
        let accepted = data.len().min(room);
        let data = data.slice(..accepted);
        let ends = end_stream && accepted == data.len();
        if ex.expect == Expect::Waiting {
            ex.held.push_back((data, ends));
            return Ok(accepted);
        }
        if accepted < data.len() {
            ex.wants_writable = true;
        }
        let mut framing = BytesMut::new();
        encoder
            .frame(&data, &mut framing)
            .map_err(Misuse::InvalidState)?;
        if ends {
            let mut check = BytesMut::new();
            encoder
                .finish(None, &mut check)
                .map_err(Misuse::InvalidState)?;
        }
        let after = encoder.after(&data);
        self.exchanges[index].write = Write::Body(encoder);
        self.emit(index, framing.freeze());
        self.emit(index, data);
        self.emit(index, Bytes::from_static(after));
        if ends {
            let mut tail = BytesMut::new();
            // Checked above that finishing is valid.
            let _ = encoder.finish(None, &mut tail);
            self.emit(index, tail.freeze());
            if encoder == Encoder::Close {
                self.keep_alive = false;
            }
            self.finish_message(index);
        }
        Ok(accepted)
    }

    /// Ends a chunked message with trailers.
    pub fn send_trailers(&mut self, key: RequestKey, trailers: HeaderMap) -> Result<(), Misuse> {
        let index = self.index(key)?;
        let ex = &self.exchanges[index];
        if ex.write != Write::Body(Encoder::Chunked) || ex.expect == Expect::Waiting {
            return Err(Misuse::InvalidState(
                "trailers need a chunked body in progress",
            ));
        }
        let mut tail = BytesMut::new();
        Encoder::Chunked
            .finish(Some(&trailers), &mut tail)
            .map_err(Misuse::InvalidState)?;
        self.emit(index, tail.freeze());
        self.finish_message(index);
        Ok(())
    }

    /// Closes the connection now (an exchange in progress is cut short).
    pub fn abort(&mut self) {
        let error = (!self.exchanges.is_empty()).then_some(crate::h1::ConnectionError::Aborted);
        self.close(error);
    }
}

fn parse_length(value: &HeaderValue) -> Result<u64, Misuse> {
    let s = value
        .to_str()
        .map_err(|_| Misuse::InvalidHead("content-length"))?;
    s.trim()
        .parse()
        .map_err(|_| Misuse::InvalidHead("content-length"))
}
