//! Answering one request: a file, a listing, an echo or an error page; then the access-log
//! line.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{
    ACCEPT_RANGES, ALLOW, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, DATE, ETAG, LAST_MODIFIED,
    LOCATION, SERVER,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use pullhttp::server::{RecvBody, Responder, SendBody};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::Shared;
use super::files::{self, Entry, Precondition, Range, Resolved, Validators};

/// Octets read from a file per piece (at most; less when the send buffer has less room).
const PIECE: usize = 256 << 10;

/// How an exchange ended, for the access log.
struct Served {
    status: StatusCode,
    bytes: u64,
    error: Option<pullhttp::Error>,
}

impl Served {
    fn done(status: StatusCode, bytes: u64, result: Result<(), pullhttp::Error>) -> Self {
        Served {
            status,
            bytes,
            error: result.err(),
        }
    }
}

/// Answers `request` and logs one line: remote address, protocol, method, target, status,
/// body octets sent, duration.
pub(super) async fn answer(
    request: Request<RecvBody>,
    mut responder: Responder,
    shared: Arc<Shared>,
    peer: SocketAddr,
) {
    let started = Instant::now();
    let method = request.method().clone();
    let version = request.version();
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().to_string(), |p| p.as_str().to_owned());
    let served = if shared.echo {
        echo(request, &mut responder).await
    } else {
        file(request, &mut responder, &shared.root).await
    };
    if shared.log {
        let error = served
            .error
            .map(|e| format!(" error: {e}"))
            .unwrap_or_default();
        println!(
            "{peer} {version:?} {method} {target} {} {} {:.3}ms{error}",
            served.status.as_u16(),
            served.bytes,
            started.elapsed().as_secs_f64() * 1e3,
        );
    }
}

/// A response head with the fields every answer carries.
fn head(status: StatusCode) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(SERVER, HeaderValue::from_static("pullhttp"));
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())) {
        headers.insert(DATE, date);
    }
    response
}

/// Sends a whole small body (none for HEAD, with the length it would have).
async fn small(
    responder: &mut Responder,
    mut response: Response<()>,
    content_type: &'static str,
    body: String,
    head_only: bool,
) -> Served {
    let status = response.status();
    let len = body.len() as u64;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    let (parts, ()) = response.into_parts();
    let (body, sent) = if head_only {
        (String::new(), 0)
    } else {
        (body, len)
    };
    let result = responder
        .send_response_with(Response::from_parts(parts, body))
        .await;
    Served::done(status, sent, result)
}

/// [`small`] for an HTML page.
async fn html(
    responder: &mut Responder,
    response: Response<()>,
    page: String,
    head_only: bool,
) -> Served {
    small(
        responder,
        response,
        "text/html; charset=utf-8",
        page,
        head_only,
    )
    .await
}

async fn error_page(
    responder: &mut Responder,
    status: StatusCode,
    detail: &str,
    head_only: bool,
) -> Served {
    let mut response = head(status);
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    let page = files::error_page(status, detail);
    html(responder, response, page, head_only).await
}

/// GET and HEAD on the served directory.
async fn file(request: Request<RecvBody>, responder: &mut Responder, root: &Path) -> Served {
    let head_only = request.method() == Method::HEAD;
    if request.method() != Method::GET && !head_only {
        let detail = format!("{} is not allowed here: use GET or HEAD.", request.method());
        return error_page(responder, StatusCode::METHOD_NOT_ALLOWED, &detail, false).await;
    }
    let path = request.uri().path();
    match files::resolve(root, path).await {
        Resolved::NotFound => {
            let detail = "Nothing is served at this path.";
            error_page(responder, StatusCode::NOT_FOUND, detail, head_only).await
        }
        Resolved::Forbidden(why) => {
            let detail = format!("Refused: {why}.");
            error_page(responder, StatusCode::FORBIDDEN, &detail, head_only).await
        }
        Resolved::AddSlash(location) => {
            let mut response = head(StatusCode::MOVED_PERMANENTLY);
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(LOCATION, location);
            }
            let page = files::error_page(StatusCode::MOVED_PERMANENTLY, "A directory.");
            html(responder, response, page, head_only).await
        }
        Resolved::Dir(dir) => {
            let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
            match list(&dir).await {
                Ok((entries, more)) => {
                    let page = files::listing(&decoded, entries, more);
                    let response = head(StatusCode::OK);
                    html(responder, response, page, head_only).await
                }
                Err(e) => {
                    let detail = format!("The directory cannot be read: {e}.");
                    error_page(responder, StatusCode::FORBIDDEN, &detail, head_only).await
                }
            }
        }
        Resolved::File(path, meta) => {
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let validators = Validators::new(meta.len(), modified);
            send_file(&request, responder, &path, meta.len(), &validators).await
        }
    }
}

/// The entries of `dir`, at most [`files::MAX_LISTED`], and how many more there are.
async fn list(dir: &Path) -> std::io::Result<(Vec<Entry>, usize)> {
    let mut read = tokio::fs::read_dir(dir).await?;
    let mut entries = Vec::new();
    let mut more = 0;
    while let Some(entry) = read.next_entry().await? {
        if entries.len() == files::MAX_LISTED {
            more += 1;
            continue;
        }
        // Follows symlinks for the kind and size; a dangling one is listed as a file.
        let meta = tokio::fs::metadata(entry.path()).await.ok();
        entries.push(Entry {
            name: entry.file_name().to_string_lossy().into_owned(),
            dir: meta.as_ref().is_some_and(std::fs::Metadata::is_dir),
            len: meta.as_ref().map_or(0, std::fs::Metadata::len),
            modified: meta.and_then(|m| m.modified().ok()),
        });
    }
    Ok((entries, more))
}

async fn send_file(
    request: &Request<RecvBody>,
    responder: &mut Responder,
    path: &Path,
    len: u64,
    validators: &Validators,
) -> Served {
    let head_only = request.method() == Method::HEAD;
    let mut response = head(StatusCode::OK);
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&validators.etag) {
        headers.insert(ETAG, etag);
    }
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(validators.modified)) {
        headers.insert(LAST_MODIFIED, date);
    }
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    match files::precondition(request.headers(), validators) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            let result = responder
                .send_response_with(response.map(|()| String::new()))
                .await;
            return Served::done(StatusCode::NOT_MODIFIED, 0, result);
        }
        Precondition::Failed => {
            let detail = "The file does not match the request's precondition.";
            return error_page(
                responder,
                StatusCode::PRECONDITION_FAILED,
                detail,
                head_only,
            )
            .await;
        }
    }
    let (start, end) = match files::range(request.headers(), validators, len) {
        Range::Full => (0, len),
        Range::Partial { start, end } => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let range = format!("bytes {start}-{end}/{len}");
            if let Ok(range) = HeaderValue::from_str(&range) {
                response.headers_mut().insert(CONTENT_RANGE, range);
            }
            (start, end + 1)
        }
        Range::Unsatisfiable => {
            let mut response = head(StatusCode::RANGE_NOT_SATISFIABLE);
            if let Ok(range) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(CONTENT_RANGE, range);
            }
            let page = files::error_page(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &format!("The file has {len} octets."),
            );
            return html(responder, response, page, head_only).await;
        }
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type =
        if mime.type_() == mime_guess::mime::TEXT && mime.get_param("charset").is_none() {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_string()
        };
    let headers = response.headers_mut();
    if let Ok(content_type) = HeaderValue::from_str(&content_type) {
        headers.insert(CONTENT_TYPE, content_type);
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(end - start));
    let status = response.status();
    if head_only || start == end {
        let result = responder
            .send_response_with(response.map(|()| String::new()))
            .await;
        return Served::done(status, 0, result);
    }
    // Open before answering, so a file that vanished is still a 404.
    let mut file = match open_at(path, start).await {
        Ok(file) => file,
        Err(e) => {
            let detail = format!("The file cannot be read: {e}.");
            return error_page(responder, StatusCode::NOT_FOUND, &detail, false).await;
        }
    };
    let send = match responder.send_response(response, false) {
        Ok(send) => send,
        Err(e) => return Served::done(status, 0, Err(e)),
    };
    let (bytes, result) = stream_file(&mut file, send, end - start).await;
    Served::done(status, bytes, result)
}

async fn open_at(path: &Path, start: u64) -> std::io::Result<tokio::fs::File> {
    let mut file = tokio::fs::File::open(path).await?;
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start)).await?;
    }
    Ok(file)
}

/// Streams `len` octets of `file`: each piece waits for room in the stream's send buffer
/// first, so memory stays at one piece plus the library's bounded buffer however large the
/// file. A file that shrinks meanwhile resets the stream (the length was promised).
async fn stream_file(
    file: &mut tokio::fs::File,
    mut send: SendBody,
    len: u64,
) -> (u64, Result<(), pullhttp::Error>) {
    send.reserve_capacity(PIECE);
    let mut sent = 0;
    while sent < len {
        let room = match send.capacity_ready().await {
            Ok(room) => room,
            Err(e) => return (sent, Err(e)),
        };
        let want = usize::try_from(len - sent).map_or(PIECE, |left| left.min(PIECE).min(room));
        let mut piece = BytesMut::zeroed(want);
        let n = match file.read(&mut piece).await {
            Ok(0) | Err(_) => {
                send.send_reset(pullhttp::ErrorCode::INTERNAL_ERROR);
                let e = pullhttp::Error::from(std::io::Error::other("the file shrank"));
                return (sent, Err(e));
            }
            Ok(n) => n,
        };
        piece.truncate(n);
        if let Err(e) = send.send_data(piece.freeze(), false) {
            return (sent, Err(e));
        }
        sent += n as u64;
    }
    let result = match send.finish() {
        Ok(finished) => finished.await,
        Err(e) => Err(e),
    };
    (sent, result)
}

/// `--echo`: the request's method, target, version and fields as text, a blank line, then
/// its body as it arrives (streamed back, not buffered).
async fn echo(request: Request<RecvBody>, responder: &mut Responder) -> Served {
    let (parts, mut body) = request.into_parts();
    let mut text = format!("{} {} {:?}\n", parts.method, parts.uri, parts.version);
    for (name, value) in &parts.headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push('\n');
    let mut response = head(StatusCode::OK);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if parts.method == Method::HEAD {
        let result = responder
            .send_response_with(response.map(|()| String::new()))
            .await;
        return Served::done(StatusCode::OK, 0, result);
    }
    let mut send = match responder.send_response(response, false) {
        Ok(send) => send,
        Err(e) => return Served::done(StatusCode::OK, 0, Err(e)),
    };
    let mut sent = text.len() as u64;
    let mut result = send.write(Bytes::from(text)).await;
    while result.is_ok() {
        match body.data().await {
            None => break,
            Some(Ok(chunk)) => {
                sent += chunk.len() as u64;
                result = send.write(chunk).await;
            }
            Some(Err(e)) => result = Err(e),
        }
    }
    let result = match result {
        Ok(()) => match send.finish() {
            Ok(finished) => finished.await,
            Err(e) => Err(e),
        },
        Err(e) => {
            send.send_reset(pullhttp::ErrorCode::INTERNAL_ERROR);
            Err(e)
        }
    };
    Served::done(StatusCode::OK, sent, result)
}
