//! The HTTP/1.1 upgrade flow on the client: handshake, send an `Upgrade: websocket`
//! request, await the `101`, take the transport and the octets the server sent right after
//! it with `without_shutdown`, and go on as a WebSocket with `tokio-tungstenite`.
//!
//! With `--http2` it speaks RFC 8441 instead (HTTP/2 by prior knowledge): it waits for the
//! server's SETTINGS to allow extended CONNECT, sends `:method CONNECT` with
//! `:protocol websocket`, and the stream becomes the WebSocket's transport
//! (`client::tunnel`).
//!
//! `cargo run -p pullhttp --example websocket_client -- [--http2] ws://127.0.0.1:9001/path [MESSAGE...]`
//! sends each message (default: `hello`) and prints `got: <reply>` for each reply. A
//! message the server sent unasked right after its `101` is printed first, as
//! `read-ahead: N octets` then `got: ...`.

use futures_util::{SinkExt, StreamExt};
use http::{Request, StatusCode, Uri};
use pullhttp::client;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("websocket_client: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1).peekable();
    let h2 = args.peek().is_some_and(|a| a == "--http2");
    if h2 {
        args.next();
    }
    let url: Uri = args
        .next()
        .ok_or("usage: websocket_client ws://HOST:PORT/PATH [MESSAGE...]")?
        .parse()?;
    let mut messages: Vec<String> = args.collect();
    if messages.is_empty() {
        messages.push("hello".into());
    }
    let authority = url.authority().ok_or("the URL has no authority")?.clone();
    let tcp = TcpStream::connect((authority.host(), authority.port_u16().unwrap_or(80))).await?;
    if h2 {
        return over_http2(tcp, &url, messages).await;
    }
    let (mut send, conn) = client::handshake(tcp);
    // The connection is driven until the upgrade, then hands the transport over.
    let parts = tokio::spawn(conn.without_shutdown());
    let key = tokio_tungstenite::tungstenite::handshake::client::generate_key();
    let request = Request::get(url.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", authority.as_str())
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", &key)
        .body(())?;
    let (response, _) = send.send_request(request, true)?;
    let response = response.await?;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(format!("the server answered {}", response.status()).into());
    }
    let accept = response
        .headers()
        .get("sec-websocket-accept")
        .ok_or("101 without Sec-WebSocket-Accept")?;
    if accept.as_bytes() != derive_accept_key(key.as_bytes()).as_bytes() {
        return Err("wrong Sec-WebSocket-Accept".into());
    }
    let parts = parts.await??;
    // Anything the server sent unasked came with the 101: print it before the echoes.
    let greeting = !parts.read_buf.is_empty();
    if greeting {
        println!("read-ahead: {} octets", parts.read_buf.len());
    }
    let mut ws =
        WebSocketStream::from_partially_read(parts.io, parts.read_buf.to_vec(), Role::Client, None)
            .await;
    chat(&mut ws, messages, greeting).await?;
    ws.close(None).await?;
    Ok(())
}

/// RFC 8441: the WebSocket over one HTTP/2 stream.
async fn over_http2(tcp: TcpStream, url: &Uri, messages: Vec<String>) -> Result<(), BoxError> {
    let mut builder = client::Builder::new();
    builder.version(client::Version::Http2);
    let (mut send, conn) = builder.handshake(tcp);
    let driver = tokio::spawn(conn);
    if !send.peer_settings_ready().await?.enable_connect_protocol {
        return Err("the server does not accept extended CONNECT (RFC 8441)".into());
    }
    let mut request = Request::connect(format!(
        "http://{}{}",
        url.authority().ok_or("no authority")?,
        url.path()
    ))
    .header("sec-websocket-version", "13")
    .body(())?;
    request
        .extensions_mut()
        .insert(pullhttp::proto::h2::Protocol::from_static("websocket"));
    let (response, body) = send.send_request(request, false)?;
    let response = response.await?;
    if response.status() != StatusCode::OK {
        return Err(format!("the server answered {}", response.status()).into());
    }
    let tunnel = client::tunnel(response, body.ok_or("no request body handle")?)?;
    let mut ws = WebSocketStream::from_raw_socket(tunnel, Role::Client, None).await;
    chat(&mut ws, messages, false).await?;
    ws.close(None).await?;
    // Nothing left to send: the connection closes itself (GOAWAY) once the driver sees it.
    drop((ws, send));
    driver.await??;
    Ok(())
}

/// Sends each message and prints the reply (a greeting first, if one is expected).
async fn chat<S>(
    ws: &mut WebSocketStream<S>,
    messages: Vec<String>,
    mut greeting: bool,
) -> Result<(), BoxError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for message in messages {
        ws.send(Message::text(message)).await?;
        loop {
            match ws.next().await.ok_or("the server closed")?? {
                Message::Text(t) => {
                    println!("got: {t}");
                    if greeting {
                        greeting = false;
                        continue;
                    }
                    break;
                }
                Message::Binary(b) => {
                    println!("got: {} binary octets", b.len());
                    break;
                }
                _ => {}
            }
        }
    }
    Ok(())
}
