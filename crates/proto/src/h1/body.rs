//! Message bodies (RFC 9112 §6, §7): the decoder that turns received octets into body data
//! (by length, chunked, or until close) and the encoder that frames outgoing data.
//!
//! Chunked decoding rules (§7.1): the size is 1 to 16 hex digits (no `0x`, sign or leading
//! whitespace) with checked arithmetic; whitespace before a `;` extension only; chunk
//! extensions count against a per-message limit; every framing line ends with CRLF (or a
//! lone LF, the same decision as for heads, see `head`); chunk data is followed by exactly
//! CRLF; the last chunk is `0` followed by a trailer section within its size and field-count
//! limits. Incomplete input is a normal result; data is handed out as zero-copy slices of
//! the input.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::HeaderMap;

use super::error::ParseError;
use super::head::Framing;

/// Limits on chunked framing metadata.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChunkLimits {
    pub(crate) max_extensions: usize,
    pub(crate) max_trailers: usize,
    pub(crate) max_trailer_fields: usize,
}

/// What the decoder produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// Body data.
    Data(Bytes),
    /// The body ended (with trailers, for chunked bodies that carried some).
    End(Option<HeaderMap>),
    /// More input is needed.
    NeedMore,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// Reading a chunk-size line.
    Size,
    /// Inside chunk data: octets left.
    Data(u64),
    /// After chunk data: the CRLF.
    DataEnd,
    /// After the last chunk: the trailer section.
    Trailers,
    Done,
}

/// A body decoder for one message.
#[derive(Debug)]
pub(crate) struct Decoder {
    kind: Kind,
    limits: ChunkLimits,
}

#[derive(Debug)]
enum Kind {
    Length(u64),
    Chunked { state: Chunk, ext_seen: usize },
    Close,
    Done,
}

impl Decoder {
    pub(crate) fn new(framing: Framing, limits: ChunkLimits) -> Self {
        let kind = match framing {
            Framing::Empty => Kind::Done,
            Framing::Length(n) => Kind::Length(n),
            Framing::Chunked => Kind::Chunked {
                state: Chunk::Size,
                ext_seen: 0,
            },
            Framing::Close => Kind::Close,
        };
        Decoder { kind, limits }
    }

    /// True once the body has ended.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.kind, Kind::Done)
    }

    /// Octets still expected, when known.
    pub(crate) fn remaining(&self) -> Option<u64> {
        match self.kind {
            Kind::Length(n) => Some(n),
            Kind::Done => Some(0),
            _ => None,
        }
    }

    /// Takes the next piece of the body from the front of `src`.
    pub(crate) fn decode(&mut self, src: &mut BytesMut) -> Result<Decoded, ParseError> {
        match &mut self.kind {
            Kind::Done => Ok(Decoded::End(None)),
            Kind::Length(0) => {
                self.kind = Kind::Done;
                Ok(Decoded::End(None))
            }
            Kind::Length(n) => {
                if src.is_empty() {
                    return Ok(Decoded::NeedMore);
                }
                let take = usize::try_from(*n).unwrap_or(usize::MAX).min(src.len());
                *n -= take as u64;
                Ok(Decoded::Data(src.split_to(take).freeze()))
            }
            Kind::Close => {
                if src.is_empty() {
                    return Ok(Decoded::NeedMore);
                }
                Ok(Decoded::Data(src.split().freeze()))
            }
            Kind::Chunked { .. } => self.decode_chunked(src),
        }
    }

    /// The transport closed: a close-delimited body ends here; any other unfinished body is
    /// incomplete.
    pub(crate) fn decode_eof(&mut self) -> Result<Decoded, ParseError> {
        match self.kind {
            Kind::Close | Kind::Done => {
                self.kind = Kind::Done;
                Ok(Decoded::End(None))
            }
            _ => Err(ParseError::IncompleteMessage),
        }
    }

    fn decode_chunked(&mut self, src: &mut BytesMut) -> Result<Decoded, ParseError> {
        let limits = self.limits;
        let Kind::Chunked { state, ext_seen } = &mut self.kind else {
            return Ok(Decoded::NeedMore);
        };
        loop {
            match *state {
                Chunk::Size => {
                    let Some(line_end) = src.iter().position(|&b| b == b'\n') else {
                        // A size line longer than 16 digits plus the extension budget
                        // cannot be valid.
                        if src.len() > 16 + limits.max_extensions.saturating_sub(*ext_seen) + 2 {
                            return Err(ParseError::ChunkExtensionsTooLarge);
                        }
                        return Ok(Decoded::NeedMore);
                    };
                    let (size, ext_len) = parse_size_line(&src[..line_end])?;
                    *ext_seen += ext_len;
                    if *ext_seen > limits.max_extensions {
                        return Err(ParseError::ChunkExtensionsTooLarge);
                    }
                    src.advance(line_end + 1);
                    *state = if size == 0 {
                        Chunk::Trailers
                    } else {
                        Chunk::Data(size)
                    };
                }
                Chunk::Data(n) => {
                    if src.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let take = usize::try_from(n).unwrap_or(usize::MAX).min(src.len());
                    let left = n - take as u64;
                    *state = if left == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left)
                    };
                    return Ok(Decoded::Data(src.split_to(take).freeze()));
                }
                Chunk::DataEnd => match src.first() {
                    None => return Ok(Decoded::NeedMore),
                    Some(b'\n') => {
                        src.advance(1);
                        *state = Chunk::Size;
                    }
                    Some(b'\r') => match src.get(1) {
                        None => return Ok(Decoded::NeedMore),
                        Some(b'\n') => {
                            src.advance(2);
                            *state = Chunk::Size;
                        }
                        Some(_) => {
                            return Err(ParseError::InvalidChunk("bare CR after chunk data"));
                        }
                    },
                    Some(_) => {
                        return Err(ParseError::InvalidChunk("chunk data longer than its size"));
                    }
                },
                Chunk::Trailers => {
                    let Some(end) = trailer_end(src) else {
                        if src.len() > limits.max_trailers {
                            return Err(ParseError::TrailersTooLarge);
                        }
                        return Ok(Decoded::NeedMore);
                    };
                    if end > limits.max_trailers {
                        return Err(ParseError::TrailersTooLarge);
                    }
                    let section = src.split_to(end).freeze();
                    *state = Chunk::Done;
                    self.kind = Kind::Done;
                    let trailers = parse_trailers(&section, limits.max_trailer_fields)?;
                    return Ok(Decoded::End(trailers));
                }
                Chunk::Done => return Ok(Decoded::End(None)),
            }
        }
    }
}

/// Parses `chunk-size [ chunk-ext ]` (without the LF); returns the size and the octets of
/// extensions.
fn parse_size_line(line: &[u8]) -> Result<(u64, usize), ParseError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.contains(&b'\r') {
        return Err(ParseError::InvalidChunk("bare CR in chunk-size line"));
    }
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ParseError::InvalidChunk("chunk size is not hex digits"));
    }
    if digits > 16 {
        return Err(ParseError::InvalidChunk("chunk size longer than 16 digits"));
    }
    let size = line[..digits].iter().try_fold(0u64, |n, &d| {
        let v = u64::from((d as char).to_digit(16).unwrap_or(0));
        n.checked_mul(16)?.checked_add(v)
    });
    let size = size.ok_or(ParseError::InvalidChunk("chunk size overflows"))?;
    let rest = &line[digits..];
    let after_ws = rest
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(rest.len());
    match rest.get(after_ws) {
        None if after_ws == 0 => Ok((size, 0)),
        Some(b';') => {
            let ext = &rest[after_ws..];
            if ext.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(ParseError::InvalidChunk(
                    "control character in chunk extension",
                ));
            }
            Ok((size, ext.len()))
        }
        _ => Err(ParseError::InvalidChunk(
            "unexpected octet after chunk size",
        )),
    }
}

/// The length of a trailer section including its final empty line, if complete.
fn trailer_end(src: &[u8]) -> Option<usize> {
    if src.starts_with(b"\r\n") {
        return Some(2);
    }
    if src.starts_with(b"\n") {
        return Some(1);
    }
    let crlf = src.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = src.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn parse_trailers(section: &Bytes, max_fields: usize) -> Result<Option<HeaderMap>, ParseError> {
    if section.len() <= 2 {
        return Ok(None);
    }
    if section.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') {
        return Err(ParseError::Malformed("bare CR in trailers"));
    }
    let mut storage = vec![httparse::EMPTY_HEADER; max_fields];
    match httparse::parse_headers(section, &mut storage) {
        Ok(httparse::Status::Complete((_, fields))) => {
            let mut map = HeaderMap::new();
            for f in fields {
                if f.value
                    .iter()
                    .any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
                {
                    return Err(ParseError::Malformed("control character in trailer"));
                }
                let name = http::HeaderName::from_bytes(f.name.as_bytes())
                    .map_err(|_| ParseError::Malformed("invalid trailer name"))?;
                let value = http::HeaderValue::from_bytes(f.value)
                    .map_err(|_| ParseError::Malformed("invalid trailer value"))?;
                map.append(name, value);
            }
            Ok(Some(map))
        }
        Ok(httparse::Status::Partial) => Err(ParseError::Malformed("incomplete trailers")),
        Err(httparse::Error::TooManyHeaders) => Err(ParseError::TrailersTooLarge),
        Err(_) => Err(ParseError::Malformed("invalid trailer field")),
    }
}

/// Frames outgoing body data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoder {
    /// `Content-Length` octets left.
    Length(u64),
    /// Chunked.
    Chunked,
    /// Until close.
    Close,
    /// No body.
    Empty,
}

impl Encoder {
    /// Counts `len` octets of data against the framing; `Err` if they exceed
    /// `Content-Length` or the message has no body.
    pub(crate) fn count(&mut self, len: usize) -> Result<(), &'static str> {
        match self {
            Encoder::Length(n) => {
                let len = len as u64;
                if len > *n {
                    return Err("more data than Content-Length");
                }
                *n -= len;
                Ok(())
            }
            Encoder::Empty if len > 0 => Err("this response has no body"),
            Encoder::Chunked | Encoder::Close | Encoder::Empty => Ok(()),
        }
    }

    /// Writes what goes before `len` octets of data (a chunk's size line).
    pub(crate) fn write_before(&self, len: usize, dst: &mut BytesMut) {
        if *self == Encoder::Chunked && len > 0 {
            put_hex(len, dst);
            dst.put_slice(b"\r\n");
        }
    }

    /// The octets that follow `len` octets of data (CRLF for a chunk).
    pub(crate) fn after(&self, len: usize) -> &'static [u8] {
        if *self == Encoder::Chunked && len > 0 {
            b"\r\n"
        } else {
            b""
        }
    }

    /// Whether the body may end here (with `trailers`): `Err` when `Content-Length` is not
    /// reached or trailers cannot be sent.
    pub(crate) fn check_end(&self, trailers: Option<&HeaderMap>) -> Result<(), &'static str> {
        match self {
            Encoder::Chunked => Ok(()),
            _ if trailers.is_some_and(|t| !t.is_empty()) => Err("trailers need chunked framing"),
            Encoder::Length(n) if *n > 0 => Err("less data than Content-Length"),
            _ => Ok(()),
        }
    }

    /// Writes the end of the body (the last chunk and trailers), once
    /// [`check_end`](Self::check_end) allowed it.
    pub(crate) fn write_end(&self, trailers: Option<&HeaderMap>, dst: &mut BytesMut) {
        if *self != Encoder::Chunked {
            return;
        }
        dst.put_slice(b"0\r\n");
        for (name, value) in trailers.into_iter().flatten() {
            dst.put_slice(name.as_str().as_bytes());
            dst.put_slice(b": ");
            dst.put_slice(value.as_bytes());
            dst.put_slice(b"\r\n");
        }
        dst.put_slice(b"\r\n");
    }
}

/// Writes `n` in lowercase hexadecimal, without leading zeros.
fn put_hex(n: usize, dst: &mut BytesMut) {
    let digits = (usize::BITS - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        dst.put_u8(b"0123456789abcdef"[(n >> (4 * i)) & 0xf]);
    }
}

#[cfg(test)]
mod tests;
