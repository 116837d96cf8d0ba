//! Sending: the DATA scheduler and the writing of frames into the output queue.
//!
//! DATA is produced lazily: only while less than `output_low_water` octets wait to be
//! written, so control frames queued meanwhile (ACKs, WINDOW_UPDATE, RST_STREAM, HEADERS)
//! are never stuck behind more than that, and a slow reader bounds what we hold.
//!
//! Scheduling (RFC 9218 §10): the lowest urgency with something to send goes first. Within
//! an urgency, streams whose priority signal says non-incremental are served one at a time
//! in stream order; the others, and every stream without a signal, take turns one frame at a
//! time (round-robin). A stream leaves the queue when it has nothing to send or no window,
//! and comes back on new data or a WINDOW_UPDATE.

use std::collections::{BTreeSet, VecDeque};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use super::stream::{Chunks, SendPhase};
use super::{Connection, Phase};
use crate::h2::StreamId;
use crate::h2::frame::{Data, Headers};
use crate::h2::hpack::FieldRef;
use crate::output::Marker;

/// Streams waiting to send, by urgency. The queues live on the heap from the first push
/// until the connection is idle again: an idle connection does not carry 16 empty queues.
#[derive(Debug, Default)]
pub(crate) struct Scheduler {
    queues: Option<Box<Queues>>,
}

#[derive(Debug, Default)]
struct Queues {
    round_robin: [VecDeque<StreamId>; 8],
    sequential: [BTreeSet<StreamId>; 8],
}

impl Scheduler {
    pub(crate) fn push(&mut self, id: StreamId, urgency: u8, incremental: bool) {
        let queues = self.queues.get_or_insert_with(Box::default);
        let u = usize::from(urgency.min(7));
        if incremental {
            queues.round_robin[u].push_back(id);
        } else {
            queues.sequential[u].insert(id);
        }
    }

    pub(crate) fn pop(&mut self) -> Option<StreamId> {
        let queues = self.queues.as_mut()?;
        for u in 0..8 {
            if let Some(id) = queues.sequential[u].pop_first() {
                return Some(id);
            }
            if let Some(id) = queues.round_robin[u].pop_front() {
                return Some(id);
            }
        }
        None
    }

    /// Frees the queues once every one is empty.
    pub(crate) fn release_idle(&mut self) {
        let empty = self.queues.as_ref().is_none_or(|q| {
            q.round_robin.iter().all(VecDeque::is_empty)
                && q.sequential.iter().all(BTreeSet::is_empty)
        });
        if empty {
            self.queues = None;
        }
    }
}

impl Connection {
    /// Puts a stream in the send queue if it has something to send and is not queued.
    pub(super) fn schedule(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        if s.send.scheduled || !s.send.has_pending() || s.send.phase != SendPhase::Body {
            return;
        }
        s.send.scheduled = true;
        let p = s.send.priority;
        self.scheduler.push(id, p.urgency, p.incremental);
    }

    /// Generates DATA (and trailers) while the output queue is below its low-water mark.
    pub(super) fn fill_output(&mut self) {
        // No DATA before the client's preface. Only an h2c upgrade has a stream then (its
        // response may be ready before the client has read the 101), and curl keeps at
        // most 32 KiB of what follows the 101 in the read that brings it: a full first
        // window of DATA behind it fails its upgrade ("connection buffer size is too small").
        if matches!(self.phase, Phase::Closed | Phase::AwaitPreface) {
            return;
        }
        let max_frame = self.peer.max_frame_size as usize;
        while self.out.len() < self.config.output_low_water {
            let Some(id) = self.scheduler.pop() else {
                break;
            };
            let conn_window = self.flow.send.available() as usize;
            let Some(s) = self.streams.get_mut(id) else {
                continue;
            };
            s.send.scheduled = false;
            if !s.send.has_pending() {
                continue;
            }
            let window = (s.send.window.available() as usize).min(conn_window);
            let len = s.send.buffered.min(max_frame).min(window);
            if len == 0 && s.send.buffered > 0 {
                if conn_window == 0 {
                    // Blocked on the connection window: keep the stream queued and stop.
                    s.send.scheduled = true;
                    let p = s.send.priority;
                    self.scheduler.push(id, p.urgency, p.incremental);
                    break;
                }
                // Blocked on its own window: it comes back with a WINDOW_UPDATE.
                continue;
            }
            self.send_data_frame(id, len);
            self.schedule(id);
        }
    }

    /// Writes one DATA frame of `len` octets from the stream's buffer (plus END_STREAM or
    /// trailers when the buffer runs dry).
    fn send_data_frame(&mut self, id: StreamId, len: usize) {
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        let payload = take_front(&mut s.send.buf, len);
        s.send.buffered -= len;
        let n = u32::try_from(len).unwrap_or(u32::MAX);
        // Both windows hold `len`: it was capped by them above.
        let _ = s.send.window.consume(n);
        let drained = s.send.buffered == 0;
        let end_with_data = drained && s.send.end_queued && s.send.trailers.is_none();
        let trailers = if drained {
            s.send.trailers.take()
        } else {
            None
        };
        let room = self
            .config
            .max_send_buffer_per_stream
            .saturating_sub(s.send.buffered);
        let wake = s.send.wants_writable && room > 0;
        if wake {
            s.send.wants_writable = false;
        }
        let _ = self.flow.send.consume(n);
        self.flow.buffered -= len;
        if len > 0 || end_with_data {
            Data::encode_head(id, len, end_with_data, self.out.buf());
            self.out.push_payload(payload);
        }
        if end_with_data {
            self.finish_sending(id);
        }
        if let Some(trailers) = trailers {
            self.write_trailers(id, &trailers);
        }
        if wake {
            let key = self.key(id);
            self.events.push_back(super::Event::Writable { key });
        }
    }

    /// Writes a HEADERS frame (and CONTINUATIONs) with `fields` on `id`.
    pub(super) fn write_headers<'a>(
        &mut self,
        id: StreamId,
        fields: impl IntoIterator<Item = FieldRef<'a>>,
        end_stream: bool,
    ) {
        let mut block = std::mem::take(&mut self.codec.block);
        block.clear();
        self.codec.encoder.encode(fields, &mut block);
        let headers = Headers::new(id, block.split().freeze(), end_stream);
        headers.encode(self.peer.max_frame_size, self.out.buf());
        self.codec.block = block;
        if end_stream {
            self.finish_sending(id);
        }
    }

    fn write_trailers(&mut self, id: StreamId, trailers: &HeaderMap) {
        let fields = trailers
            .iter()
            .filter(|(n, v)| !crate::h2::message::is_dropped_on_send(n, v))
            .map(|(n, v)| FieldRef::from_header(n, v));
        self.write_headers(id, fields, true);
    }

    /// Our END_STREAM is queued: mark it for `Sent` and move the stream's state.
    pub(super) fn finish_sending(&mut self, id: StreamId) {
        self.out.mark(Marker::End(u64::from(id.as_u32())));
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        s.send.phase = SendPhase::Done;
        s.send.end_queued = false;
        let next = s.state.send_end();
        self.streams.set_state(id, next);
    }
}

/// Takes `len` octets from the front of a chunk queue: a slice of the first chunk when it
/// holds them all, else a copy gathered from several chunks.
fn take_front(buf: &mut Chunks, len: usize) -> Bytes {
    if len == 0 {
        return Bytes::new();
    }
    if let Some(front) = buf.front_mut() {
        if front.len() >= len {
            let out = front.split_to(len);
            if front.is_empty() {
                buf.pop_front();
            }
            return out;
        }
    }
    let mut out = BytesMut::with_capacity(len);
    while out.len() < len {
        let Some(front) = buf.front_mut() else {
            break;
        };
        let take = (len - out.len()).min(front.len());
        out.extend_from_slice(&front.split_to(take));
        if front.is_empty() {
            buf.pop_front();
        }
    }
    out.freeze()
}
