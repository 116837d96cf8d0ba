//! The stream-split shape: every connection is an [`HttpProtocol`] whose streams are split
//! into a request input and a response output; HTTP/1.1 gives one stream per connection,
//! HTTP/2 (prior knowledge or h2c upgrade) one per request. WebSocket upgrades (HTTP/1.1
//! `Upgrade` or RFC 8441) are echoed.
//!
//! ```text
//! cargo run -p pullhttp --example stream_split -- 127.0.0.1:5931           # handle_stream inline
//! cargo run -p pullhttp --example stream_split -- 127.0.0.1:5931 spawn     # one task per stream
//! curl --http2-prior-knowledge http://127.0.0.1:5931/hello
//! ```
//!
//! For each response it prints how long the response took to be written (from `send` to
//! the last octet flushed).

use std::net::SocketAddr;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use http::{Method, Request, Response, StatusCode};
use pullhttp::server::RecvBody;
use pullhttp::server::split::{HttpProtocol, HttpStream, RequestKey};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Message, Role};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:5931".into())
        .parse()
        .map_err(|e| std::io::Error::other(format!("bad address: {e}")))?;
    let spawn = args.next().as_deref() == Some("spawn");
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut builder = pullhttp::server::Builder::new();
    builder.enable_connect_protocol(true);
    loop {
        let (tcp, _) = listener.accept().await?;
        let builder = builder.clone();
        tokio::spawn(async move {
            let mut protocol = match HttpProtocol::with_builder(&builder, tcp).await {
                Ok(protocol) => protocol,
                Err(e) => return eprintln!("connection failed: {e}"),
            };
            while let Some(stream) = protocol.next().await {
                let Ok(stream) = stream else { break };
                if spawn {
                    tokio::spawn(handle_stream(stream));
                } else {
                    // Inline: the stream is handled here while the connection is driven.
                    protocol.drive_while(handle_stream(stream)).await;
                }
            }
        });
    }
}

async fn handle_stream(stream: HttpStream) {
    let version = stream.version();
    let (mut input, mut output) = stream.split();
    while let Some(next) = input.next().await {
        let Ok((key, request)) = next else { return };
        if key.is_upgradable() && is_websocket(&request) {
            let accept = request
                .headers()
                .get("sec-websocket-key")
                .map(|k| derive_accept_key(k.as_bytes()));
            let response = match accept {
                // HTTP/1.1 `Upgrade: websocket`.
                Some(accept) => Response::builder()
                    .status(StatusCode::SWITCHING_PROTOCOLS)
                    .header("connection", "upgrade")
                    .header("upgrade", "websocket")
                    .header("sec-websocket-accept", accept)
                    .body(()),
                // RFC 8441: a 200 opens the WebSocket.
                None => Response::builder().body(()),
            };
            let Ok(response) = response else { return };
            match output.upgrade(input, key, response).await {
                Ok(tunnel) => {
                    let ws = WebSocketStream::from_raw_socket(tunnel, Role::Server, None).await;
                    echo(ws).await;
                }
                Err(e) => eprintln!("upgrade failed: {e}"),
            }
            return;
        }
        respond(&mut output, key, request, version).await;
    }
}

async fn respond(
    output: &mut pullhttp::server::split::ResponseOutput,
    key: RequestKey,
    request: Request<RecvBody>,
    version: http::Version,
) {
    let (head, mut body) = request.into_parts();
    let mut received = 0;
    while let Some(Ok(chunk)) = body.data().await {
        received += chunk.len();
    }
    let text = format!(
        "hello from stream-split: {} {} over {:?}, {received} body octets\n",
        head.method,
        head.uri.path(),
        version
    );
    let response = Response::builder()
        .header("content-type", "text/plain")
        .body(text)
        .expect("a valid response");
    let started = Instant::now();
    match output.send((key, response)).await {
        Ok(()) => println!(
            "{} {} written in {:?}",
            head.method,
            head.uri.path(),
            started.elapsed()
        ),
        Err(e) => eprintln!("{} {} failed: {e}", head.method, head.uri.path()),
    }
}

fn is_websocket(request: &Request<RecvBody>) -> bool {
    let token = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("websocket"))
    };
    let protocol = request
        .extensions()
        .get::<pullhttp::proto::h2::Protocol>()
        .is_some_and(|p| p.as_bytes() == b"websocket");
    (request.method() == Method::GET && token("upgrade")) || protocol
}

async fn echo(mut ws: WebSocketStream<pullhttp::server::Tunnel>) {
    while let Some(Ok(message)) = ws.next().await {
        let reply = match message {
            Message::Text(text) => Message::text(format!("split-echo:{text}")),
            Message::Binary(data) => Message::Binary(data),
            Message::Close(_) => {
                // Send the close reply, then end our side of the stream (HTTP/2) or the
                // connection, so the peer's closing handshake completes.
                let _ = ws.close(None).await;
                let _ = tokio::io::AsyncWriteExt::shutdown(ws.get_mut()).await;
                break;
            }
            _ => continue,
        };
        if ws.send(reply).await.is_err() {
            break;
        }
    }
}
