//! What the connection reports: [`Event`]s, how a stream or the connection ended, and the
//! errors of commands the application got wrong ([`Misuse`]).

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, request, response};

use crate::RequestKey;
use crate::h2::message::MessageError;
use crate::h2::{ErrorCode, PeerError, StreamId};

/// Something that happened on the connection, taken with
/// [`Connection::next_event`](super::Connection::next_event).
///
/// Heads are boxed: an event is then a few words, and the queues, the driver and the
/// application's futures move it without copying a head of about 250 octets at each step
/// (that copying was about a tenth of a small HTTP/2 exchange's instructions).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The peer's first SETTINGS were applied: the connection is established.
    Connected,
    /// The peer sent SETTINGS (after the first); see
    /// [`peer_settings`](super::Connection::peer_settings).
    PeerSettings,
    /// Server: a new request.
    Request {
        /// The key to answer it with.
        key: RequestKey,
        /// The request head.
        head: Box<request::Parts>,
        /// No body follows.
        end_stream: bool,
    },
    /// Client: the final response to a request.
    Response {
        /// The request's key.
        key: RequestKey,
        /// The response head.
        head: Box<response::Parts>,
        /// No body follows.
        end_stream: bool,
    },
    /// Client: an informational (1xx) response; the final one follows.
    Informational {
        /// The request's key.
        key: RequestKey,
        /// The 1xx head.
        head: Box<response::Parts>,
    },
    /// Client: the server promised a pushed response (only with push enabled).
    PushPromise {
        /// The request the promise was made on.
        parent: RequestKey,
        /// The pushed exchange.
        key: RequestKey,
        /// The promised request.
        head: Box<request::Parts>,
    },
    /// Body data of the peer's message.
    Data {
        /// The exchange.
        key: RequestKey,
        /// The data (padding removed).
        data: Bytes,
        /// Last data of the message.
        end_stream: bool,
    },
    /// Trailers of the peer's message, which they end.
    Trailers {
        /// The exchange.
        key: RequestKey,
        /// The trailer fields.
        trailers: HeaderMap,
    },
    /// A stream whose send buffer was full has room again.
    Writable {
        /// The exchange.
        key: RequestKey,
    },
    /// The frame carrying END_STREAM of our message was written and flushed. Exactly one of
    /// `Sent` or `Reset` is reported per key.
    Sent {
        /// The exchange.
        key: RequestKey,
    },
    /// The stream was reset before our message was fully sent. Exactly one of `Sent` or
    /// `Reset` is reported per key; no more events follow for the key.
    Reset {
        /// The exchange.
        key: RequestKey,
        /// How and why.
        reset: StreamReset,
    },
    /// The peer's message was cut off by a reset after ours had been fully sent (`Sent`
    /// came first). No more events follow for the key.
    RecvReset {
        /// The exchange.
        key: RequestKey,
        /// How and why.
        reset: StreamReset,
    },
    /// The answer to one of our PINGs.
    PingAck {
        /// The payload we sent.
        payload: [u8; 8],
    },
    /// The peer is shutting the connection down: no new streams; ours above
    /// `last_stream_id` were refused (reported as retryable resets).
    GoAway {
        /// The last of our streams the peer may process.
        last_stream_id: StreamId,
        /// Why.
        code: ErrorCode,
        /// Diagnostic data.
        debug_data: Bytes,
    },
    /// The connection is over; nothing more will happen. Reported once, last.
    Closed {
        /// `None` after a clean shutdown.
        error: Option<ConnectionError>,
    },
}

/// Who reset a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initiator {
    /// We did: a command, or a stream error we detected.
    Local,
    /// The peer sent RST_STREAM, or refused the stream with GOAWAY.
    Peer,
}

/// How a stream was reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamReset {
    /// The RST_STREAM code (REFUSED_STREAM for streams refused by GOAWAY).
    pub code: ErrorCode,
    /// Who reset it.
    pub initiator: Initiator,
    /// The peer did not process the request: it is safe to retry (REFUSED_STREAM, or above
    /// a GOAWAY's last stream id; RFC 9113 §8.7).
    pub retryable: bool,
    /// The rule the peer broke, when we reset because of a stream error.
    pub cause: Option<PeerError>,
}

/// Why the connection ended with an error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The peer broke a rule; we sent GOAWAY with [`PeerError::code`].
    Peer(PeerError),
    /// The peer sent GOAWAY with an error code.
    Remote {
        /// The code.
        code: ErrorCode,
        /// Its diagnostic data.
        debug_data: Bytes,
    },
    /// We shut down abruptly with this code.
    Local(ErrorCode),
    /// The transport ended while streams were open or before the handshake completed.
    UnexpectedEof,
    /// The peer did not send its preface and SETTINGS in time.
    HandshakeTimeout,
    /// The graceful shutdown's drain deadline passed with streams still open.
    DrainTimeout,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionError::Peer(e) => write!(f, "peer error: {e}"),
            ConnectionError::Remote { code, .. } => write!(f, "peer sent GOAWAY with {code}"),
            ConnectionError::Local(code) => write!(f, "connection closed locally with {code}"),
            ConnectionError::UnexpectedEof => f.write_str("transport closed unexpectedly"),
            ConnectionError::HandshakeTimeout => f.write_str("HTTP/2 handshake timed out"),
            ConnectionError::DrainTimeout => f.write_str("graceful shutdown timed out"),
        }
    }
}

impl std::error::Error for ConnectionError {}

/// A command the application should not have given; nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misuse {
    /// The key belongs to another connection.
    ForeignKey,
    /// No such exchange on this connection (never existed, or already finished).
    UnknownStream,
    /// The command is for the other role (e.g. `send_request` on a server).
    WrongRole,
    /// The stream's state does not allow this (e.g. data after END_STREAM, a second
    /// response).
    InvalidState(&'static str),
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached; wait for a stream to close.
    StreamLimit,
    /// The connection is shutting down or closed: no new streams.
    Closing,
    /// The head cannot be expressed in HTTP/2.
    InvalidHead(MessageError),
    /// Server push is disabled by the peer, or the promised request is not safe and
    /// body-less (RFC 9113 §8.4).
    PushNotAllowed,
    /// Extended CONNECT needs the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
    ConnectProtocolDisabled,
    /// A SETTINGS value out of range.
    InvalidSetting,
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::ForeignKey => f.write_str("key from another connection"),
            Misuse::UnknownStream => f.write_str("no such exchange"),
            Misuse::WrongRole => f.write_str("command not available in this role"),
            Misuse::InvalidState(what) => write!(f, "invalid in the stream's state: {what}"),
            Misuse::StreamLimit => f.write_str("peer's concurrent stream limit reached"),
            Misuse::Closing => f.write_str("connection is closing"),
            Misuse::InvalidHead(e) => write!(f, "head not valid for HTTP/2: {e}"),
            Misuse::PushNotAllowed => f.write_str("server push not allowed"),
            Misuse::ConnectProtocolDisabled => f.write_str("peer did not enable extended CONNECT"),
            Misuse::InvalidSetting => f.write_str("SETTINGS value out of range"),
        }
    }
}

impl std::error::Error for Misuse {}
