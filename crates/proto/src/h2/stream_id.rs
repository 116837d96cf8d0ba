//! Stream identifiers (RFC 9113 §5.1.1): 31-bit, odd for client-initiated streams, even for
//! server-initiated ones, 0 for the connection itself.

use std::fmt;

/// A 31-bit HTTP/2 stream identifier. The reserved high bit is never stored.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId(u32);

impl StreamId {
    /// Stream 0: frames that apply to the whole connection.
    pub const ZERO: StreamId = StreamId(0);
    /// The largest stream identifier, 2^31-1.
    pub const MAX: StreamId = StreamId(0x7fff_ffff);

    /// A stream id from a 32-bit value; the reserved bit (R, §4.1) is cleared, as a receiver
    /// must ignore it.
    pub const fn new(value: u32) -> StreamId {
        StreamId(value & 0x7fff_ffff)
    }

    /// The id as a number.
    pub const fn as_u32(self) -> u32 {
        self.0
    }

    /// True for stream 0, the connection control stream.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// True for streams initiated by a client (odd ids).
    pub const fn is_client_initiated(self) -> bool {
        self.0 % 2 == 1
    }

    /// True for streams initiated by a server (even ids, other than 0).
    pub const fn is_server_initiated(self) -> bool {
        self.0 != 0 && self.0 % 2 == 0
    }
}

impl From<u32> for StreamId {
    fn from(value: u32) -> Self {
        StreamId::new(value)
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({})", self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::StreamId;

    #[test]
    fn new_with_reserved_bit_set_clears_it() {
        assert_eq!(StreamId::new(0x8000_0003).as_u32(), 3);
        assert!(StreamId::new(3).is_client_initiated());
        assert!(StreamId::new(2).is_server_initiated());
        assert!(!StreamId::ZERO.is_server_initiated());
    }
}
