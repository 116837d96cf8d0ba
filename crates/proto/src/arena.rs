//! A reusable chunk that received octets are copied or decoded into, each piece handed out
//! as a `Bytes` slice of it. The chunk is shared by the pieces cut from it and reused in
//! place once none of them is alive, so steady traffic allocates nothing per piece (a fresh
//! buffer per piece, plus the shared counter its first slice allocates, was two allocations
//! each). A piece the application keeps pins at most its chunk; `release` lets go of the
//! chunk when the connection is idle.
//!
//! Used for HTTP/1 heads (copied whole, fields sliced from the copy) and for HPACK Huffman
//! strings that stay out of the dynamic table.

use bytes::{Bytes, BytesMut};

/// The arena; a chunk holds at least `MIN` octets, or the next power of two above a larger
/// piece (so a following piece of about the same size fits in it again).
#[derive(Debug, Default)]
pub(crate) struct Arena<const MIN: usize>(BytesMut);

impl<const MIN: usize> Arena<MIN> {
    /// A copy of `src`.
    pub(crate) fn copy(&mut self, src: &[u8]) -> Bytes {
        self.room(src.len());
        self.0.extend_from_slice(src);
        self.0.split().freeze()
    }

    /// What `write` appends (at most `most` octets); nothing is kept when it fails.
    pub(crate) fn fill<E>(
        &mut self,
        most: usize,
        write: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<Bytes, E> {
        self.room(most);
        if let Err(e) = write(&mut self.0) {
            self.0.clear();
            return Err(e);
        }
        Ok(self.0.split().freeze())
    }

    fn room(&mut self, len: usize) {
        if self.0.capacity() < len {
            self.0.reserve(len.next_power_of_two().max(MIN));
        }
    }

    /// Lets go of the current chunk (an idle connection keeps none).
    pub(crate) fn release(&mut self) {
        if self.0.capacity() > 0 {
            self.0 = BytesMut::new();
        }
    }

    /// Octets the current chunk has room for.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_kept_while_the_chunk_refills_stay_intact_and_a_failed_fill_keeps_nothing() {
        let mut arena = Arena::<64>::default();
        let mut kept = Vec::new();
        for i in 0..200u8 {
            let piece = vec![i; usize::from(i) * 13 % 150 + 1];
            let bytes = if i % 2 == 0 {
                arena.copy(&piece)
            } else {
                arena
                    .fill(piece.len(), |dst| {
                        dst.extend_from_slice(&piece);
                        Ok::<_, ()>(())
                    })
                    .unwrap()
            };
            // Every third piece is dropped at once, so chunks are cut from and reused.
            if i % 3 != 0 {
                kept.push((piece, bytes));
            }
        }
        for (piece, bytes) in &kept {
            assert_eq!(&bytes[..], &piece[..]);
        }
        let failed = arena.fill(10, |dst| {
            dst.extend_from_slice(b"partial");
            Err("bad")
        });
        assert_eq!(failed, Err("bad"));
        assert_eq!(&arena.copy(b"next")[..], b"next");
        arena.release();
        assert_eq!(arena.capacity(), 0);
    }
}
