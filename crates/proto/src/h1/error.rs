//! Errors of the HTTP/1 core: what the peer got wrong ([`ParseError`], each with the status a
//! server answers it with and its RFC section), and commands the application got wrong
//! ([`Misuse`]).

use std::fmt;

use http::StatusCode;

/// A message the peer sent that breaks RFC 9112 (or exceeds a limit of ours). After any of
/// these the connection answers (server role) and closes; it never reads on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The start line or a field line is not valid syntax: bad token, whitespace before the
    /// colon, obs-fold in a request, bare CR, NUL or another control character (§2.2, §3,
    /// §5).
    Malformed(&'static str),
    /// A version other than `HTTP/1.0` and `HTTP/1.1` (§2.3; 505).
    UnsupportedVersion,
    /// The request-target is longer than our limit (§3; 414).
    TargetTooLong,
    /// The head is larger than our limit (431).
    HeadTooLarge,
    /// More field lines than our limit (431).
    TooManyHeaders,
    /// An HTTP/1.1 request without exactly one `Host` (§3.2; 400).
    InvalidHost,
    /// `Content-Length` that is not `1*DIGIT`, overflows, or repeats with other values
    /// (§6.3; 400).
    InvalidContentLength,
    /// `Transfer-Encoding` together with `Content-Length` (§6.1; 400 and close).
    TransferEncodingWithContentLength,
    /// `Transfer-Encoding` in an HTTP/1.0 message (§6.1; 400).
    TransferEncodingOnHttp10,
    /// `chunked` twice, or not the final coding of a request (§6.1, §6.3; 400).
    InvalidTransferEncoding,
    /// A transfer coding we do not implement (only `chunked` is; RFC 9112 §6.1; 501).
    UnsupportedTransferCoding,
    /// A chunk-size line that is not 1 to 16 hex digits, or a bad framing line (§7.1; 400).
    InvalidChunk(&'static str),
    /// More chunk-extension octets in one message than our limit (§7.1.1; 400).
    ChunkExtensionsTooLarge,
    /// A trailer section over our size or field-count limit (§7.1.2; 431).
    TrailersTooLarge,
    /// An `Expect` other than `100-continue` (RFC 9110 §10.1.1; 417).
    UnsupportedExpectation,
    /// The connection closed inside a message (§8).
    IncompleteMessage,
}

impl ParseError {
    /// The status a server answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ParseError::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            ParseError::TargetTooLong => StatusCode::URI_TOO_LONG,
            ParseError::HeadTooLarge
            | ParseError::TooManyHeaders
            | ParseError::TrailersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ParseError::UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            ParseError::UnsupportedExpectation => StatusCode::EXPECTATION_FAILED,
            ParseError::Malformed(_)
            | ParseError::InvalidHost
            | ParseError::InvalidContentLength
            | ParseError::TransferEncodingWithContentLength
            | ParseError::TransferEncodingOnHttp10
            | ParseError::InvalidTransferEncoding
            | ParseError::InvalidChunk(_)
            | ParseError::ChunkExtensionsTooLarge
            | ParseError::IncompleteMessage => StatusCode::BAD_REQUEST,
        }
    }

    /// The section of RFC 9112 (or 9110) that states the rule.
    pub fn rfc_section(&self) -> &'static str {
        match self {
            ParseError::Malformed(_) => "RFC 9112 §2.2, §5",
            ParseError::UnsupportedVersion => "RFC 9112 §2.3",
            ParseError::TargetTooLong => "RFC 9112 §3",
            ParseError::HeadTooLarge | ParseError::TooManyHeaders => "RFC 6585 §5",
            ParseError::InvalidHost => "RFC 9112 §3.2",
            ParseError::InvalidContentLength => "RFC 9112 §6.3",
            ParseError::TransferEncodingWithContentLength
            | ParseError::TransferEncodingOnHttp10
            | ParseError::InvalidTransferEncoding
            | ParseError::UnsupportedTransferCoding => "RFC 9112 §6.1",
            ParseError::InvalidChunk(_) => "RFC 9112 §7.1",
            ParseError::ChunkExtensionsTooLarge => "RFC 9112 §7.1.1",
            ParseError::TrailersTooLarge => "RFC 9112 §7.1.2",
            ParseError::UnsupportedExpectation => "RFC 9110 §10.1.1",
            ParseError::IncompleteMessage => "RFC 9112 §8",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Malformed(what) => write!(f, "malformed message: {what}"),
            ParseError::UnsupportedVersion => f.write_str("unsupported HTTP version"),
            ParseError::TargetTooLong => f.write_str("request-target too long"),
            ParseError::HeadTooLarge => f.write_str("head too large"),
            ParseError::TooManyHeaders => f.write_str("too many header fields"),
            ParseError::InvalidHost => f.write_str("missing or repeated Host"),
            ParseError::InvalidContentLength => f.write_str("invalid Content-Length"),
            ParseError::TransferEncodingWithContentLength => {
                f.write_str("Transfer-Encoding with Content-Length")
            }
            ParseError::TransferEncodingOnHttp10 => f.write_str("Transfer-Encoding in HTTP/1.0"),
            ParseError::InvalidTransferEncoding => f.write_str("invalid Transfer-Encoding"),
            ParseError::UnsupportedTransferCoding => f.write_str("unsupported transfer coding"),
            ParseError::InvalidChunk(what) => write!(f, "invalid chunked framing: {what}"),
            ParseError::ChunkExtensionsTooLarge => f.write_str("chunk extensions too large"),
            ParseError::TrailersTooLarge => f.write_str("trailer section too large"),
            ParseError::UnsupportedExpectation => f.write_str("unsupported expectation"),
            ParseError::IncompleteMessage => f.write_str("connection closed inside a message"),
        }?;
        write!(f, " ({}, {})", self.rfc_section(), self.status().as_u16())
    }
}

impl std::error::Error for ParseError {}

/// A command the application should not have given; nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misuse {
    /// The key belongs to another connection.
    ForeignKey,
    /// No such exchange (finished, or never existed).
    UnknownExchange,
    /// The command is for the other role.
    WrongRole,
    /// Not possible in the exchange's state (e.g. a second response, data after the end,
    /// more data than `Content-Length`).
    InvalidState(&'static str),
    /// Client: an exchange is in flight and pipelining is off (or its depth is reached).
    Busy,
    /// The connection is closing or closed.
    Closing,
    /// The head cannot be written (e.g. an invalid header value for HTTP/1).
    InvalidHead(&'static str),
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::ForeignKey => f.write_str("key from another connection"),
            Misuse::UnknownExchange => f.write_str("no such exchange"),
            Misuse::WrongRole => f.write_str("command not available in this role"),
            Misuse::InvalidState(what) => write!(f, "invalid in the exchange's state: {what}"),
            Misuse::Busy => f.write_str("an exchange is in flight"),
            Misuse::Closing => f.write_str("connection is closing"),
            Misuse::InvalidHead(what) => write!(f, "head cannot be written: {what}"),
        }
    }
}

impl std::error::Error for Misuse {}
