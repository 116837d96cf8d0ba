//! CONNECT through a proxy, then use the tunnel: an HTTP/1.1 GET to the target, sent with
//! a second pullhttp client over the tunnel.
//!
//! `cargo run -p pullhttp --example connect_tunnel -- [--http2-prior-knowledge] PROXY TARGET [PATH]`
//! (`PROXY` and `TARGET` as `host:port`). HTTP/1.1: the proxy's 2xx hands the transport
//! over (`without_shutdown` → `Parts { io, read_buf }`). HTTP/2: the CONNECT stream itself
//! is the tunnel (`client::tunnel`), and the proxy connection stays usable for more.
//! Prints the proxy's status, then the target's status line to stderr and its body to
//! stdout.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use http::{Request, StatusCode};
use pullhttp::client;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("connect_tunnel: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let h2 = args.first().is_some_and(|a| a == "--http2-prior-knowledge");
    if h2 {
        args.remove(0);
    }
    let [proxy, target, rest @ ..] = &args[..] else {
        return Err("usage: connect_tunnel [--http2-prior-knowledge] PROXY TARGET [PATH]".into());
    };
    let path = rest.first().map_or("/", String::as_str);
    let tcp = TcpStream::connect(proxy.as_str()).await?;
    if h2 {
        let mut builder = client::Builder::new();
        builder.version(client::Version::Http2);
        let (mut send, conn) = builder.handshake(tcp);
        let driver = tokio::spawn(conn);
        // Authority-form: `:method CONNECT` and `:authority`, no `:scheme` or `:path`.
        let (response, body) =
            send.send_request(Request::connect(target.as_str()).body(())?, false)?;
        let response = response.await?;
        eprintln!("proxy: {:?} {}", response.version(), response.status());
        let tunnel = client::tunnel(response, body.ok_or("no request body handle")?)?;
        get(tunnel, target, path).await?;
        // The tunnel is gone with `get`: close the proxy connection cleanly (GOAWAY).
        drop(send);
        driver.await??;
        Ok(())
    } else {
        let (mut send, conn) = client::handshake(tcp);
        let parts = tokio::spawn(conn.without_shutdown());
        let request = Request::connect(target.as_str())
            .header("host", target.as_str())
            .body(())?;
        let (response, _) = send.send_request(request, true)?;
        let response = response.await?;
        eprintln!("proxy: {:?} {}", response.version(), response.status());
        if !response.status().is_success() {
            return Err(format!("the proxy refused: {}", response.status()).into());
        }
        let parts = parts.await??;
        // Octets the target already sent travel with the transport.
        get(Rewind::new(parts.io, parts.read_buf), target, path).await
    }
}

/// A GET over the tunnel with a fresh HTTP/1.1 client connection.
async fn get<IO>(io: IO, target: &str, path: &str) -> Result<(), BoxError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut send, conn) = client::handshake(io);
    tokio::spawn(conn);
    let request = Request::get(path).header("host", target).body(())?;
    let (response, _) = send.send_request(request, true)?;
    let mut response = response.await?;
    eprintln!("target: {:?} {}", response.version(), response.status());
    let mut stdout = tokio::io::stdout();
    while let Some(chunk) = response.body_mut().data().await {
        stdout.write_all(&chunk?).await?;
    }
    stdout.flush().await?;
    if response.status() != StatusCode::OK {
        return Err(format!("the target answered {}", response.status()).into());
    }
    Ok(())
}

/// A transport that first yields the octets already read from it.
struct Rewind<IO> {
    io: IO,
    read_buf: BytesMut,
}

impl<IO> Rewind<IO> {
    fn new(io: IO, read_buf: BytesMut) -> Self {
        Rewind { io, read_buf }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Rewind<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.read_buf.is_empty() {
            let n = self.read_buf.len().min(buf.remaining());
            buf.put_slice(&self.read_buf[..n]);
            self.read_buf.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Rewind<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
