//! Request keys: the opaque handle that matches a request to its response, shared by both
//! protocol versions (HTTP/2: the stream id; HTTP/1: the exchange's sequence number).
//!
//! A key carries the id of the connection that issued it, so a key used on another
//! connection is rejected instead of silently addressing the wrong exchange. Connection ids
//! come from a process-wide counter (an atomic, not a lock).

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT_CONNECTION_ID: AtomicU32 = AtomicU32::new(1);

/// Allocates a connection id for keys.
pub(crate) fn next_connection_id() -> u32 {
    NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed)
}

/// Identifies one request/response exchange on one connection. `Copy`, `Eq` and `Hash`, so it
/// can index the caller's own tables.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestKey {
    conn: u32,
    id: u64,
}

impl RequestKey {
    pub(crate) fn new(conn: u32, id: u64) -> Self {
        RequestKey { conn, id }
    }

    /// The connection that issued the key.
    pub(crate) fn connection(self) -> u32 {
        self.conn
    }

    /// The exchange within its connection: the HTTP/2 stream id, or the HTTP/1 sequence
    /// number.
    pub fn id(self) -> u64 {
        self.id
    }
}

impl fmt::Debug for RequestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestKey({}:{})", self.conn, self.id)
    }
}
