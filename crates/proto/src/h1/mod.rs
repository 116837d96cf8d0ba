//! HTTP/1.1 (RFC 9112, with the semantics of RFC 9110): the connection state machine for
//! both roles ([`Connection`]), head parsing and writing, and body framing. No IO.
//!
//! Modules: `head` (parsing and the framing a head implies), `body` (decoding and encoding
//! bodies), `write` (serialising heads), `state` (every transition of a connection, in one
//! file), `error`.

mod body;
mod config;
mod error;
mod event;
mod head;
mod state;
mod write;

pub use config::Config;
pub use error::{Misuse, ParseError};
pub use event::{ConnectionError, Event};
pub use head::{HeaderCase, Upgrade};
pub use state::Connection;

/// Entry points for fuzzing and property tests (reached through `crate::__private`).
pub(crate) mod fuzzing {
    use bytes::BytesMut;

    use super::body::{ChunkLimits, Decoded, Decoder};
    use super::head::{self, Framing, Limits};
    use super::{Config, ParseError};

    fn limits() -> Limits {
        let c = Config::server();
        Limits {
            max_head: c.max_head_size,
            max_headers: c.max_headers,
            max_target: c.max_target_len,
            keep_case: c.preserve_header_case,
        }
    }

    pub(crate) fn parse_request(buf: &[u8]) -> Result<Option<usize>, ParseError> {
        Ok(head::parse_request(buf, limits(), &mut Default::default())?.map(|(_, n)| n))
    }

    pub(crate) fn parse_response(buf: &[u8]) -> Result<Option<usize>, ParseError> {
        Ok(
            head::parse_response(buf, limits(), &http::Method::GET, &mut Default::default())?
                .map(|(_, n)| n),
        )
    }

    pub(crate) fn decode_chunked(src: &[u8], piece: usize) -> Result<(Vec<u8>, bool), ParseError> {
        let c = Config::server();
        let limits = ChunkLimits {
            max_extensions: c.max_chunk_extensions,
            max_trailers: c.max_trailer_size,
            max_trailer_fields: c.max_headers,
        };
        let mut decoder = Decoder::new(Framing::Chunked, limits);
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for part in src.chunks(piece.max(1)) {
            buf.extend_from_slice(part);
            loop {
                match decoder.decode(&mut buf)? {
                    Decoded::Data(d) => body.extend_from_slice(&d),
                    Decoded::End(_) => return Ok((body, true)),
                    Decoded::NeedMore => break,
                }
            }
        }
        Ok((body, false))
    }
}
