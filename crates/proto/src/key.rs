//! Request keys: the opaque handle that matches a request to its response, shared by both
//! protocol versions (HTTP/2: the stream id; HTTP/1: the exchange's sequence number).
//!
//! A key carries the id of the connection that issued it, so a key used on another
//! connection is rejected instead of silently addressing the wrong exchange. Connection ids
//! come from a process-wide counter (an atomic, not a lock).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
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

/// A fast hasher for [`RequestKey`]s (and other small integer keys): a multiply-rotate mix
/// instead of SipHash. Keys are not attacker-chosen in number — a connection holds at
/// most its stream limit of them — so flooding one bucket cannot grow without bound.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyHasher(u64);

impl KeyHasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(23) ^ v).wrapping_mul(Self::K);
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        // The high bits carry the mix; fold them down for tables that index by low bits.
        self.0 ^ (self.0 >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, v: u8) {
        self.mix(u64::from(v));
    }

    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v));
    }

    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }

    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
}

/// A map keyed by [`RequestKey`] with the fast [`KeyHasher`].
pub type KeyMap<V> = HashMap<RequestKey, V, BuildHasherDefault<KeyHasher>>;

/// A set of [`RequestKey`]s with the fast [`KeyHasher`].
pub type KeySet = HashSet<RequestKey, BuildHasherDefault<KeyHasher>>;

#[cfg(test)]
mod hasher_tests {
    use super::*;

    #[test]
    fn keys_of_one_connection_spread_over_buckets() {
        // Consecutive stream ids (odd, as clients use) must not share low bits.
        let low_bits: HashSet<u64> = (0..256u64)
            .map(|i| {
                let mut h = KeyHasher::default();
                std::hash::Hash::hash(&RequestKey::new(7, 2 * i + 1), &mut h);
                h.finish() & 0xff
            })
            .collect();
        assert!(low_bits.len() > 140, "{} distinct of 256", low_bits.len());
        let mut map = KeyMap::default();
        map.insert(RequestKey::new(1, 1), "a");
        assert_eq!(map.get(&RequestKey::new(1, 1)), Some(&"a"));
        assert_eq!(map.get(&RequestKey::new(2, 1)), None);
    }
}
