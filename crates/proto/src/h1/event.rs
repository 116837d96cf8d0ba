//! What an HTTP/1 connection reports.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, request, response};

use super::error::ParseError;
use super::head::Upgrade;
use crate::RequestKey;

/// Something that happened on the connection, taken with
/// [`Connection::next_event`](super::Connection::next_event).
///
/// Heads are boxed: an event is then a few words, and the queues, the driver and the
/// application's futures move it without copying a head of about 250 octets at each step
/// (that copying was about a tenth of a small HTTP/2 exchange's instructions).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Server: a request head. Its body follows as `Data`/`Trailers` unless `end_stream`.
    Request {
        /// The key to answer it with.
        key: RequestKey,
        /// The head; with `Config::preserve_header_case`, its extensions hold the fields'
        /// original case and order ([`HeaderCase`](super::HeaderCase)).
        head: Box<request::Parts>,
        /// No body follows.
        end_stream: bool,
        /// The client sent `Expect: 100-continue` and waits: answer with
        /// [`send_continue`](super::Connection::send_continue) (what the pull API does when
        /// the body is first read) or a final response.
        expect_continue: bool,
        /// An upgrade or CONNECT was asked for. Nothing after this request is parsed until
        /// the response: a 101 (or a 2xx to CONNECT) hands the connection over.
        upgrade: Option<Upgrade>,
    },
    /// Client: the final response head.
    Response {
        /// The request's key.
        key: RequestKey,
        /// The head (with [`HeaderCase`](super::HeaderCase) when
        /// `Config::preserve_header_case` is set).
        head: Box<response::Parts>,
        /// No body follows.
        end_stream: bool,
    },
    /// Client: an informational (1xx) response other than 101.
    Informational {
        /// The request's key.
        key: RequestKey,
        /// The head.
        head: Box<response::Parts>,
    },
    /// Body data.
    Data {
        /// The exchange.
        key: RequestKey,
        /// The octets.
        data: Bytes,
        /// The body ends here.
        end_stream: bool,
    },
    /// Trailers, ending a chunked body.
    Trailers {
        /// The exchange.
        key: RequestKey,
        /// The fields.
        trailers: HeaderMap,
    },
    /// Body data was refused for lack of buffer room and there is room again.
    Writable {
        /// The exchange.
        key: RequestKey,
    },
    /// The last octet of our message was written and flushed.
    Sent {
        /// The exchange.
        key: RequestKey,
    },
    /// The connection passed an upgrade boundary (a 101, or a 2xx to CONNECT): it speaks
    /// HTTP no more. Write the remaining output, then take the octets already received past
    /// the boundary with [`take_upgraded`](super::Connection::take_upgraded).
    Upgraded {
        /// The exchange that upgraded.
        key: RequestKey,
    },
    /// The connection is over. Reported once, last; write what output remains, then close.
    Closed {
        /// `None` for an orderly close.
        error: Option<ConnectionError>,
    },
}

/// Why an HTTP/1 connection ended with an error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The peer sent an invalid message; a server answered with its status first.
    Peer(ParseError),
    /// A request head did not arrive in time (a server answered 408).
    HeadTimeout,
    /// Our message could not be completed (the application ended it short of its
    /// `Content-Length`, or closed the connection mid-message).
    Aborted,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionError::Peer(e) => write!(f, "peer error: {e}"),
            ConnectionError::HeadTimeout => f.write_str("request head timed out"),
            ConnectionError::Aborted => f.write_str("message aborted"),
        }
    }
}

impl std::error::Error for ConnectionError {}
