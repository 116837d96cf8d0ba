//! `pullhttp`: serve a directory (or echo requests) over HTTP/1.1 and HTTP/2, and fetch URLs.
//!
//! ```text
//! pullhttp serve [DIR] [--addr 127.0.0.1:8080] [--tls [--cert PEM --key PEM]] [--echo]
//! pullhttp get URL [--http1.1 | --http2 | --http2-prior-knowledge] [-v] [-i] [-o FILE] ...
//! ```
//!
//! `pullhttp <command> --help` lists every option.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod duration;
mod get;
mod serve;

/// HTTP/1.1 and HTTP/2 from the command line, on the pullhttp library.
#[derive(Debug, Parser)]
#[command(name = "pullhttp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a directory (default: the current one) over HTTP/1.1 and HTTP/2.
    Serve(serve::Args),
    /// Fetch a URL over HTTP/1.1 or HTTP/2, cleartext or TLS.
    Get(get::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pullhttp: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Get(args) => get::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pullhttp: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Errors of both commands: printed as `pullhttp: <message>`, exit status 1.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
