//! What the benchmark servers and clients share: the routes, the bodies, the runtimes.
//!
//! Every server answers the same routes the same way, so `bench/run` can put them side by
//! side: `GET /small` → 200 with the 13 octets `hello, world\n` (`text/plain`), `GET /1m` →
//! 1 MiB, `GET /1g` → 1 GiB (both streamed from one shared buffer), `POST /echo` → the
//! request body back, `POST /sink` → the body read and dropped, then 200 with its length.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

pub mod servers;

/// The small response body (13 octets).
pub const SMALL: &[u8] = b"hello, world\n";

/// The piece large bodies are made of.
pub const PIECE: usize = 256 << 10;

/// The paths a GET is answered on (see [`body_len`]).
pub const GET_ROUTES: [&str; 3] = ["/small", "/1m", "/1g"];

/// What a GET path asks for: `Some(len)` of a generated body, or `None` (404).
pub fn body_len(path: &str) -> Option<u64> {
    match path {
        "/small" => Some(SMALL.len() as u64),
        "/1m" => Some(1 << 20),
        "/1g" => Some(1 << 30),
        _ => None,
    }
}

/// The body of `len` octets as pieces of one shared buffer (no copying, no allocation per
/// piece): the small body for 13 octets, zeros otherwise.
#[derive(Debug, Clone)]
pub struct Repeat {
    piece: Bytes,
    left: u64,
}

impl Repeat {
    /// A body of `len` octets.
    pub fn new(len: u64) -> Self {
        let piece = if len == SMALL.len() as u64 {
            Bytes::from_static(SMALL)
        } else {
            Bytes::from(vec![0u8; PIECE])
        };
        Repeat { piece, left: len }
    }

    /// The next piece, or `None` at the end.
    pub fn next_piece(&mut self) -> Option<Bytes> {
        if self.left == 0 {
            return None;
        }
        let n = usize::try_from(self.left).map_or(self.piece.len(), |l| l.min(self.piece.len()));
        self.left -= n as u64;
        Some(self.piece.slice(..n))
    }

    /// Octets still to come.
    pub fn left(&self) -> u64 {
        self.left
    }
}

impl http_body::Body for Repeat {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(
            self.get_mut()
                .next_piece()
                .map(|p| Ok(http_body::Frame::data(p))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

/// A tokio runtime: `current` (one thread) or `multi` (one worker per core).
pub fn runtime(kind: &str) -> std::io::Result<tokio::runtime::Runtime> {
    match kind {
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        "multi" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        other => Err(std::io::Error::other(format!(
            "unknown runtime {other} (current or multi)"
        ))),
    }
}

/// `--name value` from the command line, or `default`.
pub fn arg(name: &str, default: &str) -> String {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next().unwrap_or_default();
        }
    }
    default.to_owned()
}

/// Errors of the benchmark programs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
