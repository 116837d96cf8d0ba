//! Static files: mapping a request path into the root (refusing every way out of it),
//! validators, conditional requests and byte ranges. Pure decisions here; the IO is in
//! [`super::respond`].

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::{
    IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE, RANGE,
};

/// Where a request path leads.
#[derive(Debug)]
pub(crate) enum Resolved {
    /// A regular file (the directory's `index.html` for a directory that has one).
    File(PathBuf, std::fs::Metadata),
    /// A directory to list; the path ends with `/`.
    Dir(PathBuf),
    /// A directory asked for without the trailing `/`: redirect to this relative reference
    /// (`./name/`, so no target can make it point to another host).
    AddSlash(String),
    /// Nothing there (or not readable).
    NotFound,
    /// A way out of the root: `..`, an encoded `/` or NUL, a symlink leaving the root.
    Forbidden(&'static str),
}

/// Maps `path` (the request target's path, still percent-encoded) below `root`, which must
/// be canonical. Every segment is decoded on its own, so `%2e%2e` is `..` (refused) and
/// `%2f` cannot smuggle a separator; the result is canonicalized and must stay under the
/// root, which refuses symlinks that leave it.
pub(crate) async fn resolve(root: &Path, path: &str) -> Resolved {
    let mut full = root.to_path_buf();
    for raw in path.split('/') {
        let segment = match percent_encoding::percent_decode_str(raw).decode_utf8() {
            Ok(segment) => segment,
            Err(_) => return Resolved::Forbidden("the path is not UTF-8"),
        };
        match &*segment {
            "" | "." => {}
            ".." => return Resolved::Forbidden("`..` in the path"),
            s if s.contains(['/', '\\', '\0']) => {
                return Resolved::Forbidden("an encoded separator or NUL in the path");
            }
            s => full.push(s),
        }
    }
    let real = match tokio::fs::canonicalize(&full).await {
        Ok(real) => real,
        Err(_) => return Resolved::NotFound,
    };
    if !real.starts_with(root) {
        return Resolved::Forbidden("a link out of the served directory");
    }
    let meta = match tokio::fs::metadata(&real).await {
        Ok(meta) => meta,
        Err(_) => return Resolved::NotFound,
    };
    if meta.is_dir() {
        if !path.ends_with('/') {
            let last = path.rsplit('/').next().unwrap_or_default();
            return Resolved::AddSlash(format!("./{last}/"));
        }
        let index = real.join("index.html");
        return match tokio::fs::metadata(&index).await {
            Ok(meta) if meta.is_file() => Resolved::File(index, meta),
            _ => Resolved::Dir(real),
        };
    }
    if meta.is_file() {
        Resolved::File(real, meta)
    } else {
        Resolved::NotFound
    }
}

/// The validators of a file version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Validators {
    /// A strong entity tag from the length and the modification time in nanoseconds.
    pub(crate) etag: String,
    /// The modification time, truncated to whole seconds (HTTP dates have no fraction).
    pub(crate) modified: SystemTime,
}

impl Validators {
    pub(crate) fn new(len: u64, modified: SystemTime) -> Self {
        let since = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        Validators {
            etag: format!("\"{len:x}-{:x}\"", since.as_nanos()),
            modified: UNIX_EPOCH + Duration::from_secs(since.as_secs()),
        }
    }
}

/// What the preconditions (RFC 9110 §13.2.2) ask for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Go on.
    Proceed,
    /// 304 Not Modified (GET and HEAD).
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and `If-Modified-Since` in
/// the order of RFC 9110 §13.2.2 for a GET or HEAD.
pub(crate) fn precondition(headers: &HeaderMap, v: &Validators) -> Precondition {
    if let Some(list) = text(headers, &IF_MATCH) {
        if !tag_list_matches(list, &v.etag, true) {
            return Precondition::Failed;
        }
    } else if let Some(date) = date(headers, &IF_UNMODIFIED_SINCE) {
        if v.modified > date {
            return Precondition::Failed;
        }
    }
    if let Some(list) = text(headers, &IF_NONE_MATCH) {
        if tag_list_matches(list, &v.etag, false) {
            return Precondition::NotModified;
        }
    } else if let Some(date) = date(headers, &IF_MODIFIED_SINCE) {
        if v.modified <= date {
            return Precondition::NotModified;
        }
    }
    Precondition::Proceed
}

/// The answer to a `Range` field.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Range {
    /// The whole representation (no range, an unknown unit, a range we ignore, or an
    /// `If-Range` that does not match).
    Full,
    /// 206 with these octets: `start..=end`.
    Partial { start: u64, end: u64 },
    /// 416 Range Not Satisfiable.
    Unsatisfiable,
}

/// Decides on the `Range` of a GET for a representation of `len` octets. One range is
/// served; a request for several gets the whole file (RFC 9110 §14.2 lets a server ignore
/// `Range`), as does a malformed one.
pub(crate) fn range(headers: &HeaderMap, v: &Validators, len: u64) -> Range {
    let Some(spec) = text(headers, &RANGE) else {
        return Range::Full;
    };
    if let Some(condition) = text(headers, &IF_RANGE) {
        let matches = if condition.starts_with('"') {
            condition == v.etag
        } else {
            httpdate::parse_http_date(condition).is_ok_and(|d| d == v.modified)
        };
        if !matches {
            return Range::Full;
        }
    }
    let Some(ranges) = spec.strip_prefix("bytes=") else {
        return Range::Full;
    };
    if ranges.contains(',') {
        return Range::Full;
    }
    let Some((first, last)) = ranges.trim().split_once('-') else {
        return Range::Full;
    };
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (first.is_empty(), last.is_empty()) {
        // `-N`: the last N octets.
        (true, false) => match number(last) {
            Some(0) => Range::Unsatisfiable,
            Some(n) if len > 0 => Range::Partial {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            Some(_) => Range::Unsatisfiable,
            None => Range::Full,
        },
        (false, _) => {
            let Some(start) = number(first) else {
                return Range::Full;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match number(last) {
                    Some(end) if end >= start => end,
                    _ => return Range::Full,
                }
            };
            if start >= len {
                Range::Unsatisfiable
            } else {
                Range::Partial {
                    start,
                    end: end.min(len - 1),
                }
            }
        }
        (true, true) => Range::Full,
    }
}

fn text<'a>(headers: &'a HeaderMap, name: &http::HeaderName) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn date(headers: &HeaderMap, name: &http::HeaderName) -> Option<SystemTime> {
    text(headers, name).and_then(|d| httpdate::parse_http_date(d).ok())
}

/// True when `*` or one tag of the comma-separated `list` matches `etag`; `strong`
/// comparison rejects weak tags (`W/"..."`), weak comparison ignores the `W/`.
fn tag_list_matches(list: &str, etag: &str, strong: bool) -> bool {
    list.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || match tag.strip_prefix("W/") {
                Some(weak) => !strong && weak == etag,
                None => tag == etag,
            }
    })
}

/// Escapes text for HTML.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Characters escaped in a link to a listed name (a path segment).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'\'')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// One entry of a listing.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) dir: bool,
    pub(crate) len: u64,
    pub(crate) modified: Option<SystemTime>,
}

/// The most entries a listing shows (the page's size stays bounded).
pub(crate) const MAX_LISTED: usize = 10_000;

/// The HTML page listing `entries` of the directory at `path` (the decoded request path);
/// `more` entries were left out.
pub(crate) fn listing(path: &str, mut entries: Vec<Entry>, more: usize) -> String {
    entries.sort_by(|a, b| b.dir.cmp(&a.dir).then_with(|| a.name.cmp(&b.name)));
    let title = html_escape(path);
    let mut page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>Index of {title}</title>\n<style>body{{font-family:sans-serif;margin:2em}}\
         td{{padding:0 1.5em 0 0}}td.n{{text-align:right}}</style></head>\n<body>\
         <h1>Index of {title}</h1>\n<table>\n<tr><th align=left>Name</th><th>Size</th>\
         <th align=left>Modified</th></tr>\n"
    );
    if path != "/" {
        page.push_str("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    }
    for e in &entries {
        let slash = if e.dir { "/" } else { "" };
        let href = percent_encoding::utf8_percent_encode(&e.name, SEGMENT);
        let size = if e.dir {
            "-".to_owned()
        } else {
            e.len.to_string()
        };
        let modified = e.modified.map(httpdate::fmt_http_date).unwrap_or_default();
        page.push_str(&format!(
            "<tr><td><a href=\"{href}{slash}\">{}{slash}</a></td><td class=n>{size}</td>\
             <td>{modified}</td></tr>\n",
            html_escape(&e.name)
        ));
    }
    page.push_str("</table>\n");
    if more > 0 {
        page.push_str(&format!("<p>{more} more entries not shown.</p>\n"));
    }
    page.push_str("<hr><p><small>pullhttp</small></p></body></html>\n");
    page
}

/// A small HTML page for an error status.
pub(crate) fn error_page(status: http::StatusCode, detail: &str) -> String {
    let reason = status.canonical_reason().unwrap_or("");
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{} {reason}</title></head>\
         <body><h1>{} {reason}</h1><p>{}</p></body></html>\n",
        status.as_u16(),
        status.as_u16(),
        html_escape(detail)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(fields: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn validators() -> Validators {
        Validators::new(1000, UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789))
    }

    #[test]
    fn ranges() {
        let v = validators();
        let r = |spec: &str| range(&headers(&[("range", spec)]), &v, 1000);
        assert_eq!(r("bytes=0-99"), Range::Partial { start: 0, end: 99 });
        assert_eq!(
            r("bytes=900-"),
            Range::Partial {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            r("bytes=-100"),
            Range::Partial {
                start: 900,
                end: 999
            }
        );
        assert_eq!(r("bytes=-5000"), Range::Partial { start: 0, end: 999 });
        assert_eq!(
            r("bytes=990-5000"),
            Range::Partial {
                start: 990,
                end: 999
            }
        );
        assert_eq!(r("bytes=1000-"), Range::Unsatisfiable);
        assert_eq!(r("bytes=-0"), Range::Unsatisfiable);
        assert_eq!(r("bytes=5-1"), Range::Full, "invalid: ignored");
        assert_eq!(
            r("bytes=0-1,5-9"),
            Range::Full,
            "several ranges: whole file"
        );
        assert_eq!(r("items=0-1"), Range::Full, "unknown unit");
        assert_eq!(r("bytes=+1-2"), Range::Full);
        assert_eq!(range(&headers(&[]), &v, 1000), Range::Full);
        assert_eq!(
            range(&headers(&[("range", "bytes=-1")]), &v, 0),
            Range::Unsatisfiable
        );
    }

    #[test]
    fn if_range_needs_the_current_validator() {
        let v = validators();
        let date = httpdate::fmt_http_date(v.modified);
        let with = |cond: &str| {
            range(
                &headers(&[("range", "bytes=0-9"), ("if-range", cond)]),
                &v,
                1000,
            )
        };
        assert_eq!(with(&v.etag), Range::Partial { start: 0, end: 9 });
        assert_eq!(with(&date), Range::Partial { start: 0, end: 9 });
        assert_eq!(with("\"other\""), Range::Full);
        assert_eq!(with(&format!("W/{}", v.etag)), Range::Full, "weak never");
        assert_eq!(with("Sun, 06 Nov 1994 08:49:37 GMT"), Range::Full);
    }

    #[test]
    fn preconditions_in_rfc_order() {
        let v = validators();
        let now = httpdate::fmt_http_date(v.modified);
        let earlier = httpdate::fmt_http_date(v.modified - Duration::from_secs(1));
        let p = |fields: &[(&'static str, &str)]| precondition(&headers(fields), &v);
        assert_eq!(p(&[]), Precondition::Proceed);
        assert_eq!(p(&[("if-none-match", &v.etag)]), Precondition::NotModified);
        assert_eq!(
            p(&[("if-none-match", &format!("\"x\", W/{}", v.etag))]),
            Precondition::NotModified,
            "weak comparison"
        );
        assert_eq!(p(&[("if-none-match", "*")]), Precondition::NotModified);
        assert_eq!(p(&[("if-none-match", "\"x\"")]), Precondition::Proceed);
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            p(&[("if-none-match", "\"x\""), ("if-modified-since", &now)]),
            Precondition::Proceed
        );
        assert_eq!(p(&[("if-modified-since", &now)]), Precondition::NotModified);
        assert_eq!(p(&[("if-modified-since", &earlier)]), Precondition::Proceed);
        assert_eq!(
            p(&[("if-modified-since", "garbage")]),
            Precondition::Proceed
        );
        assert_eq!(p(&[("if-match", "\"x\"")]), Precondition::Failed);
        assert_eq!(
            p(&[("if-match", &format!("W/{}", v.etag))]),
            Precondition::Failed,
            "strong comparison"
        );
        assert_eq!(p(&[("if-match", &v.etag)]), Precondition::Proceed);
        assert_eq!(
            p(&[("if-unmodified-since", &earlier)]),
            Precondition::Failed
        );
        assert_eq!(p(&[("if-unmodified-since", &now)]), Precondition::Proceed);
    }

    #[test]
    fn listing_escapes_names_and_links() {
        let entries = vec![
            Entry {
                name: "b<script>.txt".into(),
                dir: false,
                len: 3,
                modified: None,
            },
            Entry {
                name: "a dir".into(),
                dir: true,
                len: 0,
                modified: None,
            },
        ];
        let page = listing("/x/", entries, 2);
        assert!(page.contains("<a href=\"a%20dir/\">a dir/</a>"), "{page}");
        assert!(page.contains("<a href=\"b%3Cscript%3E.txt\">b&lt;script&gt;.txt</a>"));
        assert!(
            page.find("a dir").unwrap() < page.find("b&lt;").unwrap(),
            "dirs first"
        );
        assert!(page.contains("href=\"../\""));
        assert!(page.contains("2 more entries not shown"));
    }

    #[tokio::test]
    async fn resolve_refuses_every_way_out() {
        let dir = std::env::temp_dir().join(format!("pullhttp-resolve-{}", std::process::id()));
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.txt"), b"a").unwrap();
        std::fs::write(dir.join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(dir.join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink(root.join("sub/a.txt"), root.join("in")).unwrap();
        let root = std::fs::canonicalize(&root).unwrap();
        let forbidden = |r: &Resolved| matches!(r, Resolved::Forbidden(_));
        for path in [
            "/../secret",
            "/sub/../../secret",
            "/%2e%2e/secret",
            "/%2E%2e/secret",
            "/sub%2f..%2f..%2fsecret",
            "/%2fetc%2fpasswd",
            "/out",
            "/sub/%00",
        ] {
            let r = resolve(&root, path).await;
            assert!(forbidden(&r), "{path}: {r:?}");
        }
        // An absolute path in the target stays under the root.
        assert!(matches!(
            resolve(&root, "//etc/passwd").await,
            Resolved::NotFound
        ));
        assert!(matches!(resolve(&root, "/in").await, Resolved::File(..)));
        assert!(matches!(
            resolve(&root, "/sub/a.txt").await,
            Resolved::File(..)
        ));
        assert!(matches!(
            resolve(&root, "/sub/./a.txt").await,
            Resolved::File(..)
        ));
        assert!(matches!(resolve(&root, "/sub").await, Resolved::AddSlash(p) if p == "./sub/"));
        assert!(matches!(resolve(&root, "/sub/").await, Resolved::Dir(_)));
        assert!(matches!(resolve(&root, "/nope").await, Resolved::NotFound));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
