//! `pullhttp serve`: a directory (or an echo) over HTTP/1.1 and HTTP/2 on one port.
//!
//! Cleartext connections are detected (HTTP/1.1, HTTP/2 prior knowledge, and `Upgrade:
//! h2c`); `--tls` picks the version from ALPN. One task per connection drives it through the
//! handle API (`server::Acceptor`) and one task per request answers it; a listener-wide
//! [`Graceful`] drains everything on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pullhttp::{Graceful, server, tls};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::Semaphore;

use crate::{BoxError, duration};

mod files;
mod respond;

/// Options of `pullhttp serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The directory to serve.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The address to listen on (port 0 picks a free port; the first line printed says which).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Serve over TLS with ALPN (h2, http/1.1); a self-signed certificate for localhost and
    /// the listening address is made at start unless --cert and --key are given.
    #[arg(long)]
    tls: bool,
    /// TLS: the certificate chain (PEM).
    #[arg(long, requires_all = ["tls", "key"])]
    cert: Option<PathBuf>,
    /// TLS: the certificate's private key (PEM).
    #[arg(long, requires_all = ["tls", "cert"])]
    key: Option<PathBuf>,
    /// TLS: write the self-signed certificate made at start to this file (PEM), for clients
    /// to trust (`pullhttp get --cacert FILE`, `curl --cacert FILE`).
    #[arg(long, requires = "tls", conflicts_with = "cert")]
    save_cert: Option<PathBuf>,
    /// Answer every request with its method, target, version and fields, then its body.
    #[arg(long)]
    echo: bool,
    /// No access log.
    #[arg(long, short)]
    quiet: bool,
    /// On Ctrl-C or SIGTERM: how long connections may finish their requests before the rest
    /// are closed.
    #[arg(long, value_parser = duration::parse, default_value = "10s")]
    shutdown_timeout: Duration,
    #[command(flatten)]
    limits: Limits,
}

fn defaults() -> server::Builder {
    server::Builder::new()
}

/// Limits and timeouts; each default is the library's.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Limits and timeouts")]
struct Limits {
    /// Connections served at once; more wait in the listen queue.
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// HTTP/2: streams a client may open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    #[arg(long, default_value_t = defaults().http2().max_concurrent_streams)]
    max_concurrent_streams: u32,
    /// HTTP/2: each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE).
    #[arg(long, default_value_t = defaults().http2().initial_window_size)]
    initial_window_size: u32,
    /// HTTP/2: the connection's receive window.
    #[arg(long, default_value_t = defaults().http2().connection_window_size)]
    connection_window_size: u32,
    /// HTTP/2: the largest field section accepted (SETTINGS_MAX_HEADER_LIST_SIZE).
    #[arg(long, default_value_t = defaults().http2().max_header_list_size)]
    max_header_list_size: u32,
    /// HTTP/1.1: the largest request head, in octets (larger: 431).
    #[arg(long, default_value_t = defaults().http1().max_head_size)]
    max_head_size: usize,
    /// HTTP/1.1: the most fields in a request head.
    #[arg(long, default_value_t = defaults().http1().max_headers)]
    max_headers: usize,
    /// HTTP/1.1: how long a request head may take to arrive (then 408).
    #[arg(long, value_parser = duration::parse,
          default_value = duration::show(defaults().http1().header_read_timeout))]
    header_read_timeout: Duration,
    /// HTTP/1.1: how long an idle keep-alive connection stays open.
    #[arg(long, value_parser = duration::parse,
          default_value = duration::show(defaults().http1().keep_alive_timeout))]
    keep_alive_timeout: Duration,
    /// How long a new cleartext connection may take to show its protocol, and a TLS
    /// handshake to finish.
    #[arg(long, value_parser = duration::parse, default_value = "10s")]
    detect_timeout: Duration,
    /// HTTP/2: send a PING after this long without input and close the connection when it
    /// goes unanswered for as long again (default: no PINGs).
    #[arg(long, value_parser = duration::parse)]
    keep_alive_ping: Option<Duration>,
}

impl Limits {
    fn builder(&self) -> server::Builder {
        let mut builder = server::Builder::new();
        let h2 = builder.http2();
        h2.max_concurrent_streams = self.max_concurrent_streams;
        h2.initial_window_size = self.initial_window_size;
        h2.connection_window_size = self.connection_window_size;
        h2.max_header_list_size = self.max_header_list_size;
        let h1 = builder.http1();
        h1.max_head_size = self.max_head_size;
        h1.max_headers = self.max_headers;
        h1.header_read_timeout = self.header_read_timeout;
        h1.keep_alive_timeout = self.keep_alive_timeout;
        builder.detect_timeout(self.detect_timeout);
        if let Some(interval) = self.keep_alive_ping {
            builder.keep_alive_ping(interval, interval);
        }
        builder
    }
}

/// What every connection task shares.
#[derive(Debug)]
struct Shared {
    root: PathBuf,
    echo: bool,
    log: bool,
    builder: server::Builder,
    detect_timeout: Duration,
}

pub(crate) async fn run(args: Args) -> Result<ExitCode, BoxError> {
    let root = std::fs::canonicalize(&args.dir)
        .map_err(|e| format!("cannot serve {}: {e}", args.dir.display()))?;
    if !root.is_dir() {
        return Err(format!("{} is not a directory", root.display()).into());
    }
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let local = listener.local_addr()?;
    let acceptor = if args.tls {
        Some(tls::acceptor(tls_config(&args, local)?))
    } else {
        None
    };
    let shared = Arc::new(Shared {
        root,
        echo: args.echo,
        log: !args.quiet,
        builder: args.limits.builder(),
        detect_timeout: args.limits.detect_timeout,
    });
    let scheme = if args.tls { "https" } else { "http" };
    let what = if args.echo {
        "echoing requests".to_owned()
    } else {
        format!("serving {}", shared.root.display())
    };
    // The first line says where (tests and scripts read the port from it).
    println!("listening on {scheme}://{local}/ ({what})");
    let graceful = Graceful::new();
    let slots = Arc::new(Semaphore::new(args.limits.max_connections.max(1)));
    let mut signals = Signals::new()?;
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit?,
            signal = signals.next() => { eprintln!("pullhttp: {signal}: shutting down"); break }
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: say so, go on.
                    eprintln!("pullhttp: accept: {e}");
                    continue;
                }
            },
            signal = signals.next() => { eprintln!("pullhttp: {signal}: shutting down"); break }
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let graceful = graceful.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                None => connection(tcp, peer, None, &shared, &graceful).await,
                Some(acceptor) => {
                    let handshake = tls::accept(&acceptor, tcp);
                    match tokio::time::timeout(shared.detect_timeout, handshake).await {
                        Ok(Ok((stream, version))) => {
                            connection(stream, peer, Some(version), &shared, &graceful).await;
                        }
                        Ok(Err(e)) if shared.log => eprintln!("{peer}: TLS handshake: {e}"),
                        Err(_) if shared.log => eprintln!("{peer}: TLS handshake timed out"),
                        _ => {}
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let live = graceful.live();
    eprintln!(
        "pullhttp: draining {live} connection(s) for up to {}",
        duration::show(args.shutdown_timeout)
    );
    let report = graceful.shutdown(args.shutdown_timeout).await;
    eprintln!(
        "pullhttp: shutdown: {} graceful, {} forced",
        report.graceful, report.forced
    );
    Ok(ExitCode::SUCCESS)
}

/// Drives one connection: each request is answered in its own task.
async fn connection<IO>(
    io: IO,
    peer: SocketAddr,
    version: Option<server::Version>,
    shared: &Arc<Shared>,
    graceful: &Graceful,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = shared.builder.clone();
    if let Some(version) = version {
        builder.version(version);
    }
    let mut acceptor = builder.acceptor(io);
    let _watch = graceful.watch(acceptor.shutdown_handle());
    while let Some(accepted) = acceptor.accept().await {
        match accepted {
            Ok((request, responder)) => {
                tokio::spawn(respond::answer(request, responder, shared.clone(), peer));
            }
            Err(e) => {
                if shared.log {
                    eprintln!("{peer}: connection error: {e}");
                }
                break;
            }
        }
    }
}

/// The TLS configuration: the given certificate, or a self-signed one made now.
fn tls_config(args: &Args, local: SocketAddr) -> Result<tls::rustls_crate::ServerConfig, BoxError> {
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        return tls::server_config_from_pem(&read(cert)?, &read(key)?);
    }
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if !local.ip().is_unspecified() && !names.contains(&local.ip().to_string()) {
        names.push(local.ip().to_string());
    }
    let made = rcgen::generate_simple_self_signed(names.clone())?;
    let cert_pem = made.cert.pem();
    if let Some(path) = &args.save_cert {
        std::fs::write(path, &cert_pem)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    eprintln!(
        "pullhttp: self-signed certificate for {} (clients need --insecure or --cacert)",
        names.join(", ")
    );
    tls::server_config_from_pem(
        cert_pem.as_bytes(),
        made.key_pair.serialize_pem().as_bytes(),
    )
}

/// Ctrl-C (SIGINT) and SIGTERM, registered once so that a signal arriving while the
/// accept loop is busy is kept for its next turn.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "interrupted",
            _ = self.terminate.recv() => "terminated",
        }
    }
}
