//! Message heads (RFC 9112 §2-§6): parsing requests and responses on `httparse`, the rules
//! `httparse` leaves to us, and the body framing a head implies (§6.3).
//!
//! Checked here: exact version tokens (505 for `HTTP/x.y` other than 1.0/1.1), target length
//! (414), head size and field count (431), token names without whitespace before the colon,
//! no obs-fold in requests, no bare CR, no NUL/CTL/DEL in values, exactly one `Host` in an
//! HTTP/1.1 request, `Content-Length` as `1*DIGIT` (repeats only when identical),
//! `Transfer-Encoding` (not on HTTP/1.0, not with `Content-Length`, `chunked` once and last,
//! codings other than `chunked` unsupported: 501).
//!
//! Decision on bare LF: a lone LF ends a line (RFC 9112 §2.2 allows it), in heads and in
//! chunk framing alike; a bare CR is always an error. Leniency for real servers, responses
//! only: obs-fold is replaced by a space (§5.2) and whitespace before the colon is accepted.
//!
//! Field values are zero-copy slices of one copy of the received head, made in the
//! connection's [`HeadArena`](crate::arena::Arena). The original case and order of
//! field names is kept in a [`HeaderCase`] extension when the configuration asks for it
//! (`Config::preserve_header_case`; off by default, as in hyper: the extension costs an
//! allocation or two and a map per head, about a tenth of a small keep-alive exchange).

use std::mem::MaybeUninit;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, EXPECT, HOST, TRANSFER_ENCODING, UPGRADE};
use http::{
    HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version, request, response,
};

use super::error::ParseError;

/// The original names of a message's fields, in wire order and case. Received heads carry it
/// as an extension; give it to an outgoing head (request or response) to write names in this
/// case and order (fields of the map it does not list follow, in map order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderCase(Vec<Bytes>);

impl HeaderCase {
    /// An empty list.
    pub fn new() -> Self {
        HeaderCase(Vec::new())
    }

    /// Appends a field name as it should appear on the wire.
    pub fn push(&mut self, name: impl Into<Bytes>) {
        self.0.push(name.into());
    }

    /// The names in order.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(|b| &b[..])
    }
}

/// Where a connection copies the heads it receives (their fields are slices of the copy).
/// Chunks of at least 128 octets: several small heads; kept small, as every connection that
/// served a request holds its chunk until it has been idle a while.
pub(crate) type HeadArena = crate::arena::Arena<128>;

/// Size limits applied while parsing a head.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_head: usize,
    pub(crate) max_headers: usize,
    pub(crate) max_target: usize,
    /// Keep the fields' original case and order in a [`HeaderCase`] extension.
    pub(crate) keep_case: bool,
}

/// How the body of a message is delimited (§6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` octets.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes (responses only).
    Close,
}

/// What a request asks of the connection beyond its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upgrade {
    /// `Upgrade:` with `Connection: upgrade`; the protocols as sent.
    Protocol(HeaderValue),
    /// `Upgrade: h2c` with `HTTP2-Settings` (RFC 7540 §3.2): the settings payload,
    /// base64url as sent.
    H2c(HeaderValue),
    /// A CONNECT request (RFC 9110 §9.3.6).
    Connect,
}

/// A parsed request head and what it implies.
#[derive(Debug)]
pub(crate) struct ParsedRequest {
    pub(crate) head: request::Parts,
    pub(crate) framing: Framing,
    pub(crate) keep_alive: bool,
    pub(crate) expect_continue: bool,
    pub(crate) upgrade: Option<Upgrade>,
}

/// A parsed response head and what it implies.
#[derive(Debug)]
pub(crate) struct ParsedResponse {
    pub(crate) head: response::Parts,
    pub(crate) framing: Framing,
    pub(crate) keep_alive: bool,
}

fn offset(base: &[u8], part: &[u8]) -> (usize, usize) {
    (part.as_ptr() as usize - base.as_ptr() as usize, part.len())
}

/// Checks input that does not yet hold a whole head against the limits.
fn check_partial(buf: &[u8], limits: Limits, request: bool) -> Result<(), ParseError> {
    let first_line = buf.iter().position(|&b| b == b'\n');
    if request && first_line.is_none() && buf.len() > limits.max_target + 32 {
        return Err(ParseError::TargetTooLong);
    }
    if buf.len() > limits.max_head {
        return Err(ParseError::HeadTooLarge);
    }
    Ok(())
}

/// Field slots a parse keeps on the stack; a larger `max_headers` takes them from the heap.
const STACK_FIELDS: usize = 128;

/// The slots `httparse` fills: `max` of them, on the stack when they fit. Uninitialised
/// slots cost nothing to set up (a parse of a small head no longer clears 100 slots).
fn field_storage<'a, 'b>(
    stack: &'a mut [MaybeUninit<httparse::Header<'b>>; STACK_FIELDS],
    heap: &'a mut Vec<MaybeUninit<httparse::Header<'b>>>,
    max: usize,
) -> &'a mut [MaybeUninit<httparse::Header<'b>>] {
    if max <= STACK_FIELDS {
        &mut stack[..max]
    } else {
        heap.resize(max, MaybeUninit::uninit());
        heap
    }
}

fn map_httparse(e: httparse::Error, buf: &[u8]) -> ParseError {
    match e {
        httparse::Error::TooManyHeaders => ParseError::TooManyHeaders,
        httparse::Error::Version => {
            // `HTTP/d.d` other than 1.0 and 1.1 is a version we do not support (505); any
            // other token is not HTTP at all (400).
            let line_end = buf
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .unwrap_or(buf.len());
            let line = &buf[..line_end];
            let version = if buf.starts_with(b"HTTP/") {
                line.get(..8)
            } else {
                line.rsplit(|&b| b == b' ').next()
            };
            match version {
                Some([b'H', b'T', b'T', b'P', b'/', d1, b'.', d2])
                    if d1.is_ascii_digit() && d2.is_ascii_digit() =>
                {
                    ParseError::UnsupportedVersion
                }
                _ => ParseError::Malformed("invalid HTTP version"),
            }
        }
        httparse::Error::HeaderName => ParseError::Malformed("invalid field name"),
        httparse::Error::HeaderValue => ParseError::Malformed("invalid field value"),
        httparse::Error::NewLine => ParseError::Malformed("invalid line ending"),
        httparse::Error::Status => ParseError::Malformed("invalid status code"),
        httparse::Error::Token => ParseError::Malformed("invalid token"),
    }
}

/// The comma-separated members of every field named `name`, trimmed, empty ones skipped.
fn list_members<'a>(map: &'a HeaderMap, name: &HeaderName) -> impl Iterator<Item = &'a [u8]> {
    map.get_all(name).iter().flat_map(members)
}

/// The comma-separated members of one field value, trimmed, empty ones skipped.
fn members(value: &HeaderValue) -> impl Iterator<Item = &[u8]> {
    value
        .as_bytes()
        .split(|&b| b == b',')
        .map(trim)
        .filter(|m| !m.is_empty())
}

/// True if the list in `value` holds `token` (case-insensitive).
fn lists_token(value: &HeaderValue, token: &[u8]) -> bool {
    members(value).any(|m| m.eq_ignore_ascii_case(token))
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &s[start..end]
}

/// True if the `Connection` field lists `token`.
fn has_connection_token(map: &HeaderMap, token: &[u8]) -> bool {
    map.get_all(CONNECTION)
        .iter()
        .any(|v| lists_token(v, token))
}

/// `1*DIGIT` as a number; `None` when empty, not all digits, or past `u64`.
pub(crate) fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `Content-Length` (§6.3): `1*DIGIT`, repeats only when identical.
fn content_length(map: &HeaderMap) -> Result<Option<u64>, ParseError> {
    let mut length = None;
    for member in map
        .get_all(CONTENT_LENGTH)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
    {
        let n = decimal(trim(member)).ok_or(ParseError::InvalidContentLength)?;
        if length.is_some_and(|l| l != n) {
            return Err(ParseError::InvalidContentLength);
        }
        length = Some(n);
    }
    Ok(length)
}

/// Transfer codings (§6.1): returns whether `chunked` is the final one; `chunked` twice is
/// an error, and any other coding is unsupported.
fn transfer_codings(map: &HeaderMap) -> Result<bool, ParseError> {
    let codings: Vec<&[u8]> = list_members(map, &TRANSFER_ENCODING).collect();
    let chunked = |c: &&[u8]| c.eq_ignore_ascii_case(b"chunked");
    if codings.iter().filter(|c| chunked(c)).count() > 1 {
        return Err(ParseError::InvalidTransferEncoding);
    }
    let final_chunked = codings.last().is_some_and(chunked);
    if codings.iter().any(|c| !chunked(c)) {
        return if final_chunked {
            Err(ParseError::UnsupportedTransferCoding)
        } else {
            Ok(false)
        };
    }
    Ok(final_chunked)
}

/// Turns an `httparse` result into the head's length: `None` while incomplete (limits
/// checked), errors mapped, and the complete head checked for size and bare CR.
fn complete(
    result: httparse::Result<usize>,
    buf: &[u8],
    limits: Limits,
    request: bool,
) -> Result<Option<usize>, ParseError> {
    let n = match result {
        Ok(httparse::Status::Partial) => {
            check_partial(buf, limits, request)?;
            return Ok(None);
        }
        Ok(httparse::Status::Complete(n)) => n,
        Err(e) => return Err(map_httparse(e, buf)),
    };
    if n > limits.max_head {
        return Err(ParseError::HeadTooLarge);
    }
    // A bare CR (§2.2) needs no scan of its own: `httparse` accepts a CR only before an LF
    // — in the start line, a field name or a field value alike (see the tests).
    Ok(Some(n))
}

/// Builds the header map and the fields' case from what `httparse` found, sharing one copy
/// of the head. Values must not hold NUL, CTL or DEL (`httparse` refuses them already;
/// `HeaderValue` checks again); an obs-fold (responses only) becomes spaces.
fn collect_fields(
    buf: &[u8],
    n: usize,
    parsed: &[httparse::Header<'_>],
    fold_obs: bool,
    keep_case: bool,
    arena: &mut HeadArena,
) -> Result<(Bytes, HeaderMap, Option<HeaderCase>), ParseError> {
    let head = arena.copy(&buf[..n]);
    let slice = |part: &[u8]| {
        let (at, len) = offset(buf, part);
        head.slice(at..at + len)
    };
    let mut map = HeaderMap::with_capacity(parsed.len());
    let mut case = keep_case.then(|| HeaderCase(Vec::with_capacity(parsed.len())));
    for field in parsed {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| ParseError::Malformed("invalid field name"))?;
        let mut raw_value = slice(field.value);
        if fold_obs && raw_value.iter().any(|&b| b == b'\r' || b == b'\n') {
            let folded: Vec<u8> = raw_value
                .iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
                .collect();
            raw_value = Bytes::from(folded);
        }
        let value = HeaderValue::from_maybe_shared(raw_value)
            .map_err(|_| ParseError::Malformed("control character in field value"))?;
        map.append(name, value);
        if let Some(case) = &mut case {
            case.0.push(slice(field.name.as_bytes()));
        }
    }
    Ok((head, map, case))
}

/// The fields of a head that decide its framing and the connection's fate, found in one
/// pass over its map, for received and outgoing heads alike: a head holds few of them, and
/// looking each up hashes its name (five or six lookups per message were a twentieth of a
/// small keep-alive exchange).
#[derive(Debug, Default)]
pub(crate) struct Controls<'a> {
    /// `Host` fields (counted: an HTTP/1.1 request must carry exactly one).
    pub(crate) hosts: u8,
    /// The first `Content-Length`.
    pub(crate) content_length: Option<&'a HeaderValue>,
    pub(crate) transfer_encoding: bool,
    /// Any `Connection` field.
    pub(crate) connection: bool,
    /// A `Connection` field lists `close`.
    pub(crate) close: bool,
    pub(crate) date: bool,
    /// The first `Expect`.
    pub(crate) expect: Option<&'a HeaderValue>,
    /// The first `Upgrade`.
    pub(crate) upgrade: Option<&'a HeaderValue>,
}

impl<'a> Controls<'a> {
    pub(crate) fn scan(headers: &'a HeaderMap) -> Self {
        let mut found = Controls::default();
        for (name, value) in headers {
            if *name == HOST {
                found.hosts = found.hosts.saturating_add(1);
            } else if *name == CONTENT_LENGTH {
                found.content_length.get_or_insert(value);
            } else if *name == TRANSFER_ENCODING {
                found.transfer_encoding = true;
            } else if *name == CONNECTION {
                found.connection = true;
                found.close |= lists_token(value, b"close");
            } else if *name == DATE {
                found.date = true;
            } else if *name == EXPECT {
                found.expect.get_or_insert(value);
            } else if *name == UPGRADE {
                found.upgrade.get_or_insert(value);
            }
        }
        found
    }

    /// Whether a `Connection` field of `headers` (the map scanned) lists `token`.
    fn connection_token(&self, headers: &HeaderMap, token: &[u8]) -> bool {
        self.connection && has_connection_token(headers, token)
    }

    /// Keep-alive as the peer's head asks for it: HTTP/1.0 only with `keep-alive`, HTTP/1.1
    /// unless `close`.
    fn keep_alive(&self, headers: &HeaderMap, version: Version) -> bool {
        match version {
            Version::HTTP_10 => self.connection_token(headers, b"keep-alive"),
            _ => !self.close,
        }
    }
}

/// Parses a request head from the front of `buf`; `Ok(None)` if incomplete.
pub(crate) fn parse_request(
    buf: &[u8],
    limits: Limits,
    arena: &mut HeadArena,
) -> Result<Option<(ParsedRequest, usize)>, ParseError> {
    let mut stack = [MaybeUninit::uninit(); STACK_FIELDS];
    let mut heap = Vec::new();
    let storage = field_storage(&mut stack, &mut heap, limits.max_headers);
    let mut req = httparse::Request::new(&mut []);
    let result = req.parse_with_uninit_headers(buf, storage);
    let Some(n) = complete(result, buf, limits, true)? else {
        return Ok(None);
    };
    let path = req.path.unwrap_or("");
    if path.len() > limits.max_target {
        return Err(ParseError::TargetTooLong);
    }
    let method = Method::from_bytes(req.method.unwrap_or("").as_bytes())
        .map_err(|_| ParseError::Malformed("invalid method"))?;
    let version = if req.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let path_pos = offset(buf, path.as_bytes());
    let (head_bytes, headers, case) =
        collect_fields(buf, n, req.headers, false, limits.keep_case, arena)?;
    let uri = Uri::from_maybe_shared(head_bytes.slice(path_pos.0..path_pos.0 + path_pos.1))
        .map_err(|_| ParseError::Malformed("invalid request-target"))?;
    // §3.2: authority-form only for CONNECT (and always for it), asterisk-form only for
    // OPTIONS.
    let authority_form = uri.scheme().is_none() && uri.authority().is_some();
    if authority_form != (method == Method::CONNECT) {
        return Err(ParseError::Malformed(
            "request-target form does not fit the method",
        ));
    }
    if path == "*" && method != Method::OPTIONS {
        return Err(ParseError::Malformed("asterisk-form is for OPTIONS only"));
    }
    let controls = Controls::scan(&headers);
    let hosts = controls.hosts;
    if (version == Version::HTTP_11 && hosts != 1) || hosts > 1 {
        return Err(ParseError::InvalidHost);
    }
    let framing = request_framing(&headers, version, &controls)?;
    let keep_alive = controls.keep_alive(&headers, version);
    let expect_continue = match controls.expect {
        None => false,
        _ if version == Version::HTTP_10 => false,
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"100-continue") => true,
        Some(_) => return Err(ParseError::UnsupportedExpectation),
    };
    let upgrade = if method == Method::CONNECT {
        Some(Upgrade::Connect)
    } else {
        match controls.upgrade {
            Some(proto) if controls.connection_token(&headers, b"upgrade") => {
                match headers.get("http2-settings") {
                    Some(settings) if proto.as_bytes().eq_ignore_ascii_case(b"h2c") => {
                        Some(Upgrade::H2c(settings.clone()))
                    }
                    _ => Some(Upgrade::Protocol(proto.clone())),
                }
            }
            _ => None,
        }
    };
    let mut head = request::Request::new(()).into_parts().0;
    head.method = method;
    head.uri = uri;
    head.version = version;
    head.headers = headers;
    if let Some(case) = case {
        head.extensions.insert(case);
    }
    Ok(Some((
        ParsedRequest {
            head,
            framing,
            keep_alive,
            expect_continue,
            upgrade,
        },
        n,
    )))
}

fn request_framing(
    headers: &HeaderMap,
    version: Version,
    controls: &Controls<'_>,
) -> Result<Framing, ParseError> {
    let has_te = controls.transfer_encoding;
    if has_te && controls.content_length.is_some() {
        return Err(ParseError::TransferEncodingWithContentLength);
    }
    if has_te {
        if version == Version::HTTP_10 {
            return Err(ParseError::TransferEncodingOnHttp10);
        }
        return if transfer_codings(headers)? {
            Ok(Framing::Chunked)
        } else {
            // §6.3: a request whose final coding is not chunked cannot be delimited.
            Err(ParseError::InvalidTransferEncoding)
        };
    }
    let length = if controls.content_length.is_some() {
        content_length(headers)?
    } else {
        None
    };
    Ok(match length {
        Some(0) | None => Framing::Empty,
        Some(n) => Framing::Length(n),
    })
}

/// Parses a response head to a request with `method`; `Ok(None)` if incomplete.
pub(crate) fn parse_response(
    buf: &[u8],
    limits: Limits,
    method: &Method,
    arena: &mut HeadArena,
) -> Result<Option<(ParsedResponse, usize)>, ParseError> {
    let mut stack = [MaybeUninit::uninit(); STACK_FIELDS];
    let mut heap = Vec::new();
    let storage = field_storage(&mut stack, &mut heap, limits.max_headers);
    let mut res = httparse::Response::new(&mut []);
    let mut config = httparse::ParserConfig::default();
    config
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_spaces_after_header_name_in_responses(true);
    let result = config.parse_response_with_uninit_headers(&mut res, buf, storage);
    let Some(n) = complete(result, buf, limits, false)? else {
        return Ok(None);
    };
    let status = StatusCode::from_u16(res.code.unwrap_or(0))
        .map_err(|_| ParseError::Malformed("invalid status code"))?;
    let version = if res.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let (_, headers, case) = collect_fields(buf, n, res.headers, true, limits.keep_case, arena)?;
    let controls = Controls::scan(&headers);
    let mut keep_alive = controls.keep_alive(&headers, version);
    let framing = if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || *method == Method::HEAD
        || (*method == Method::CONNECT && status.is_success())
    {
        Framing::Empty
    } else if controls.transfer_encoding && version == Version::HTTP_11 {
        if controls.content_length.is_some() {
            // §6.1: Transfer-Encoding wins, and the connection is not reused.
            keep_alive = false;
        }
        if transfer_codings(&headers).unwrap_or(false) {
            Framing::Chunked
        } else {
            keep_alive = false;
            Framing::Close
        }
    } else {
        let length = if controls.content_length.is_some() {
            content_length(&headers)?
        } else {
            None
        };
        match length {
            Some(0) => Framing::Empty,
            Some(n) => Framing::Length(n),
            None => {
                keep_alive = false;
                Framing::Close
            }
        }
    };
    let mut head = response::Response::new(()).into_parts().0;
    head.status = status;
    head.version = version;
    head.headers = headers;
    if let Some(case) = case {
        head.extensions.insert(case);
    }
    Ok(Some((
        ParsedResponse {
            head,
            framing,
            keep_alive,
        },
        n,
    )))
}

#[cfg(test)]
mod tests;
