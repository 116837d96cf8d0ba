//! HTTP messages over HTTP/2 (RFC 9113 §8): decoded fields become `http` heads, and `http`
//! heads become the fields to encode.
//!
//! Validation on receipt (a failure is a *malformed message*, §8.1.1, a stream error of type
//! PROTOCOL_ERROR, never a connection error):
//! - names are lowercase tokens (§8.2, §8.2.1); values contain no NUL, CR or LF and do not
//!   start or end with SP or HTAB (§8.2.1);
//! - connection-specific fields are refused; `te` may only be `trailers` (§8.2.2);
//! - pseudo-headers come first, once each, only those of the message's kind (§8.3);
//!   requests need `:method`, and `:scheme` and a non-empty `:path` unless CONNECT; CONNECT
//!   needs `:authority` and no `:scheme`/`:path`; extended CONNECT (`:protocol`, RFC 8441
//!   §4) only once we advertised SETTINGS_ENABLE_CONNECT_PROTOCOL; `host` must agree with
//!   `:authority` (§8.3.1); responses need a three-digit `:status`, and 101 does not exist
//!   in HTTP/2 (§8.6); trailers carry no pseudo-headers (§8.1);
//! - `content-length` is digits only, and repeated values must agree (§8.1.1; the DATA
//!   total is checked by the connection).
//!
//! This module must not know about streams or frames: it sees one field list at a time.

use std::fmt;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{
    HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version, request, response,
};

use super::hpack::HeaderField;

/// The `:protocol` pseudo-header of an extended CONNECT request (RFC 8441 §4), stored as a
/// request extension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Protocol(Bytes);

impl Protocol {
    /// A protocol name, e.g. `websocket`.
    pub fn from_static(name: &'static str) -> Self {
        Protocol(Bytes::from_static(name.as_bytes()))
    }

    /// The protocol name as octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Why a message is malformed (RFC 9113 §8.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// A field name with uppercase letters (§8.2).
    UppercaseName,
    /// A field name that is not a token, or an unknown pseudo-header (§8.2.1, §8.3).
    InvalidName,
    /// A field value with NUL, CR or LF, or leading or trailing whitespace (§8.2.1).
    InvalidValue,
    /// A connection-specific field, or `te` other than `trailers` (§8.2.2).
    ConnectionSpecific,
    /// A pseudo-header after a regular field (§8.3).
    PseudoAfterRegular,
    /// A pseudo-header twice (§8.3).
    DuplicatePseudo,
    /// A pseudo-header that does not belong to this kind of message (§8.3).
    WrongPseudo,
    /// A required pseudo-header is missing (§8.3.1, §8.3.2).
    MissingPseudo(&'static str),
    /// `:method`, `:scheme`, `:authority` or `:path` is not valid, or CONNECT carries
    /// `:scheme` or `:path` (§8.3.1, §8.5).
    InvalidTarget,
    /// `host` names another authority than `:authority` (§8.3.1).
    HostMismatch,
    /// `:protocol` without SETTINGS_ENABLE_CONNECT_PROTOCOL, or on a method other than
    /// CONNECT (RFC 8441 §4).
    ProtocolNotEnabled,
    /// `:status` is not three digits, or is 101 (§8.3.2, §8.6).
    InvalidStatus,
    /// `content-length` is not digits, or repeated with other values (§8.1.1).
    InvalidContentLength,
    /// The DATA total differs from `content-length` (§8.1.1).
    ContentLengthMismatch,
    /// Trailers without END_STREAM, a second header section, or an informational response
    /// with END_STREAM (§8.1).
    InvalidSequence,
}

impl MessageError {
    /// The section of RFC 9113 (or 8441) that states the rule.
    pub fn rfc_section(&self) -> &'static str {
        match self {
            MessageError::UppercaseName | MessageError::InvalidName => "RFC 9113 §8.2",
            MessageError::InvalidValue => "RFC 9113 §8.2.1",
            MessageError::ConnectionSpecific => "RFC 9113 §8.2.2",
            MessageError::PseudoAfterRegular
            | MessageError::DuplicatePseudo
            | MessageError::WrongPseudo => "RFC 9113 §8.3",
            MessageError::MissingPseudo(_)
            | MessageError::InvalidTarget
            | MessageError::HostMismatch => "RFC 9113 §8.3.1",
            MessageError::ProtocolNotEnabled => "RFC 8441 §4",
            MessageError::InvalidStatus => "RFC 9113 §8.3.2",
            MessageError::InvalidContentLength
            | MessageError::ContentLengthMismatch
            | MessageError::InvalidSequence => "RFC 9113 §8.1",
        }
    }
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            MessageError::UppercaseName => "uppercase field name",
            MessageError::InvalidName => "invalid field name",
            MessageError::InvalidValue => "invalid field value",
            MessageError::ConnectionSpecific => "connection-specific field",
            MessageError::PseudoAfterRegular => "pseudo-header after a regular field",
            MessageError::DuplicatePseudo => "duplicate pseudo-header",
            MessageError::WrongPseudo => "pseudo-header not allowed in this message",
            MessageError::MissingPseudo(name) => return write!(f, "missing {name}"),
            MessageError::InvalidTarget => "invalid request target",
            MessageError::HostMismatch => "host differs from :authority",
            MessageError::ProtocolNotEnabled => ":protocol not enabled",
            MessageError::InvalidStatus => "invalid :status",
            MessageError::InvalidContentLength => "invalid content-length",
            MessageError::ContentLengthMismatch => "DATA total differs from content-length",
            MessageError::InvalidSequence => "header section out of sequence",
        };
        f.write_str(text)
    }
}

impl std::error::Error for MessageError {}

/// What a header section is expected to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SectionKind {
    /// A request (server side, or a pushed request on the client).
    Request,
    /// A response, informational or final (client side).
    Response,
    /// Trailers.
    Trailers,
}

/// A decoded and validated header section.
#[derive(Debug)]
pub(crate) enum Section {
    Request {
        head: Box<request::Parts>,
        content_length: Option<u64>,
        /// The section holds a `priority` field (RFC 9218), so a lookup finds it.
        priority: bool,
    },
    Response {
        head: Box<response::Parts>,
        content_length: Option<u64>,
    },
    Trailers(HeaderMap),
}

#[derive(Default)]
struct Pseudo {
    method: Option<Bytes>,
    scheme: Option<Bytes>,
    authority: Option<Bytes>,
    path: Option<Bytes>,
    protocol: Option<Bytes>,
    status: Option<Bytes>,
}

/// The `Priority` field (RFC 9218 §5), named once: a `&str` key is parsed on every lookup.
pub(crate) const PRIORITY_FIELD: HeaderName = HeaderName::from_static("priority");

/// The last `:authority` a connection parsed. Clients send the same one on every request,
/// and comparing its octets costs a fraction of parsing it again. It owns a copy of its
/// octets (a slice of the received block would keep the whole read buffer alive), and an
/// idle connection lets go of it.
#[derive(Debug, Default)]
pub(crate) struct LastAuthority(Option<Authority>);

impl LastAuthority {
    fn parse(&mut self, raw: Bytes) -> Result<Authority, MessageError> {
        if let Some(last) = &self.0 {
            if last.as_str().as_bytes() == &raw[..] {
                return Ok(last.clone());
            }
        }
        let parsed = Authority::from_maybe_shared(Bytes::copy_from_slice(&raw))
            .map_err(|_| MessageError::InvalidTarget)?;
        self.0 = Some(parsed.clone());
        Ok(parsed)
    }

    pub(crate) fn release(&mut self) {
        self.0 = None;
    }
}

/// Collects the fields of one section as HPACK emits them; the first violation is kept and
/// later fields are ignored (HPACK decoding itself must go on).
pub(crate) struct SectionBuilder {
    kind: SectionKind,
    pseudo: Pseudo,
    headers: HeaderMap,
    regular_seen: bool,
    content_length: Option<u64>,
    /// Fields noted as they arrive, so that `finish` and the stream's setup look up only
    /// those present (a `HeaderMap` lookup hashes the name, a comparison here does not).
    host: bool,
    priority: bool,
    error: Option<MessageError>,
}

impl SectionBuilder {
    pub(crate) fn new(kind: SectionKind) -> Self {
        SectionBuilder {
            kind,
            pseudo: Pseudo::default(),
            headers: HeaderMap::new(),
            regular_seen: false,
            content_length: None,
            host: false,
            priority: false,
            error: None,
        }
    }

    /// Adds one decoded field.
    pub(crate) fn push(&mut self, field: HeaderField) {
        if self.error.is_none() {
            if let Err(e) = self.push_inner(field) {
                self.error = Some(e);
            }
        }
    }

    fn push_inner(&mut self, field: HeaderField) -> Result<(), MessageError> {
        let HeaderField {
            name,
            value,
            never_indexed,
        } = field;
        if let Some(pseudo) = name.strip_prefix(b":") {
            return self.push_pseudo(pseudo, value);
        }
        self.regular_seen = true;
        // One pass: `from_lowercase` refuses uppercase along with every other invalid octet.
        let name = HeaderName::from_lowercase(&name).map_err(|_| {
            if name.iter().any(u8::is_ascii_uppercase) {
                MessageError::UppercaseName
            } else {
                MessageError::InvalidName
            }
        })?;
        // NUL, CR and LF are refused with every other control octet by `HeaderValue`
        // below; only the edges need a check of their own.
        check_edges(&value)?;
        if is_connection_specific(&name) || (name == "te" && value != "trailers") {
            return Err(MessageError::ConnectionSpecific);
        }
        let mut value =
            HeaderValue::from_maybe_shared(value).map_err(|_| MessageError::InvalidValue)?;
        value.set_sensitive(never_indexed);
        if name == CONTENT_LENGTH {
            let n = parse_content_length(value.as_bytes())?;
            if self.content_length.is_some_and(|m| m != n) {
                return Err(MessageError::InvalidContentLength);
            }
            self.content_length = Some(n);
        } else if name == HOST {
            self.host = true;
        } else if name == PRIORITY_FIELD {
            self.priority = true;
        }
        self.headers.append(name, value);
        Ok(())
    }

    fn push_pseudo(&mut self, name: &[u8], value: Bytes) -> Result<(), MessageError> {
        if self.regular_seen {
            return Err(MessageError::PseudoAfterRegular);
        }
        let p = &mut self.pseudo;
        let slot = match (self.kind, name) {
            (SectionKind::Request, b"method") => &mut p.method,
            (SectionKind::Request, b"scheme") => &mut p.scheme,
            (SectionKind::Request, b"authority") => &mut p.authority,
            (SectionKind::Request, b"path") => &mut p.path,
            (SectionKind::Request, b"protocol") => &mut p.protocol,
            (SectionKind::Response, b"status") => &mut p.status,
            (_, b"method" | b"scheme" | b"authority" | b"path" | b"protocol" | b"status") => {
                return Err(MessageError::WrongPseudo);
            }
            _ => return Err(MessageError::InvalidName),
        };
        if slot.is_some() {
            return Err(MessageError::DuplicatePseudo);
        }
        check_value(&value)?;
        *slot = Some(value);
        Ok(())
    }

    /// Validates the whole section. `connect_protocol` says whether we advertised
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL.
    pub(crate) fn finish(
        self,
        connect_protocol: bool,
        authority: &mut LastAuthority,
    ) -> Result<Section, MessageError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        match self.kind {
            SectionKind::Trailers => Ok(Section::Trailers(self.headers)),
            SectionKind::Response => {
                let status = self
                    .pseudo
                    .status
                    .ok_or(MessageError::MissingPseudo(":status"))?;
                if status.len() != 3 {
                    return Err(MessageError::InvalidStatus);
                }
                let status =
                    StatusCode::from_bytes(&status).map_err(|_| MessageError::InvalidStatus)?;
                if status == StatusCode::SWITCHING_PROTOCOLS {
                    return Err(MessageError::InvalidStatus);
                }
                let mut head = response::Response::new(()).into_parts().0;
                head.status = status;
                head.version = Version::HTTP_2;
                head.headers = self.headers;
                Ok(Section::Response {
                    head: Box::new(head),
                    content_length: self.content_length,
                })
            }
            SectionKind::Request => {
                let content_length = self.content_length;
                let priority = self.priority;
                let host = self.host;
                let head =
                    build_request(self.pseudo, self.headers, host, connect_protocol, authority)?;
                Ok(Section::Request {
                    head: Box::new(head),
                    content_length,
                    priority,
                })
            }
        }
    }
}

/// `host` says whether `headers` holds a `Host` field.
fn build_request(
    p: Pseudo,
    headers: HeaderMap,
    host: bool,
    connect_protocol: bool,
    last_authority: &mut LastAuthority,
) -> Result<request::Parts, MessageError> {
    let method = p.method.ok_or(MessageError::MissingPseudo(":method"))?;
    let method = Method::from_bytes(&method).map_err(|_| MessageError::InvalidTarget)?;
    let authority = p.authority.map(|a| last_authority.parse(a)).transpose()?;
    let host = if host { headers.get(HOST) } else { None };
    if let (Some(authority), Some(host)) = (&authority, host) {
        if !authority
            .as_str()
            .eq_ignore_ascii_case(host.to_str().unwrap_or(""))
        {
            return Err(MessageError::HostMismatch);
        }
    }
    let mut extensions = http::Extensions::new();
    let uri = if method == Method::CONNECT && p.protocol.is_none() {
        // Plain CONNECT (§8.5): authority-form target.
        if p.scheme.is_some() || p.path.is_some() {
            return Err(MessageError::InvalidTarget);
        }
        let authority = authority.ok_or(MessageError::MissingPseudo(":authority"))?;
        Uri::from(authority)
    } else {
        if let Some(protocol) = p.protocol {
            if !connect_protocol || method != Method::CONNECT {
                return Err(MessageError::ProtocolNotEnabled);
            }
            if authority.is_none() {
                return Err(MessageError::MissingPseudo(":authority"));
            }
            extensions.insert(Protocol(protocol));
        }
        let scheme = p.scheme.ok_or(MessageError::MissingPseudo(":scheme"))?;
        let path = p.path.ok_or(MessageError::MissingPseudo(":path"))?;
        let scheme = Scheme::try_from(&scheme[..]).map_err(|_| MessageError::InvalidTarget)?;
        let http_like = scheme == Scheme::HTTP || scheme == Scheme::HTTPS;
        let asterisk = &path[..] == b"*" && method == Method::OPTIONS;
        if path.is_empty() || (http_like && path[0] != b'/' && !asterisk) {
            return Err(MessageError::InvalidTarget);
        }
        let path =
            PathAndQuery::from_maybe_shared(path).map_err(|_| MessageError::InvalidTarget)?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(scheme);
        parts.path_and_query = Some(path);
        let authority = authority.or_else(|| Authority::try_from(host?.as_bytes()).ok());
        if authority.is_some() {
            parts.authority = authority;
        } else {
            // http::Uri needs an authority next to a scheme; keep the origin form.
            parts.scheme = None;
        }
        Uri::from_parts(parts).map_err(|_| MessageError::InvalidTarget)?
    };
    let mut head = request::Request::new(()).into_parts().0;
    head.method = method;
    head.uri = uri;
    head.version = Version::HTTP_2;
    head.headers = headers;
    head.extensions = extensions;
    Ok(head)
}

/// §8.2.1: no NUL, CR, LF; no leading or trailing SP/HTAB.
fn check_value(value: &[u8]) -> Result<(), MessageError> {
    // One comparison per ordinary octet: only those up to CR can be one of the three.
    let bad = |b: u8| b <= b'\r' && (b == 0 || b == b'\r' || b == b'\n');
    if value.iter().any(|&b| bad(b)) {
        return Err(MessageError::InvalidValue);
    }
    check_edges(value)
}

/// §8.2.1: no leading or trailing SP/HTAB.
fn check_edges(value: &[u8]) -> Result<(), MessageError> {
    if matches!(value.first(), Some(b' ' | b'\t')) || matches!(value.last(), Some(b' ' | b'\t')) {
        return Err(MessageError::InvalidValue);
    }
    Ok(())
}

fn parse_content_length(value: &[u8]) -> Result<u64, MessageError> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(MessageError::InvalidContentLength);
    }
    value.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or(MessageError::InvalidContentLength)
    })
}

/// Connection-specific fields that HTTP/2 forbids (§8.2.2).
pub(crate) fn is_connection_specific(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade"
    )
}

/// A pseudo-header of a request, for ordering outgoing requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PseudoHeader {
    /// `:method`.
    Method,
    /// `:scheme`.
    Scheme,
    /// `:authority`.
    Authority,
    /// `:path`.
    Path,
    /// `:protocol` (extended CONNECT only).
    Protocol,
}

/// The default order of request pseudo-headers: method, scheme, authority, path, protocol.
pub const DEFAULT_PSEUDO_ORDER: [PseudoHeader; 5] = [
    PseudoHeader::Method,
    PseudoHeader::Scheme,
    PseudoHeader::Authority,
    PseudoHeader::Path,
    PseudoHeader::Protocol,
];

/// The pseudo-header values of an outgoing request.
#[derive(Debug)]
pub(crate) struct RequestPseudo {
    pub(crate) method: Method,
    pub(crate) scheme: Option<String>,
    pub(crate) authority: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) protocol: Option<Protocol>,
}

impl RequestPseudo {
    /// Derives the pseudo-headers from a request head (§8.3.1). `:authority` comes from the
    /// `host` field when the caller set one, else from the URI. `default_scheme` fills in a
    /// URI without a scheme.
    pub(crate) fn from_head(
        head: &request::Parts,
        default_scheme: &str,
    ) -> Result<Self, MessageError> {
        let protocol = head.extensions.get::<Protocol>().cloned();
        let host = head.headers.get(HOST).and_then(|h| h.to_str().ok());
        let authority = host
            .map(str::to_owned)
            .or_else(|| head.uri.authority().map(|a| a.as_str().to_owned()));
        if head.method == Method::CONNECT && protocol.is_none() {
            let authority = authority.ok_or(MessageError::MissingPseudo(":authority"))?;
            return Ok(RequestPseudo {
                method: head.method.clone(),
                scheme: None,
                authority: Some(authority),
                path: None,
                protocol: None,
            });
        }
        if protocol.is_some() && head.method != Method::CONNECT {
            return Err(MessageError::ProtocolNotEnabled);
        }
        let path = match head.uri.path_and_query() {
            Some(p) if !p.as_str().is_empty() => p.as_str().to_owned(),
            _ => "/".to_owned(),
        };
        Ok(RequestPseudo {
            method: head.method.clone(),
            scheme: Some(head.uri.scheme_str().unwrap_or(default_scheme).to_owned()),
            authority,
            path: Some(path),
            protocol,
        })
    }
}

/// True for regular fields that an HTTP/2 sender must drop: connection-specific fields,
/// `te` other than `trailers`, and `host` (carried as `:authority`).
pub(crate) fn is_dropped_on_send(name: &HeaderName, value: &HeaderValue) -> bool {
    is_connection_specific(name) || (name == "te" && value != "trailers") || name == HOST
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(fields: &[(&[u8], &[u8])]) -> Result<Section, MessageError> {
        let mut section = SectionBuilder::new(SectionKind::Request);
        for (n, v) in fields {
            section.push(HeaderField {
                name: Bytes::copy_from_slice(n),
                value: Bytes::copy_from_slice(v),
                never_indexed: false,
            });
        }
        section.finish(false, &mut LastAuthority::default())
    }

    fn request_with(name: &[u8], value: &[u8]) -> Result<(), MessageError> {
        request(&[
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":path", b"/"),
            (name, value),
        ])
        .map(|_| ())
    }

    fn target(section: Result<Section, MessageError>) -> Result<String, MessageError> {
        match section? {
            Section::Request { head, .. } => Ok(head.uri.to_string()),
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn host_must_match_the_authority_and_stands_in_for_a_missing_one() {
        let with = |authority: Option<&[u8]>, host: Option<&[u8]>| {
            let mut fields: Vec<(&[u8], &[u8])> = vec![
                (b":method", b"GET"),
                (b":scheme", b"https"),
                (b":path", b"/x"),
            ];
            if let Some(a) = authority {
                fields.push((b":authority", a));
            }
            fields.push((b"accept", b"*/*"));
            if let Some(h) = host {
                fields.push((b"host", h));
            }
            target(request(&fields))
        };
        assert_eq!(
            with(Some(b"a.example"), Some(b"b.example")),
            Err(MessageError::HostMismatch)
        );
        assert_eq!(
            with(Some(b"a.example"), Some(b"A.Example")).as_deref(),
            Ok("https://a.example/x")
        );
        assert_eq!(
            with(None, Some(b"h.example:81")).as_deref(),
            Ok("https://h.example:81/x")
        );
        assert_eq!(
            with(Some(b"a.example"), None).as_deref(),
            Ok("https://a.example/x")
        );
        assert_eq!(with(None, None).as_deref(), Ok("/x"));
    }

    #[test]
    fn the_last_authority_is_reused_only_for_the_same_octets() {
        let mut last = LastAuthority::default();
        let block = Bytes::from_static(b"example.com:8080");
        let first = last.parse(block.clone()).unwrap();
        // The kept copy does not point into the received octets.
        assert_ne!(first.as_str().as_ptr(), block.as_ptr());
        let again = last
            .parse(Bytes::copy_from_slice(b"example.com:8080"))
            .unwrap();
        assert_eq!(again.as_str().as_ptr(), first.as_str().as_ptr());
        let other = last.parse(Bytes::from_static(b"other.example")).unwrap();
        assert_eq!(other.as_str(), "other.example");
        assert_eq!(
            last.parse(Bytes::from_static(b"bad host")),
            Err(MessageError::InvalidTarget)
        );
        // A refused authority does not replace the kept one.
        let kept = last.parse(Bytes::from_static(b"other.example")).unwrap();
        assert_eq!(kept.as_str().as_ptr(), other.as_str().as_ptr());
        last.release();
        let fresh = last.parse(Bytes::from_static(b"other.example")).unwrap();
        assert_ne!(fresh.as_str().as_ptr(), other.as_str().as_ptr());
    }

    #[test]
    fn regular_fields_are_checked_octet_by_octet() {
        assert_eq!(request_with(b"x-ok", b"a b\tc \x80\xff"), Ok(()));
        for bad in [
            &b"a\0b"[..],
            b"a\rb",
            b"a\nb",
            b"a\x01b",
            b"a\x7fb",
            b" a",
            b"a ",
            b"\ta",
            b"a\t",
        ] {
            assert_eq!(
                request_with(b"x-bad", bad),
                Err(MessageError::InvalidValue),
                "{bad:?}"
            );
        }
        assert_eq!(
            request_with(b"X-Upper", b"v"),
            Err(MessageError::UppercaseName)
        );
        for bad in [&b"x y"[..], b"x:y", b"", b"x\0"] {
            assert_eq!(
                request_with(bad, b"v"),
                Err(MessageError::InvalidName),
                "{bad:?}"
            );
        }
        assert_eq!(
            request_with(b"connection", b"close"),
            Err(MessageError::ConnectionSpecific)
        );
    }
}
