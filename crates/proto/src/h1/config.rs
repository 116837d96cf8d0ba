//! HTTP/1 connection configuration: limits, timeouts and policies, each with its default.

use std::time::Duration;

use crate::Role;

/// Configuration of an HTTP/1 connection. See each field for its default.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Our role.
    pub role: Role,
    /// Largest head (start line and fields) accepted: 431 beyond. Default 64 KiB.
    pub max_head_size: usize,
    /// Most fields in a head: 431 beyond. Default 100.
    pub max_headers: usize,
    /// Longest request-target: 414 beyond. Default 8 KiB.
    pub max_target_len: usize,
    /// Chunk-extension octets allowed per message. Default 16 KiB.
    pub max_chunk_extensions: usize,
    /// Largest trailer section (its field count is bounded by `max_headers`). Default
    /// 16 KiB.
    pub max_trailer_size: usize,
    /// Requests in progress at once: 1 (the default) parses the next request only once the
    /// current response is complete; more allows pipelined read-ahead, with responses still
    /// written in request order. Client: requests in flight at once.
    pub pipeline_depth: usize,
    /// Requests served on one connection before `Connection: close`. Default unlimited.
    pub max_requests: Option<usize>,
    /// Time for a request head to arrive once the connection is idle or a head has begun;
    /// then the connection closes (408 if a head had begun). Default 30 s.
    pub header_read_timeout: Duration,
    /// Time a connection may sit idle between exchanges. Default 60 s.
    pub keep_alive_timeout: Duration,
    /// After a response sent before its request body was read, up to this many body octets
    /// are read and discarded to keep the connection; beyond, `Connection: close`. Default
    /// 64 KiB.
    pub drain_limit: u64,
    /// Time allowed for that drain. Default 5 s.
    pub drain_timeout: Duration,
    /// Client: how long a request with `Expect: 100-continue` waits for the 100 before
    /// sending its body anyway. Default 1 s.
    pub continue_timeout: Duration,
    /// Input held unprocessed (pipelined read-ahead, or after an upgrade) before
    /// [`wants_read`](super::Connection::wants_read) turns false. Default 64 KiB.
    pub max_input_buffer: usize,
    /// Octets of body queued for writing before `send_data` accepts less. Default 256 KiB.
    pub max_send_buffer: usize,
    /// Received heads carry their fields' original case and order in a
    /// [`HeaderCase`](super::HeaderCase) extension (for proxies that forward heads
    /// unchanged: give the extension to the outgoing head). Default off, as in hyper: it
    /// costs an allocation or two and a map per head.
    pub preserve_header_case: bool,
}

impl Config {
    /// The defaults for a server.
    pub fn server() -> Self {
        Config::new(Role::Server)
    }

    /// The defaults for a client.
    pub fn client() -> Self {
        Config::new(Role::Client)
    }

    fn new(role: Role) -> Self {
        Config {
            role,
            max_head_size: 64 << 10,
            max_headers: 100,
            max_target_len: 8 << 10,
            max_chunk_extensions: 16 << 10,
            max_trailer_size: 16 << 10,
            pipeline_depth: 1,
            max_requests: None,
            header_read_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(60),
            drain_limit: 64 << 10,
            drain_timeout: Duration::from_secs(5),
            continue_timeout: Duration::from_secs(1),
            max_input_buffer: 64 << 10,
            max_send_buffer: 256 << 10,
            preserve_header_case: false,
        }
    }
}
