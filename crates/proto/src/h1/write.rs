//! Writing message heads (RFC 9112 §3, §4, §5): the start line, then the fields in insertion
//! order, or in the case and order of a [`HeaderCase`] extension when the head carries one.
//!
//! Values were validated by `http` (no CR, LF or NUL), so a head written here cannot smuggle
//! a second message.

use bytes::{BufMut, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version};

use super::head::HeaderCase;

/// Fields the connection adds (framing, `Connection`, `Date`, `Host`), written after the
/// caller's.
pub(crate) type Extra<'a> = &'a [(&'static str, HeaderValue)];

/// Room reserved before a head is written: most heads fit, so the buffer rarely grows
/// while fields are written (measuring the head first cost a pass over its fields).
const HEAD_RESERVE: usize = 128;

/// Writes a status line and fields.
pub(crate) fn response_head(
    status: StatusCode,
    headers: &HeaderMap,
    case: Option<&HeaderCase>,
    extra: Extra<'_>,
    dst: &mut BytesMut,
) {
    dst.reserve(HEAD_RESERVE);
    if status == StatusCode::OK {
        dst.put_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        dst.put_slice(b"HTTP/1.1 ");
        dst.put_slice(status.as_str().as_bytes());
        dst.put_u8(b' ');
        dst.put_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
        dst.put_slice(b"\r\n");
    }
    fields(headers, case, extra, dst);
}

/// Writes a request line and fields. The target is written exactly as the URI gives it:
/// origin-form (`/path?q`), absolute-form (`http://host/path`), authority-form (`host:port`)
/// or asterisk-form (`*`).
pub(crate) fn request_head(
    method: &Method,
    uri: &Uri,
    version: Version,
    headers: &HeaderMap,
    case: Option<&HeaderCase>,
    extra: Extra<'_>,
    dst: &mut BytesMut,
) {
    let target = uri.to_string();
    dst.reserve(HEAD_RESERVE + target.len());
    dst.put_slice(method.as_str().as_bytes());
    dst.put_u8(b' ');
    dst.put_slice(if target.is_empty() {
        b"/"
    } else {
        target.as_bytes()
    });
    dst.put_slice(if version == Version::HTTP_10 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    fields(headers, case, extra, dst);
}

fn field(name: &[u8], value: &HeaderValue, dst: &mut BytesMut) {
    dst.put_slice(name);
    dst.put_slice(b": ");
    dst.put_slice(value.as_bytes());
    dst.put_slice(b"\r\n");
}

fn fields(headers: &HeaderMap, case: Option<&HeaderCase>, extra: Extra<'_>, dst: &mut BytesMut) {
    match case {
        None => {
            for (name, value) in headers {
                field(name.as_str().as_bytes(), value, dst);
            }
        }
        Some(case) => {
            // Each listed name takes the next value of that field; fields not listed (or
            // with more values than listed) follow in map order.
            let mut used: Vec<(HeaderName, usize)> = Vec::new();
            for raw in case.names() {
                let Ok(name) = HeaderName::from_bytes(raw) else {
                    continue;
                };
                let slot = match used.iter().position(|(n, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        used.push((name.clone(), 0));
                        used.len() - 1
                    }
                };
                let index = used[slot].1;
                if let Some(value) = headers.get_all(&name).iter().nth(index) {
                    field(raw, value, dst);
                    used[slot].1 += 1;
                }
            }
            for name in headers.keys() {
                let skip = used.iter().find(|(n, _)| n == name).map_or(0, |(_, k)| *k);
                for value in headers.get_all(name).iter().skip(skip) {
                    field(name.as_str().as_bytes(), value, dst);
                }
            }
        }
    }
    for (name, value) in extra {
        field(name.as_bytes(), value, dst);
    }
    dst.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_header_case_order_then_the_rest() {
        let mut map = HeaderMap::new();
        map.append("x-b", HeaderValue::from_static("1"));
        map.append("x-a", HeaderValue::from_static("2"));
        map.append("x-a", HeaderValue::from_static("3"));
        map.append("x-c", HeaderValue::from_static("4"));
        let mut case = HeaderCase::new();
        case.push("X-A");
        case.push("x-B");
        let mut out = BytesMut::new();
        let extra = [("content-length", HeaderValue::from_static("0"))];
        response_head(StatusCode::OK, &map, Some(&case), &extra, &mut out);
        assert_eq!(
            &out[..],
            b"HTTP/1.1 200 OK\r\nX-A: 2\r\nx-B: 1\r\nx-a: 3\r\nx-c: 4\r\ncontent-length: 0\r\n\r\n"
        );
    }

    #[test]
    fn request_target_is_written_in_the_callers_form() {
        for target in ["/p?q=1", "http://example.com/p", "example.com:443", "*"] {
            let uri: Uri = target.parse().unwrap();
            let mut out = BytesMut::new();
            request_head(
                &Method::GET,
                &uri,
                Version::HTTP_11,
                &HeaderMap::new(),
                None,
                &[],
                &mut out,
            );
            let expected = format!("GET {target} HTTP/1.1\r\n\r\n");
            assert_eq!(&out[..], expected.as_bytes());
        }
    }
}
