//! The benchmark servers' connection handlers: the same routes (see the crate docs) on
//! every stack, one task per connection (spawned by [`spawn`]).
//!
//! `pull`: pullhttp's pull API, every event of a connection answered in its task (no task
//! per request); `handle`: pullhttp's handle API with a task per request; `hyper`: hyper
//! 1.x with hyper-util's auto builder (HTTP/1.1 and HTTP/2); `h2`: the raw h2 crate
//! (HTTP/2 only), a task per stream; `tcp`: writes 1 GiB of zeros on every connection and
//! reads whatever comes (the machine's copy limit, both ways).

use std::convert::Infallible;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use pullhttp::server::{self, Event};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{BoxError, Repeat, body_len};

/// A transport the HTTP servers take: a TCP stream, or an in-memory duplex in the
/// criterion benchmarks.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// The stacks [`spawn`] knows.
pub const KINDS: [&str; 5] = ["pull", "handle", "hyper", "h2", "tcp"];

/// Spawns the task serving `tcp` on the stack `kind` (one of [`KINDS`]).
pub fn spawn(kind: &str, tcp: TcpStream) -> Result<(), BoxError> {
    match kind {
        "pull" => tokio::spawn(pull(tcp)),
        "handle" => tokio::spawn(handle(tcp)),
        "hyper" => tokio::spawn(hyper_conn(tcp)),
        "h2" => tokio::spawn(h2_conn(tcp)),
        "tcp" => tokio::spawn(tcp_copy(tcp)),
        other => return Err(format!("unknown --impl {other} ({})", KINDS.join(", ")).into()),
    };
    Ok(())
}

/// The response heads the pull server sends unchanged, built once (the pull API takes a
/// head by reference, so a fixed head costs nothing per response).
struct Heads {
    /// One per GET route, by body length.
    bodies: Vec<(u64, http::response::Parts)>,
    empty: http::response::Parts,
    not_found: http::response::Parts,
}

static HEADS: std::sync::LazyLock<Heads> = std::sync::LazyLock::new(|| Heads {
    bodies: crate::GET_ROUTES
        .iter()
        .filter_map(|path| body_len(path))
        .map(|len| (len, head(StatusCode::OK, Some(len))))
        .collect(),
    empty: head(StatusCode::OK, Some(0)),
    not_found: head(StatusCode::NOT_FOUND, Some(0)),
});

/// A GET route's body length and head.
fn body_head(len: u64) -> Option<(u64, &'static http::response::Parts)> {
    HEADS
        .bodies
        .iter()
        .find(|(l, _)| *l == len)
        .map(|(l, h)| (*l, h))
}

fn head(status: StatusCode, len: Option<u64>) -> http::response::Parts {
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "text/plain");
    if let Some(len) = len {
        response = response.header("content-length", len);
    }
    response.body(()).expect("a valid head").into_parts().0
}

/// Adds `Content-Type: text/plain`: every stack sends the same head for a GET (hyper and
/// pullhttp's handle API add `Content-Length` from the body's exact size themselves).
fn text_plain<B>(mut response: Response<B>) -> Response<B> {
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    response
}

/// What a pull-mode stream still has to do.
enum Pending {
    /// Send the rest of a generated body.
    Body(Repeat, Option<Bytes>),
    /// Echo the request body back as it comes.
    Echo(std::collections::VecDeque<(Bytes, bool)>),
    /// Count the request body, then answer with its length.
    Sink(u64),
}

/// The pull API: every event of the connection handled in this one task.
pub async fn pull<IO: Io>(tcp: IO) {
    let mut conn = server::handshake(tcp);
    let mut pending: pullhttp::KeyMap<Pending> = pullhttp::KeyMap::default();
    while let Ok(Some(event)) = conn.next_event().await {
        let key = match event {
            Event::Request {
                key,
                head: request,
                end_stream,
                ..
            } => {
                let path = request.uri.path();
                let post = request.method == Method::POST;
                let work = match (&request.method, body_len(path).and_then(body_head)) {
                    (&Method::GET, Some((len, head))) => {
                        let _ = conn.send_response(key, head, false);
                        Pending::Body(Repeat::new(len), None)
                    }
                    _ if post && path == "/echo" && end_stream => {
                        let _ = conn.send_response(key, &HEADS.empty, true);
                        continue;
                    }
                    _ if post && path == "/echo" => {
                        let _ = conn.send_response(key, &head(StatusCode::OK, None), false);
                        Pending::Echo(Default::default())
                    }
                    _ if post && path == "/sink" && end_stream => {
                        answer_sink(&mut conn, key, 0);
                        continue;
                    }
                    _ if post && path == "/sink" => Pending::Sink(0),
                    _ => {
                        let _ = conn.send_response(key, &HEADS.not_found, true);
                        continue;
                    }
                };
                // Most answers go out whole at once: only what is left waits in the map.
                let mut work = work;
                if !advance(&mut conn, key, &mut work) {
                    pending.insert(key, work);
                }
                continue;
            }
            Event::Data {
                key,
                data,
                end_stream,
            } => {
                match pending.get_mut(&key) {
                    Some(Pending::Echo(queue)) => queue.push_back((data, end_stream)),
                    Some(Pending::Sink(n)) => {
                        *n += data.len() as u64;
                        if end_stream {
                            let n = *n;
                            pending.remove(&key);
                            answer_sink(&mut conn, key, n);
                        }
                        continue;
                    }
                    _ => continue,
                }
                key
            }
            Event::Writable { key } => key,
            Event::Reset { key, .. } => {
                pending.remove(&key);
                continue;
            }
            _ => continue,
        };
        if let Some(work) = pending.get_mut(&key) {
            if advance(&mut conn, key, work) {
                pending.remove(&key);
            }
        }
    }
}

/// Answers a `/sink` request with the length of its body.
fn answer_sink<IO: Io>(conn: &mut server::Connection<IO>, key: pullhttp::RequestKey, n: u64) {
    let text = Bytes::from(n.to_string());
    let _ = conn.send_response(key, &head(StatusCode::OK, Some(text.len() as u64)), false);
    let _ = conn.send_data(key, text, true);
}

/// Sends what the connection takes now; true once the stream's work is done.
fn advance<IO: Io>(
    conn: &mut server::Connection<IO>,
    key: pullhttp::RequestKey,
    work: &mut Pending,
) -> bool {
    match work {
        Pending::Body(body, carry) => loop {
            let Some(piece) = carry.take().or_else(|| body.next_piece()) else {
                return true;
            };
            let last = body.left() == 0;
            match conn.send_data(key, piece.clone(), last) {
                Ok(n) if n == piece.len() => {
                    if last {
                        return true;
                    }
                }
                Ok(n) => {
                    *carry = Some(piece.slice(n..));
                    return false;
                }
                Err(_) => return true,
            }
        },
        Pending::Echo(queue) => {
            while let Some((data, end)) = queue.pop_front() {
                match conn.send_data(key, data.clone(), end) {
                    Ok(n) if n == data.len() => {
                        if end {
                            return true;
                        }
                    }
                    Ok(n) => {
                        queue.push_front((data.slice(n..), end));
                        return false;
                    }
                    Err(_) => return true,
                }
            }
            false
        }
        Pending::Sink(_) => false,
    }
}

/// The handle API: a task per request.
pub async fn handle<IO: Io>(tcp: IO) {
    let mut acceptor = server::acceptor(tcp);
    while let Some(Ok((request, mut responder))) = acceptor.accept().await {
        tokio::spawn(async move {
            let path = request.uri().path().to_owned();
            let method = request.method().clone();
            let mut body = request.into_body();
            let _ = match (method, body_len(&path)) {
                (Method::GET, Some(len)) => {
                    responder
                        .send_response_with(text_plain(Response::new(Repeat::new(len))))
                        .await
                }
                (Method::POST, _) if path == "/echo" => {
                    match responder.send_response(Response::new(()), false) {
                        Ok(mut send) => {
                            let mut result = Ok(());
                            while let Some(Ok(chunk)) = body.data().await {
                                result = send.write(chunk).await;
                                if result.is_err() {
                                    break;
                                }
                            }
                            match (result, send.finish()) {
                                (Ok(()), Ok(finished)) => finished.await,
                                (Err(e), _) | (_, Err(e)) => Err(e),
                            }
                        }
                        Err(e) => Err(e),
                    }
                }
                (Method::POST, _) if path == "/sink" => {
                    let mut n = 0u64;
                    while let Some(Ok(chunk)) = body.data().await {
                        n += chunk.len() as u64;
                    }
                    responder
                        .send_response_with(Response::new(n.to_string()))
                        .await
                }
                _ => {
                    let mut r = Response::new(String::new());
                    *r.status_mut() = StatusCode::NOT_FOUND;
                    responder.send_response_with(r).await
                }
            };
        });
    }
}

type HyperBody = http_body_util::combinators::BoxBody<Bytes, hyper::Error>;

async fn hyper_service(
    request: Request<hyper::body::Incoming>,
) -> Result<Response<HyperBody>, Infallible> {
    let path = request.uri().path().to_owned();
    let infallible = |b: Repeat| b.map_err(|never| match never {}).boxed();
    Ok(match (request.method().clone(), body_len(&path)) {
        (Method::GET, Some(len)) => text_plain(Response::new(infallible(Repeat::new(len)))),
        (Method::POST, _) if path == "/echo" => Response::new(request.into_body().boxed()),
        (Method::POST, _) if path == "/sink" => {
            let mut body = request.into_body();
            let mut n = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                n += frame.data_ref().map_or(0, |d| d.len() as u64);
            }
            Response::new(
                http_body_util::Full::new(Bytes::from(n.to_string()))
                    .map_err(|never| match never {})
                    .boxed(),
            )
        }
        _ => {
            let mut r = Response::new(infallible(Repeat::new(0)));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    })
}

/// hyper 1.x (hyper-util's auto builder: HTTP/1.1 and HTTP/2 on one port).
pub async fn hyper_conn<IO: Io>(tcp: IO) {
    let builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let _ = builder
        .serve_connection(
            hyper_util::rt::TokioIo::new(tcp),
            hyper::service::service_fn(hyper_service),
        )
        .await;
}

/// The raw h2 crate, a task per stream.
pub async fn h2_conn<IO: Io>(tcp: IO) {
    let Ok(mut conn) = h2::server::handshake(tcp).await else {
        return;
    };
    while let Some(Ok((request, respond))) = conn.accept().await {
        tokio::spawn(h2_stream(request, respond));
    }
}

async fn h2_stream(
    request: Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) -> Result<(), h2::Error> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let mut body = request.into_body();
    match (method, body_len(&path)) {
        (Method::GET, Some(len)) => {
            let mut head = text_plain(Response::new(()));
            head.headers_mut()
                .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
            let mut send = respond.send_response(head, false)?;
            let mut source = Repeat::new(len);
            while let Some(piece) = source.next_piece() {
                let mut piece = piece;
                while !piece.is_empty() {
                    send.reserve_capacity(piece.len());
                    let room = std::future::poll_fn(|cx| send.poll_capacity(cx))
                        .await
                        .ok_or_else(|| h2::Error::from(h2::Reason::CANCEL))??;
                    let part = piece.split_to(room.min(piece.len()));
                    let end = piece.is_empty() && source.left() == 0;
                    send.send_data(part, end)?;
                }
            }
        }
        (Method::POST, _) if path == "/echo" || path == "/sink" => {
            let echo = path == "/echo";
            let mut send = respond.send_response(Response::new(()), false)?;
            let mut n = 0u64;
            while let Some(chunk) = body.data().await {
                let chunk = chunk?;
                n += chunk.len() as u64;
                let _ = body.flow_control().release_capacity(chunk.len());
                if echo {
                    send.send_data(chunk, false)?;
                }
            }
            let tail = if echo {
                Bytes::new()
            } else {
                Bytes::from(n.to_string())
            };
            send.send_data(tail, true)?;
        }
        _ => {
            let mut r = Response::new(());
            *r.status_mut() = StatusCode::NOT_FOUND;
            respond.send_response(r, true)?;
        }
    }
    Ok(())
}

/// The copy limit: 1 GiB of zeros out, and everything that comes in read and dropped.
pub async fn tcp_copy(tcp: TcpStream) {
    let (mut read, mut write) = tcp.into_split();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 256 << 10];
        while matches!(read.read(&mut buf).await, Ok(n) if n > 0) {}
    });
    let piece = vec![0u8; 256 << 10];
    for _ in 0..(1 << 30) / piece.len() {
        if write.write_all(&piece).await.is_err() {
            return;
        }
    }
    let _ = write.shutdown().await;
}
