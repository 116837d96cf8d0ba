//! An HTTP/2 server in the `h2::server` shape: an accept loop per connection, a spawned
//! handler per stream, and a listener-wide graceful shutdown on Ctrl-C.
//!
//! ```text
//! cargo run -p pullhttp --example h2_handles -- 127.0.0.1:5929
//! nghttp -v http://127.0.0.1:5929/            # with its pushed /style.css
//! ```
//!
//! Routes: `/` pushes `/style.css` (when the client allows pushes) and sends a page;
//! `/big?mib=N` streams N MiB (default 8) with capacity reservation; `/trailers` ends its
//! body with trailers; `POST /echo` echoes the body. Ctrl-C stops accepting, lets every
//! connection finish its streams (GOAWAY) for up to 10 s, then closes the rest and prints a
//! line `shutdown: G graceful, F forced`.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use pullhttp::Graceful;
use pullhttp::server::{self, Accepted, SendBody};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5929".into())
        .parse()
        .map_err(|e| std::io::Error::other(format!("bad address: {e}")))?;
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let graceful = Graceful::new();
    let mut builder = server::Builder::new();
    builder.version(server::Version::Http2);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, _) = accepted?;
                let mut acceptor = builder.acceptor(tcp);
                let watch = graceful.watch(acceptor.shutdown_handle());
                tokio::spawn(async move {
                    while let Some(accepted) = acceptor.accept().await {
                        match accepted {
                            Ok(accepted) => {
                                tokio::spawn(handle(accepted));
                            }
                            Err(e) => {
                                eprintln!("connection error: {e}");
                                break;
                            }
                        }
                    }
                    drop(watch);
                });
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    drop(listener);
    let report = graceful.shutdown(Duration::from_secs(10)).await;
    println!(
        "shutdown: {} graceful, {} forced",
        report.graceful, report.forced
    );
    Ok(())
}

async fn handle((req, mut responder): Accepted) {
    let path = req.uri().path().to_owned();
    let result = match (req.method(), path.as_str()) {
        (&Method::GET, "/") => {
            // Push the stylesheet first, so the client knows it is coming.
            let style = Request::get("http://localhost/style.css").body(());
            if let Ok(style) = style {
                if let Ok(mut pushed) = responder.push_request(style).await {
                    let css = Response::new("body { font-family: sans-serif }\n".to_string());
                    let _ = pushed.send_response_with(css).await;
                }
            }
            let page = "<!doctype html><link rel=stylesheet href=/style.css><p>pullhttp\n";
            responder
                .send_response_with(Response::new(page.to_string()))
                .await
        }
        (&Method::GET, "/big") => {
            let mib = req
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("mib="))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(8);
            match responder.send_response(Response::new(()), false) {
                Ok(send) => big(send, mib << 20).await,
                Err(e) => Err(e),
            }
        }
        (&Method::GET, "/trailers") => match responder.send_response(Response::new(()), false) {
            Ok(mut send) => {
                let mut trailers = HeaderMap::new();
                trailers.insert("x-checksum", "42".parse().expect("a valid value"));
                match send
                    .write(Bytes::from_static(b"body, then trailers\n"))
                    .await
                {
                    Ok(()) => match send.send_trailers(trailers) {
                        Ok(finished) => finished.await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        },
        (&Method::POST, "/echo") => {
            let mut body = req.into_body();
            let mut got = Vec::new();
            while let Some(chunk) = body.data().await {
                match chunk {
                    Ok(chunk) => got.extend_from_slice(&chunk),
                    Err(e) => return eprintln!("/echo: {e}"),
                }
            }
            responder
                .send_response_with(Response::new(http_body_util::Full::new(Bytes::from(got))))
                .await
        }
        _ => {
            let mut not_found = Response::new("not found\n".to_string());
            *not_found.status_mut() = http::StatusCode::NOT_FOUND;
            responder.send_response_with(not_found).await
        }
    };
    if let Err(e) = result {
        eprintln!("{path}: {e}");
    }
}

/// Streams `len` octets, reserving capacity for 64 KiB pieces: each write waits until the
/// connection has room (the client's window and the send buffer bound what waits).
async fn big(mut send: SendBody, len: usize) -> Result<(), pullhttp::Error> {
    let piece = Bytes::from(vec![b'x'; 64 << 10]);
    send.reserve_capacity(piece.len());
    let mut left = len;
    while left > 0 {
        let room = send.capacity_ready().await?;
        let n = left.min(room).min(piece.len());
        send.send_data(piece.slice(..n), false)?;
        left -= n;
    }
    send.finish()?.await
}
