//! [`Versioned`]: one HTTP/1.1 or HTTP/2 core, with every input, output and command both
//! roles use dispatched by version in one place. Each role wraps it (the server adds
//! detection, the client maps events); the cores themselves reject commands of the other
//! role. It must not know about IO, timers or the application.

use std::io::IoSlice;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, request, response};
use pullhttp_proto::h2::ErrorCode;
use pullhttp_proto::{RequestKey, h1, h2};

use crate::error::{Error, Kind};

/// The protocol core of a connection whose version is known.
#[derive(Debug)]
pub(crate) enum Versioned {
    H1(Box<h1::Connection>),
    H2(Box<h2::Connection>),
}

impl Versioned {
    pub(crate) fn version(&self) -> http::Version {
        match self {
            Versioned::H1(_) => http::Version::HTTP_11,
            Versioned::H2(_) => http::Version::HTTP_2,
        }
    }

    // ----- the driver's side -----

    pub(crate) fn handle_input(&mut self, data: &[u8], now: Instant) {
        match self {
            Versioned::H1(c) => c.handle_input(data, now),
            Versioned::H2(c) => c.handle_input(data, now),
        }
    }

    pub(crate) fn handle_eof(&mut self, now: Instant) {
        match self {
            Versioned::H1(c) => c.handle_eof(now),
            Versioned::H2(c) => c.handle_eof(now),
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        match self {
            Versioned::H1(c) => c.handle_timeout(now),
            Versioned::H2(c) => c.handle_timeout(now),
        }
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match self {
            Versioned::H1(c) => c.next_deadline(),
            Versioned::H2(c) => c.next_deadline(),
        }
    }

    pub(crate) fn release_idle(&mut self) -> bool {
        match self {
            Versioned::H1(c) => c.release_idle(),
            Versioned::H2(c) => c.release_idle(),
        }
    }

    pub(crate) fn wants_read(&self) -> bool {
        match self {
            Versioned::H1(c) => c.wants_read(),
            Versioned::H2(c) => c.wants_read(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Versioned::H1(c) => c.is_closed(),
            Versioned::H2(c) => c.is_closed(),
        }
    }

    /// Fills `slices` from the front with the output waiting; returns how many it filled.
    pub(crate) fn output<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize {
        fn fill<'a>(slices: &mut [IoSlice<'a>], chunks: impl Iterator<Item = &'a [u8]>) -> usize {
            let mut n = 0;
            for (slot, chunk) in slices.iter_mut().zip(chunks) {
                *slot = IoSlice::new(chunk);
                n += 1;
            }
            n
        }
        match self {
            Versioned::H1(c) => fill(slices, c.output_chunks()),
            Versioned::H2(c) => fill(slices, c.output_chunks()),
        }
    }

    /// HTTP/2 inside an incomplete frame: the input buffer to read into directly.
    pub(crate) fn direct_input(&mut self) -> Option<&mut BytesMut> {
        match self {
            Versioned::H1(_) => None,
            Versioned::H2(c) => c.direct_input(),
        }
    }

    pub(crate) fn input_appended(&mut self, now: Instant) {
        if let Versioned::H2(c) = self {
            c.input_appended(now);
        }
    }

    /// Octets waiting to be written (HTTP/2: after generating the DATA that may go).
    pub(crate) fn output_len(&mut self) -> usize {
        match self {
            Versioned::H1(c) => c.output_len(),
            Versioned::H2(c) => c.output_len(),
        }
    }

    pub(crate) fn advance_written(&mut self, n: usize) {
        match self {
            Versioned::H1(c) => c.advance_written(n),
            Versioned::H2(c) => c.advance_written(n),
        }
    }

    pub(crate) fn on_flushed(&mut self) {
        match self {
            Versioned::H1(c) => c.on_flushed(),
            Versioned::H2(c) => c.on_flushed(),
        }
    }

    // ----- commands -----

    pub(crate) fn send_request(
        &mut self,
        head: &request::Parts,
        end_stream: bool,
    ) -> Result<RequestKey, Error> {
        match self {
            Versioned::H1(c) => Ok(c.send_request(head, end_stream)?),
            Versioned::H2(c) => Ok(c.send_request(head, end_stream)?),
        }
    }

    pub(crate) fn send_response(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
        end: bool,
    ) -> Result<(), Error> {
        match self {
            Versioned::H1(c) => Ok(c.send_response(key, head, end)?),
            Versioned::H2(c) => Ok(c.send_response(key, head, end)?),
        }
    }

    pub(crate) fn send_informational(
        &mut self,
        key: RequestKey,
        head: &response::Parts,
    ) -> Result<(), Error> {
        match self {
            Versioned::H1(c) => Ok(c.send_informational(key, head)?),
            Versioned::H2(c) => Ok(c.send_informational(key, head)?),
        }
    }

    /// HTTP/1.1 server: answers `Expect: 100-continue` (nothing to do on HTTP/2).
    pub(crate) fn send_continue(&mut self, key: RequestKey) -> Result<(), Error> {
        match self {
            Versioned::H1(c) => Ok(c.send_continue(key)?),
            Versioned::H2(_) => Ok(()),
        }
    }

    pub(crate) fn send_data(
        &mut self,
        key: RequestKey,
        data: Bytes,
        end: bool,
    ) -> Result<usize, Error> {
        match self {
            Versioned::H1(c) => Ok(c.send_data(key, data, end)?),
            Versioned::H2(c) => Ok(c.send_data(key, data, end)?),
        }
    }

    pub(crate) fn send_trailers(
        &mut self,
        key: RequestKey,
        trailers: HeaderMap,
    ) -> Result<(), Error> {
        match self {
            Versioned::H1(c) => Ok(c.send_trailers(key, trailers)?),
            Versioned::H2(c) => Ok(c.send_trailers(key, trailers)?),
        }
    }

    /// HTTP/2: RST_STREAM with `code`; HTTP/1: the connection is closed (there is no other
    /// way to abandon an exchange).
    pub(crate) fn reset(
        &mut self,
        key: RequestKey,
        code: ErrorCode,
        now: Instant,
    ) -> Result<(), Error> {
        match self {
            Versioned::H1(c) => {
                c.abort();
                Ok(())
            }
            Versioned::H2(c) => Ok(c.reset_stream(key, code, now)?),
        }
    }

    /// HTTP/2 manual flow control: the application took `n` octets of the key's body.
    pub(crate) fn release(&mut self, key: RequestKey, n: usize) {
        if let Versioned::H2(c) = self {
            let _ = c.release_capacity(key, u32::try_from(n).unwrap_or(u32::MAX));
        }
    }

    /// HTTP/2 server: promises a pushed response on the stream of `parent`.
    pub(crate) fn push_promise(
        &mut self,
        parent: RequestKey,
        head: &request::Parts,
    ) -> Result<RequestKey, Error> {
        match self {
            Versioned::H2(c) => Ok(c.push_promise(parent, head)?),
            Versioned::H1(_) => Err(Error::with(Kind::Misuse, "push promises need HTTP/2")),
        }
    }

    pub(crate) fn ping(&mut self, payload: [u8; 8]) -> Result<(), Error> {
        match self {
            Versioned::H2(c) => Ok(c.ping(payload)?),
            Versioned::H1(_) => Err(Error::with(Kind::Misuse, "PING needs HTTP/2")),
        }
    }

    pub(crate) fn graceful_shutdown(&mut self, now: Instant) {
        match self {
            Versioned::H1(c) => c.graceful_shutdown(),
            Versioned::H2(c) => c.graceful_shutdown(now),
        }
    }

    /// Ends the connection now: HTTP/2 GOAWAY with `code` and every stream reset; HTTP/1
    /// closes (an exchange in progress is cut short).
    pub(crate) fn abrupt_shutdown(&mut self, code: ErrorCode) {
        match self {
            Versioned::H1(c) => c.abort(),
            Versioned::H2(c) => c.abrupt_shutdown(code),
        }
    }

    /// After an HTTP/1.1 upgrade: the octets received past the boundary.
    pub(crate) fn take_upgraded(&mut self) -> Option<BytesMut> {
        match self {
            Versioned::H1(c) => Some(c.take_upgraded()),
            Versioned::H2(_) => None,
        }
    }

    // ----- state -----

    /// Open streams (HTTP/2) or exchanges in progress (HTTP/1).
    pub(crate) fn open_streams(&self) -> usize {
        match self {
            Versioned::H1(c) => c.in_flight(),
            Versioned::H2(c) => c.stream_count(),
        }
    }

    pub(crate) fn input_buffered(&self) -> usize {
        match self {
            Versioned::H1(c) => c.input_buffered(),
            Versioned::H2(c) => c.input_buffered(),
        }
    }
}
