//! An HTTP/2 prior-knowledge server: accepts every connection, prints each request it
//! receives and answers 200 with no body.
//!
//! `cargo run -p pullhttp --example h2_server [ADDR]` (default 127.0.0.1:5928), then for
//! example `curl --http2-prior-knowledge http://127.0.0.1:5928/`.
//!
//! One task per connection, spawned here by the application: the library never spawns.

use pullhttp::server::{self, Builder, Version};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5928".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut builder = Builder::new();
    builder.version(Version::Http2);
    loop {
        let (tcp, peer) = listener.accept().await?;
        let conn = builder.handshake(tcp);
        tokio::spawn(async move {
            if let Err(e) = serve(conn).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

async fn serve(mut conn: server::Connection<tokio::net::TcpStream>) -> Result<(), pullhttp::Error> {
    let ok = http::Response::new(()).into_parts().0;
    while let Some(event) = conn.next_event().await? {
        if let server::Event::Request { key, head, .. } = event {
            println!("{} {} {:?}", head.method, head.uri, head.version);
            // The client may already have reset the stream: that ends this exchange, not
            // the connection.
            if let Err(e) = conn.send_response(key, &ok, true) {
                eprintln!("response to {key:?} not sent: {e}");
            }
        }
    }
    Ok(())
}
