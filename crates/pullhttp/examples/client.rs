//! A small curl: GET (or POST with `-d`) over HTTP/1.1 or HTTP/2 with the client handle API,
//! printing the status line and headers to stderr and the body, byte for byte, to stdout.
//!
//! ```text
//! cargo run -p pullhttp --example client -- [OPTIONS] URL
//!   --http2-prior-knowledge   HTTP/2 without negotiation (cleartext h2c)
//!   --http2                   cleartext: offer `Upgrade: h2c` on the request
//!                             (TLS: ALPN offers h2 and http/1.1 anyway)
//!   -d FILE | -d @FILE        POST the file's contents
//!   -H 'Name: value'          add a request field (repeatable)
//!   --insecure                TLS: accept any certificate
//!   --cacert FILE             TLS: trust the PEM certificate(s) in FILE
//!   --parallel N              send N copies of the request at once on the one connection
//!                             (HTTP/2 multiplexes them; HTTP/1.1 queues them); all bodies
//!                             must be equal, one is printed
//! ```
//!
//! `https://` URLs use `pullhttp::tls` (feature `tls`: rustls with the ring provider) and ALPN
//! (`h2`, `http/1.1`);
//! the negotiated protocol picks the version. The connection is driven by a spawned task
//! (`tokio::spawn(conn)`); requests go through clones of the `SendRequest`.

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::Full;
use pullhttp::client::{self, SendRequest};
use pullhttp::tls;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Default)]
struct Options {
    prior_knowledge: bool,
    upgrade: bool,
    data: Option<Bytes>,
    headers: Vec<(String, String)>,
    insecure: bool,
    cacert: Option<String>,
    parallel: usize,
    url: Option<Uri>,
}

fn usage() -> ! {
    eprintln!(
        "usage: client [--http2-prior-knowledge] [--http2] [-d FILE] [-H 'Name: value'] \
         [--insecure] [--cacert FILE] [--parallel N] URL"
    );
    std::process::exit(2)
}

fn parse() -> Result<Options, BoxError> {
    let mut o = Options {
        parallel: 1,
        ..Options::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http2-prior-knowledge" => o.prior_knowledge = true,
            "--http2" => o.upgrade = true,
            "--insecure" | "-k" => o.insecure = true,
            "--cacert" => o.cacert = Some(args.next().unwrap_or_else(|| usage())),
            "-d" | "--data-binary" => {
                let file = args.next().unwrap_or_else(|| usage());
                let file = file.strip_prefix('@').unwrap_or(&file);
                o.data = Some(Bytes::from(std::fs::read(file)?));
            }
            "-H" => {
                let h = args.next().unwrap_or_else(|| usage());
                let (name, value) = h.split_once(':').unwrap_or_else(|| usage());
                o.headers
                    .push((name.trim().to_owned(), value.trim().to_owned()));
            }
            "--parallel" => {
                o.parallel = args.next().unwrap_or_else(|| usage()).parse()?;
            }
            url if !url.starts_with('-') => o.url = Some(url.parse()?),
            _ => usage(),
        }
    }
    Ok(o)
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("client: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let o = parse()?;
    let url = o.url.clone().unwrap_or_else(|| usage());
    let tls = match url.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("the URL must be http:// or https://".into()),
    };
    let host = url.host().ok_or("the URL has no host")?.to_owned();
    let port = url.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    tcp.set_nodelay(true)?;
    if tls {
        let connector = tls::connector(tls_config(&o)?);
        let (io, version) = tls::connect(&connector, &host, tcp).await?;
        exchange(io, version, &o, &url).await
    } else {
        let version = if o.prior_knowledge {
            client::Version::Http2
        } else if o.upgrade {
            client::Version::H2cUpgrade
        } else {
            client::Version::Http1
        };
        exchange(tcp, version, &o, &url).await
    }
}

/// Sends the request(s) on one connection and prints the answer.
async fn exchange<IO>(
    io: IO,
    version: client::Version,
    o: &Options,
    url: &Uri,
) -> Result<(), BoxError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = client::Builder::new();
    builder.version(version);
    let (send, conn) = builder.handshake(io);
    let driver = tokio::spawn(conn);
    let mut tasks = Vec::new();
    for _ in 0..o.parallel.max(1) {
        let request = build_request(o, url, version)?;
        tasks.push(tokio::spawn(fetch(send.clone(), request)));
    }
    drop(send);
    let mut bodies = Vec::new();
    let mut failed = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await? {
            Ok((head, body)) => {
                if bodies.is_empty() {
                    eprint!("{head}");
                }
                bodies.push(body);
            }
            // With several requests, say which failed and whether it may be sent again
            // (a GOAWAY refuses the streams the server did not process).
            Err(e) if o.parallel > 1 => {
                let retryable = e
                    .downcast_ref::<pullhttp::Error>()
                    .is_some_and(pullhttp::Error::is_retryable);
                eprintln!("request {i} failed: {e} (retryable: {retryable})");
                failed += 1;
            }
            Err(e) => return Err(e),
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {} requests failed", o.parallel).into());
    }
    if let Some(odd) = bodies.iter().position(|b| *b != bodies[0]) {
        return Err(format!("response {odd} differs from response 0").into());
    }
    let mut stdout = tokio::io::stdout();
    stdout.write_all(&bodies[0]).await?;
    stdout.flush().await?;
    if o.parallel > 1 {
        eprintln!("{} responses, all equal", bodies.len());
    }
    // Every SendRequest is gone and nothing is in flight: the connection closes itself.
    driver.await??;
    Ok(())
}

fn build_request(
    o: &Options,
    url: &Uri,
    version: client::Version,
) -> Result<Request<Full<Bytes>>, BoxError> {
    // HTTP/1.1 takes the origin-form target and a Host field; HTTP/2 the absolute URI
    // (its :authority and :scheme come from it).
    let authority = url.authority().ok_or("the URL has no authority")?.as_str();
    let target = if version == client::Version::Http2 {
        url.to_string()
    } else {
        url.path_and_query().map_or("/", |p| p.as_str()).to_owned()
    };
    let method = if o.data.is_some() { "POST" } else { "GET" };
    let mut builder = Request::builder().method(method).uri(target);
    if version != client::Version::Http2 {
        builder = builder.header("host", authority);
    }
    builder = builder.header("user-agent", "pullhttp-example-client");
    for (name, value) in &o.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    Ok(builder.body(Full::new(o.data.clone().unwrap_or_default()))?)
}

/// One request: the printed head and the whole body.
async fn fetch(
    mut send: SendRequest,
    request: Request<Full<Bytes>>,
) -> Result<(String, Vec<u8>), BoxError> {
    send.ready().await?;
    let mut response = send.send(request)?.await?;
    let mut head = format!("{:?} {}\n", response.version(), response.status());
    for (name, value) in response.headers() {
        head.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.body_mut().data().await {
        body.extend_from_slice(&chunk?);
    }
    Ok((head, body))
}

fn tls_config(o: &Options) -> Result<tls::rustls_crate::ClientConfig, BoxError> {
    if o.insecure {
        return tls::insecure_client_config();
    }
    let file = o
        .cacert
        .as_ref()
        .ok_or("https needs --cacert FILE or --insecure (no system roots here)")?;
    tls::client_config_from_pem(&std::fs::read(file)?)
}
