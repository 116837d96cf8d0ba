//! The transport after an upgrade: the IO and the octets already read past the boundary.

use bytes::BytesMut;

/// A connection handed over after an HTTP/1.1 `101` or a 2xx to CONNECT: speak the new
/// protocol on `io`, starting with `read_buf` (what the peer sent after its request).
#[derive(Debug)]
pub struct Upgraded<IO> {
    /// The transport.
    pub io: IO,
    /// Octets received past the boundary, not yet consumed.
    pub read_buf: BytesMut,
}
