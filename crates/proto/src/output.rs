//! The output queue shared by both protocol versions: octets waiting to be written, kept as a list of byte chunks so large
//! body payloads are never copied, with the bookkeeping that makes `Sent` exact.
//!
//! Offsets are absolute: `written` counts every octet the writer has taken, and a marker
//! placed after a frame fires once the writer reports that offset flushed. Small frames and heads are
//! encoded into one contiguous scratch buffer, so everything produced while handling one read
//! leaves in few slices (one vectored write).

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// Payloads at least this long are queued as their own chunk instead of copied.
const ZERO_COPY_MIN: usize = 1024;

/// What a marker stands for when its offset is flushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    /// The last octet of our message on this exchange (HTTP/2 stream id, HTTP/1 sequence
    /// number).
    End(u64),
    /// A SETTINGS or PING ACK (counted while unwritten, to pause input).
    Ack,
}

#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    chunks: VecDeque<Bytes>,
    scratch: BytesMut,
    /// Octets in `chunks` (scratch not included).
    chunked: usize,
    written: u64,
    flushed: u64,
    /// End-of-message markers, in offset order.
    markers: VecDeque<(u64, Marker)>,
    /// Offsets just after each queued ACK frame not yet written, in order.
    acks: VecDeque<u64>,
}

impl OutQueue {
    /// Octets waiting to be written.
    pub(crate) fn len(&self) -> usize {
        self.chunked + self.scratch.len()
    }

    /// The buffer to encode small frames into.
    pub(crate) fn buf(&mut self) -> &mut BytesMut {
        &mut self.scratch
    }

    /// Appends a payload after the frames in the scratch buffer, without copying when large.
    pub(crate) fn push_payload(&mut self, payload: Bytes) {
        if payload.len() < ZERO_COPY_MIN {
            self.scratch.extend_from_slice(&payload);
            return;
        }
        self.seal();
        self.chunked += payload.len();
        self.chunks.push_back(payload);
    }

    fn seal(&mut self) {
        if !self.scratch.is_empty() {
            let chunk = self.scratch.split().freeze();
            self.chunked += chunk.len();
            self.chunks.push_back(chunk);
        }
    }

    /// Places a marker after everything queued so far.
    pub(crate) fn mark(&mut self, marker: Marker) {
        let offset = self.written + self.len() as u64;
        match marker {
            Marker::Ack => self.acks.push_back(offset),
            Marker::End(_) => self.markers.push_back((offset, marker)),
        }
    }

    /// ACK frames queued and not yet written.
    pub(crate) fn unwritten_acks(&self) -> usize {
        self.acks.len()
    }

    /// The queued octets, in order.
    pub(crate) fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks
            .iter()
            .map(|c| &c[..])
            .chain((!self.scratch.is_empty()).then_some(&self.scratch[..]))
    }

    /// The writer took `n` octets from the front.
    pub(crate) fn advance(&mut self, mut n: usize) {
        n = n.min(self.len());
        self.written += n as u64;
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                self.scratch.advance(n);
                break;
            };
            let take = n.min(front.len());
            front.advance(take);
            self.chunked -= take;
            n -= take;
            if front.is_empty() {
                self.chunks.pop_front();
            }
        }
        while self
            .acks
            .front()
            .is_some_and(|&offset| offset <= self.written)
        {
            self.acks.pop_front();
        }
    }

    /// Frees the buffers of an empty queue (an idle connection keeps no capacity); the
    /// next output allocates afresh. True if it was empty.
    pub(crate) fn release_idle(&mut self) -> bool {
        if self.len() > 0 || !self.markers.is_empty() || !self.acks.is_empty() {
            return false;
        }
        release(&mut self.chunks);
        release(&mut self.markers);
        release(&mut self.acks);
        if self.scratch.capacity() > 0 {
            self.scratch = BytesMut::new();
        }
        true
    }

    /// Everything written so far is flushed; the markers now reached come from
    /// [`next_reached`](Self::next_reached).
    pub(crate) fn flush(&mut self) {
        self.flushed = self.written;
    }

    /// The next marker already flushed, in order. One placed when nothing was waiting (a
    /// message whose last octets went out before its end was known, such as a
    /// `Content-Length` body ended by an empty last write) is reached at once, as no later
    /// flush would report it. (One at a time, so a flush of a hundred responses collects
    /// them without a list.)
    pub(crate) fn next_reached(&mut self) -> Option<Marker> {
        let &(offset, marker) = self.markers.front()?;
        if offset > self.flushed {
            return None;
        }
        self.markers.pop_front();
        Some(marker)
    }
}

/// Frees an empty queue's allocation.
pub(crate) fn release<T>(queue: &mut VecDeque<T>) {
    if queue.is_empty() && queue.capacity() > 0 {
        *queue = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_across_chunks_then_flush_reaches_markers_in_order() {
        let mut q = OutQueue::default();
        q.buf().extend_from_slice(b"head");
        q.push_payload(Bytes::from(vec![7u8; 2000]));
        q.mark(Marker::End(1));
        q.buf().extend_from_slice(b"ack");
        q.mark(Marker::Ack);
        assert_eq!(q.len(), 4 + 2000 + 3);
        assert_eq!(q.chunks().count(), 3);
        assert_eq!(q.unwritten_acks(), 1);
        q.advance(2004);
        q.flush();
        assert_eq!(q.next_reached(), Some(Marker::End(1)));
        assert_eq!(q.next_reached(), None);
        assert_eq!(q.unwritten_acks(), 1);
        q.advance(3);
        assert_eq!(q.unwritten_acks(), 0);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn a_marker_placed_with_nothing_unflushed_is_reached_at_once() {
        let mut q = OutQueue::default();
        q.buf().extend_from_slice(b"body");
        q.advance(4);
        q.flush();
        assert_eq!(q.next_reached(), None);
        q.mark(Marker::End(3));
        assert_eq!(q.next_reached(), Some(Marker::End(3)));
        // One still waiting for its octets is not.
        q.buf().extend_from_slice(b"more");
        q.mark(Marker::End(4));
        assert_eq!(q.next_reached(), None);
    }
}
