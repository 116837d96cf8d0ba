//! `pullhttp get`: one request (or a quick load test) on one connection.
//!
//! The version: `http://` URLs use HTTP/1.1, `--http2` offers an h2c upgrade on the request,
//! `--http2-prior-knowledge` starts HTTP/2 at once; `https://` URLs let ALPN choose (`h2`,
//! then `http/1.1`), narrowed by `--http1.1` or `--http2-prior-knowledge`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, Uri};
use pullhttp::client::{self, RecvBody, SendBody, SendRequest};
use pullhttp::tls;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::BoxError;

mod load;
mod trace;

/// Options of `pullhttp get`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The URL: http:// or https://.
    url: Uri,
    /// HTTP/1.1 only (over TLS, ALPN offers only http/1.1).
    #[arg(long = "http1.1", group = "version")]
    http1_1: bool,
    /// HTTP/2: over cleartext, offer an h2c upgrade on the request; over TLS, ALPN offers
    /// h2 and http/1.1 (the default).
    #[arg(long, group = "version")]
    http2: bool,
    /// HTTP/2 without negotiation (cleartext h2c; over TLS, ALPN offers only h2).
    #[arg(long, group = "version")]
    http2_prior_knowledge: bool,
    /// TLS: accept any server certificate.
    #[arg(long, short = 'k')]
    insecure: bool,
    /// TLS: trust the PEM certificate(s) in FILE (no system roots are loaded).
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// The method (default GET, or POST with --data).
    #[arg(long = "request", short = 'X', value_name = "METHOD")]
    method: Option<Method>,
    /// A request field, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "FIELD")]
    headers: Vec<String>,
    /// The request body: the text given, or `@FILE` to send a file (streamed).
    #[arg(long, short = 'd', value_name = "DATA")]
    data: Option<String>,
    /// Write the body to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the response head before the body (to the same place).
    #[arg(long, short = 'i')]
    include: bool,
    /// Print the connection's steps, every HTTP/2 frame sent and received (with decoded
    /// fields) and the HTTP/1.1 heads, to stderr.
    #[arg(long, short = 'v')]
    verbose: bool,
    /// Load test: send the request N times on the one connection and print a summary
    /// (bodies are read and dropped).
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: usize,
    /// Load test: requests in flight at once (HTTP/2 streams; HTTP/1.1 pipelines them).
    #[arg(long, value_name = "M", default_value_t = 1)]
    concurrency: usize,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

/// A transport of any kind (TCP, TLS, traced).
trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

pub(crate) async fn run(args: Args) -> Result<ExitCode, BoxError> {
    let since = Instant::now();
    let secure = match args.url.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("the URL must start with http:// or https://".into()),
    };
    let host = args.url.host().ok_or("the URL has no host")?.to_owned();
    let port = args.url.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    tcp.set_nodelay(true)?;
    if args.verbose {
        eprintln!("* connected to {} ({host}:{port})", tcp.peer_addr()?);
    }
    let (io, version): (Box<dyn Io>, client::Version) = if secure {
        let connector = tls::connector(tls_config(&args)?);
        let (stream, mut version) = tls::connect(&connector, &host, tcp).await?;
        if args.verbose {
            let (_, session) = stream.get_ref();
            let alpn = session
                .alpn_protocol()
                .map_or("none".into(), String::from_utf8_lossy);
            eprintln!(
                "* TLS {}, ALPN: {alpn}",
                session
                    .protocol_version()
                    .map_or("?".into(), |v| format!("{v:?}"))
            );
        }
        if args.http2_prior_knowledge {
            version = client::Version::Http2;
        }
        (Box::new(stream), version)
    } else if args.http2_prior_knowledge {
        (Box::new(tcp), client::Version::Http2)
    } else if args.http2 {
        (Box::new(tcp), client::Version::H2cUpgrade)
    } else {
        (Box::new(tcp), client::Version::Http1)
    };
    let io: Box<dyn Io> = match (args.verbose, version) {
        (true, client::Version::Http2) => Box::new(trace::Trace::new(
            io,
            trace::Start::ClientPreface,
            trace::Start::Frames,
            since,
        )),
        (true, client::Version::H2cUpgrade) => Box::new(trace::Trace::new(
            io,
            trace::Start::Http1Head,
            trace::Start::Http1Head,
            since,
        )),
        _ => io,
    };
    let mut builder = client::Builder::new();
    builder.version(version);
    let (send, conn) = builder.handshake(io);
    let driver = tokio::spawn(conn);
    let outcome = if args.repeat > 1 || args.concurrency > 1 {
        load::run(&args, send, version).await
    } else {
        fetch_one(&args, send, version).await
    };
    // Every SendRequest is gone: the connection closes itself (HTTP/2 with a GOAWAY).
    match driver.await {
        Ok(Err(e)) if outcome.is_ok() && args.verbose => eprintln!("* connection: {e}"),
        _ => {}
    }
    if args.verbose {
        eprintln!("* done in {:.3} s", since.elapsed().as_secs_f64());
    }
    outcome
}

fn tls_config(args: &Args) -> Result<tls::rustls_crate::ClientConfig, BoxError> {
    let mut config = if args.insecure {
        tls::insecure_client_config()?
    } else if let Some(file) = &args.cacert {
        let pem = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        tls::client_config_from_pem(&pem)?
    } else {
        return Err("https needs --cacert FILE or --insecure (no system roots are loaded)".into());
    };
    if args.http1_1 {
        config.alpn_protocols = vec![tls::ALPN_HTTP11.to_vec()];
    } else if args.http2_prior_knowledge {
        config.alpn_protocols = vec![tls::ALPN_H2.to_vec()];
    }
    Ok(config)
}

/// What the request's body is.
#[derive(Debug, Clone)]
enum Body {
    None,
    Bytes(Bytes),
    File(PathBuf, u64),
}

impl Body {
    fn from_args(args: &Args) -> Result<Body, BoxError> {
        Ok(match &args.data {
            None => Body::None,
            Some(data) => match data.strip_prefix('@') {
                Some(file) => {
                    let len = std::fs::metadata(file)
                        .map_err(|e| format!("{file}: {e}"))?
                        .len();
                    Body::File(PathBuf::from(file), len)
                }
                None => Body::Bytes(Bytes::from(data.clone())),
            },
        })
    }

    fn len(&self) -> Option<u64> {
        match self {
            Body::None => None,
            Body::Bytes(b) => Some(b.len() as u64),
            Body::File(_, len) => Some(*len),
        }
    }

    /// Sends the body on `send`: a file is streamed piece by piece as room appears.
    async fn send(self, mut send: SendBody) -> Result<(), BoxError> {
        match self {
            Body::None => return Ok(()),
            Body::Bytes(b) => send.write(b).await?,
            Body::File(path, _) => {
                let mut file = tokio::fs::File::open(&path).await?;
                send.reserve_capacity(256 << 10);
                loop {
                    let room = send.capacity_ready().await?;
                    let mut piece = vec![0; room.min(256 << 10)];
                    let n = file.read(&mut piece).await?;
                    if n == 0 {
                        break;
                    }
                    piece.truncate(n);
                    send.send_data(Bytes::from(piece), false)?;
                }
            }
        }
        send.finish()?.await?;
        Ok(())
    }
}

/// The request of the command line for `version` (HTTP/1.1 takes the origin form and a
/// `Host`; HTTP/2 the absolute URI, whose authority becomes `:authority`).
fn request(args: &Args, version: client::Version, body: &Body) -> Result<Request<()>, BoxError> {
    let url = &args.url;
    let method = args.method.clone().unwrap_or(match body {
        Body::None => Method::GET,
        _ => Method::POST,
    });
    let target = if version == client::Version::Http2 {
        url.to_string()
    } else {
        url.path_and_query().map_or("/", |p| p.as_str()).to_owned()
    };
    let mut request = Request::builder().method(method).uri(target).body(())?;
    let headers = request.headers_mut();
    if version != client::Version::Http2 {
        let authority = url.authority().ok_or("the URL has no authority")?;
        headers.insert(
            http::header::HOST,
            HeaderValue::from_str(authority.as_str())?,
        );
    }
    headers.insert(
        http::header::USER_AGENT,
        HeaderValue::from_static(concat!("pullhttp/", env!("CARGO_PKG_VERSION"))),
    );
    headers.insert(http::header::ACCEPT, HeaderValue::from_static("*/*"));
    if let Some(len) = body.len() {
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    for field in &args.headers {
        let (name, value) = field
            .split_once(':')
            .ok_or_else(|| format!("-H `{field}`: expected `Name: value`"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|e| format!("-H `{field}`: {e}"))?;
        let value =
            HeaderValue::from_str(value.trim()).map_err(|e| format!("-H `{field}`: {e}"))?;
        // A field given replaces ours of that name (Host, User-Agent, Accept).
        headers.remove(&name);
        headers.append(name, value);
    }
    Ok(request)
}

/// The upload of a request body, running beside the response.
type Upload = tokio::task::JoinHandle<Result<(), BoxError>>;

/// Sends `request` with `body` (its upload in its own task) and waits for the response head.
async fn exchange(
    send: &mut SendRequest,
    request: Request<()>,
    body: Body,
) -> Result<(Response<RecvBody>, Option<Upload>), BoxError> {
    send.ready().await?;
    let end_stream = matches!(body, Body::None);
    let (response, body_out) = send.send_request(request, end_stream)?;
    let upload = body_out.map(|out| tokio::spawn(body.send(out)));
    Ok((response.await?, upload))
}

async fn fetch_one(
    args: &Args,
    mut send: SendRequest,
    version: client::Version,
) -> Result<ExitCode, BoxError> {
    let body = Body::from_args(args)?;
    let request = request(args, version, &body)?;
    let head_request = request.method() == Method::HEAD;
    if args.verbose && version != client::Version::Http2 {
        eprint!(
            "{}",
            head_text("> ", &request_line(&request), request.headers())
        );
    }
    let (mut response, upload) = exchange(&mut send, request, body).await?;
    drop(send);
    let status_line = format!(
        "{} {}",
        match response.version() {
            http::Version::HTTP_2 => "HTTP/2",
            _ => "HTTP/1.1",
        },
        response.status()
    );
    if args.verbose && response.version() != http::Version::HTTP_2 {
        eprint!("{}", head_text("< ", &status_line, response.headers()));
    }
    let mut out: Box<dyn AsyncWrite + Unpin + Send> = match &args.output {
        Some(path) => Box::new(
            tokio::fs::File::create(path)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => Box::new(tokio::io::stdout()),
    };
    if args.include {
        let head = head_text("", &status_line, response.headers()).replace('\n', "\r\n");
        out.write_all(head.as_bytes()).await?;
    }
    // The body's announced length (none for HEAD, 204 and 304, whose length is not the body's).
    let bodiless = head_request
        || response.status() == http::StatusCode::NO_CONTENT
        || response.status() == http::StatusCode::NOT_MODIFIED;
    let len = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .filter(|_| !bodiless);
    let progress = progress_bar(args, len);
    let body = response.body_mut();
    let mut got = 0u64;
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        got += chunk.len() as u64;
        if let Some(bar) = &progress {
            bar.set_position(got);
        }
        out.write_all(&chunk).await?;
    }
    if let Some(trailers) = body.trailers().await? {
        if args.verbose && response.version() != http::Version::HTTP_2 {
            eprint!("{}", head_text("< ", "(trailers)", &trailers));
        }
    }
    out.flush().await?;
    if let Some(bar) = progress {
        bar.finish();
    }
    // A server may answer before the whole body is sent (and reset the rest): worth a
    // warning, but the response is what counts.
    if let Some(Ok(Err(e))) = match upload {
        Some(upload) => Some(upload.await),
        None => None,
    } {
        eprintln!("pullhttp: the request body was not sent whole: {e}");
    }
    if let Some(len) = len {
        if got != len {
            return Err(format!("the body ended after {got} of {len} octets").into());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn request_line(request: &Request<()>) -> String {
    format!("{} {} HTTP/1.1", request.method(), request.uri())
}

/// A head as text: the first line, then `name: value` lines and a blank line, each line
/// prefixed.
fn head_text(prefix: &str, first: &str, headers: &http::HeaderMap) -> String {
    let mut text = format!("{prefix}{first}\n");
    for (name, value) in headers {
        text.push_str(&format!(
            "{prefix}{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push_str(prefix.trim_end());
    text.push('\n');
    text
}

/// A progress bar on stderr for a large (or unsized) download, when stderr is a terminal
/// and the body does not go to it.
fn progress_bar(args: &Args, len: Option<u64>) -> Option<indicatif::ProgressBar> {
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    if args.no_progress || args.verbose || to_terminal || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match len {
        Some(len) if len < 1 << 20 => return None,
        Some(len) => indicatif::ProgressBar::new(len).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .ok()?,
        ),
        None => indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec}").ok()?,
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}
