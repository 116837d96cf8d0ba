//! # pullhttp-proto
//!
//! The sans-IO protocol core of pullhttp: HTTP/2 frames and HPACK today, the HTTP/2 and
//! HTTP/1.1 connection state machines as they land.
//!
//! This crate owns wire formats and protocol state. It must not know about sockets, async
//! runtimes, clocks, wakers or locks: bytes go in, events and bytes come out, and time is a
//! parameter. That rule is what lets the same core run under any driver and be tested
//! deterministically; it is enforced by the crate's dependencies (`bytes`, `http`, `httparse`
//! only) and by `#![forbid(unsafe_code)]`.
//!
//! Modules:
//! - [`h2`]: HTTP/2 (RFC 9113): [`h2::Connection`] (the connection state machine, server
//!   and client), [`h2::frame`] (frame codec and reader) and [`h2::hpack`] (RFC 7541 header
//!   compression).
//! - [`RequestKey`]: the handle matching a request to its response.

#![forbid(unsafe_code)]

mod arena;
pub mod h1;
pub mod h2;
mod key;
mod output;
mod role;

pub use key::{KeyHasher, KeyMap, KeySet, RequestKey};
pub use role::Role;

/// Internals for tests and fuzzing; not part of the API and not covered by semver.
#[doc(hidden)]
pub mod __private {
    /// Checks an HTTP/2 connection's internal invariants.
    pub fn h2_check_invariants(conn: &crate::h2::Connection) -> Result<(), String> {
        conn.check_invariants()
    }

    /// Parses an HTTP/1 request head with the default limits: the octets it took, if
    /// complete.
    pub fn h1_parse_request(buf: &[u8]) -> Result<Option<usize>, crate::h1::ParseError> {
        crate::h1::fuzzing::parse_request(buf)
    }

    /// Parses an HTTP/1 response head (to a GET) with the default limits.
    pub fn h1_parse_response(buf: &[u8]) -> Result<Option<usize>, crate::h1::ParseError> {
        crate::h1::fuzzing::parse_response(buf)
    }

    /// Decodes a chunked body from `src`, `piece` octets at a time: the body octets and
    /// whether the terminal chunk was seen.
    pub fn h1_decode_chunked(
        src: &[u8],
        piece: usize,
    ) -> Result<(Vec<u8>, bool), crate::h1::ParseError> {
        crate::h1::fuzzing::decode_chunked(src, piece)
    }
}
