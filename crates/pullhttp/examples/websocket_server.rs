//! WebSocket echo server over HTTP/1.1 `Upgrade: websocket` (RFC 6455) and over HTTP/2
//! extended CONNECT (RFC 8441), both on the same port (HTTP/2 by prior knowledge). The
//! HTTP side is pullhttp's handle API; `tokio-tungstenite` does the WebSocket framing on the
//! [`Tunnel`] the upgrade returns.
//!
//! ```text
//! cargo run -p pullhttp --example websocket_server -- 127.0.0.1:5930
//! ```
//!
//! Every text message comes back as `echo[1]:<text>` or `echo[2]:<text>` (the HTTP version
//! the WebSocket runs over); binary messages come back unchanged. Any other request gets a
//! short text answer.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use http::{Method, Request, Response, StatusCode};
use pullhttp::server::{self, Accepted, RecvBody, Responder, Tunnel};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Message, Role};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5930".into())
        .parse()
        .map_err(|e| std::io::Error::other(format!("bad address: {e}")))?;
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut builder = server::Builder::new();
    // RFC 8441: tell HTTP/2 clients they may open WebSockets with extended CONNECT.
    builder.enable_connect_protocol(true);
    loop {
        let (tcp, _) = listener.accept().await?;
        let mut acceptor = builder.acceptor(tcp);
        tokio::spawn(async move {
            while let Some(Ok(accepted)) = acceptor.accept().await {
                tokio::spawn(handle(accepted));
            }
        });
    }
}

async fn handle((req, responder): Accepted) {
    let version = if req.version() == http::Version::HTTP_2 {
        2
    } else {
        1
    };
    let result = if is_websocket_h1(&req) {
        upgrade_h1(req, responder).await
    } else if is_websocket_h2(&req) {
        responder
            .upgrade(Response::new(()))
            .await
            .map_err(|e| e.to_string())
    } else {
        let _ = plain(responder).await;
        return;
    };
    match result {
        Ok(tunnel) => {
            let ws = WebSocketStream::from_raw_socket(tunnel, Role::Server, None).await;
            if let Err(e) = echo(ws, version).await {
                eprintln!("websocket over HTTP/{version} ended: {e}");
            }
        }
        Err(e) => eprintln!("upgrade refused: {e}"),
    }
}

fn is_websocket_h1(req: &Request<RecvBody>) -> bool {
    let has = |name: &str, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    req.method() == Method::GET && has("connection", "upgrade") && has("upgrade", "websocket")
}

fn is_websocket_h2(req: &Request<RecvBody>) -> bool {
    req.method() == Method::CONNECT
        && req
            .extensions()
            .get::<pullhttp::proto::h2::Protocol>()
            .is_some_and(|p| p.as_bytes() == b"websocket")
}

/// RFC 6455 §4.2.2: answer the key with its accept value.
async fn upgrade_h1(req: Request<RecvBody>, mut responder: Responder) -> Result<Tunnel, String> {
    let Some(key) = req.headers().get("sec-websocket-key") else {
        let bad = Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(())
            .map_err(|e| e.to_string())?;
        let _ = responder.send_response(bad, true);
        return Err("no Sec-WebSocket-Key".into());
    };
    let response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
        .body(())
        .map_err(|e| e.to_string())?;
    responder.upgrade(response).await.map_err(|e| e.to_string())
}

async fn echo(
    mut ws: WebSocketStream<Tunnel>,
    version: u8,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    while let Some(message) = ws.next().await {
        match message? {
            Message::Text(text) => {
                ws.send(Message::text(format!("echo[{version}]:{text}")))
                    .await?;
            }
            Message::Binary(data) => ws.send(Message::Binary(data)).await?,
            Message::Close(_) => {
                // Send the close reply, then end our side of the stream (HTTP/2) or the
                // connection, so the peer's closing handshake completes.
                let _ = ws.close(None).await;
                let _ = tokio::io::AsyncWriteExt::shutdown(ws.get_mut()).await;
                break;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn plain(mut responder: Responder) -> Result<(), pullhttp::Error> {
    let body = "WebSocket echo server: connect with ws:// (HTTP/1.1) or RFC 8441 (HTTP/2)\n";
    let response = Response::builder()
        .header("content-type", "text/plain")
        .body(body.to_string())
        .map_err(|_| pullhttp::Error::from(std::io::Error::other("bad response")))?;
    responder.send_response_with(response).await
}
