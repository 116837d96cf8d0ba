//! The driver's public error, in hyper's shape: one boxed pointer, a [`Kind`] to match on,
//! `is_*` predicates, and the underlying cause as `source()`. The wording of messages is not
//! stable; match on the kind.

use std::fmt;

use pullhttp_proto::{h1, h2};

/// What went wrong, broadly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// Reading or writing the transport failed.
    Io,
    /// The peer broke the protocol (an HTTP/1 framing error, an HTTP/2 connection error).
    Protocol,
    /// The peer closed the connection in the middle of things.
    UnexpectedEof,
    /// A timeout fired (protocol detection, handshake, head read, PING keep-alive).
    Timeout,
    /// A command the application should not have given.
    Misuse,
    /// The connection is closed; nothing more can be done on it.
    Closed,
    /// A handle was used after its connection's driver (the `Acceptor`) was dropped.
    DriverGone,
    /// The stream was reset (HTTP/2 RST_STREAM, by the peer or a stream error).
    StreamReset,
    /// A body the application gave to be sent failed; its error is the source.
    Body,
}

struct ErrorImpl {
    kind: Kind,
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// A stream reset's code.
    code: Option<h2::ErrorCode>,
    /// The server did not process the request.
    retryable: bool,
}

/// An error of the pullhttp driver.
pub struct Error {
    inner: Box<ErrorImpl>,
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Self {
        Error {
            inner: Box::new(ErrorImpl {
                kind,
                cause: None,
                code: None,
                retryable: false,
            }),
        }
    }

    pub(crate) fn with(
        kind: Kind,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error {
            inner: Box::new(ErrorImpl {
                kind,
                cause: Some(cause.into()),
                code: None,
                retryable: false,
            }),
        }
    }

    /// A stream reset with `code`; `retryable` when the server did not process the request.
    pub(crate) fn reset(code: h2::ErrorCode, retryable: bool) -> Self {
        let mut e = Error::with(
            Kind::StreamReset,
            if retryable {
                format!("stream reset with {code}; the server did not process the request")
            } else {
                format!("stream reset with {code}")
            },
        );
        e.inner.code = Some(code);
        e.inner.retryable = retryable;
        e
    }

    /// The code of a stream reset (HTTP/2 RST_STREAM, or REFUSED_STREAM for a request a
    /// GOAWAY did not cover).
    pub fn reset_code(&self) -> Option<h2::ErrorCode> {
        self.inner.code
    }

    /// The server did not process the request (refused by GOAWAY or REFUSED_STREAM): it
    /// is safe to send it again, on this or another connection. Nothing is retried by the
    /// library.
    pub fn is_retryable(&self) -> bool {
        self.inner.retryable
    }

    /// The kind of error.
    pub fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// The transport failed.
    pub fn is_io(&self) -> bool {
        self.kind() == Kind::Io
    }

    /// The peer broke the protocol.
    pub fn is_protocol(&self) -> bool {
        self.kind() == Kind::Protocol
    }

    /// A timeout fired.
    pub fn is_timeout(&self) -> bool {
        self.kind() == Kind::Timeout
    }

    /// The application misused the API.
    pub fn is_misuse(&self) -> bool {
        self.kind() == Kind::Misuse
    }

    /// The connection is closed.
    pub fn is_closed(&self) -> bool {
        self.kind() == Kind::Closed
    }

    /// A handle outlived its connection's driver.
    pub fn is_driver_gone(&self) -> bool {
        self.kind() == Kind::DriverGone
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("pullhttp::Error");
        d.field(&self.inner.kind);
        if let Some(cause) = &self.inner.cause {
            d.field(cause);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.inner.kind {
            Kind::Io => "connection IO failed",
            Kind::Protocol => "protocol error",
            Kind::UnexpectedEof => "connection closed unexpectedly",
            Kind::Timeout => "timed out",
            Kind::Misuse => "invalid use of the connection",
            Kind::Closed => "connection closed",
            Kind::DriverGone => "the connection's driver is gone",
            Kind::StreamReset => "stream reset",
            Kind::Body => "the body being sent failed",
        };
        match &self.inner.cause {
            Some(cause) => write!(f, "{what}: {cause}"),
            None => f.write_str(what),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.cause.as_ref().map(|c| &**c as _)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::with(Kind::Io, e)
    }
}

impl From<h1::Misuse> for Error {
    fn from(e: h1::Misuse) -> Self {
        Error::with(Kind::Misuse, e)
    }
}

impl From<h2::Misuse> for Error {
    fn from(e: h2::Misuse) -> Self {
        Error::with(Kind::Misuse, e)
    }
}

impl From<h1::ConnectionError> for Error {
    fn from(e: h1::ConnectionError) -> Self {
        let kind = match e {
            h1::ConnectionError::HeadTimeout => Kind::Timeout,
            h1::ConnectionError::Peer(h1::ParseError::IncompleteMessage) => Kind::UnexpectedEof,
            _ => Kind::Protocol,
        };
        Error::with(kind, e)
    }
}

impl From<h2::ConnectionError> for Error {
    fn from(e: h2::ConnectionError) -> Self {
        let kind = match e {
            h2::ConnectionError::UnexpectedEof => Kind::UnexpectedEof,
            h2::ConnectionError::HandshakeTimeout | h2::ConnectionError::DrainTimeout => {
                Kind::Timeout
            }
            _ => Kind::Protocol,
        };
        Error::with(kind, e)
    }
}
