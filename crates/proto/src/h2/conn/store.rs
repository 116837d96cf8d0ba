//! The stream store: live streams by id, stream-id bookkeeping (§5.1.1), concurrency counts
//! (§5.1.2), and the memory of streams we reset (§5.1, "closed" state).
//!
//! Invariants:
//! - `peer_active` / `local_active` count streams in Open or either half-closed state that
//!   the peer / we initiated; every state change goes through [`Store::set_state`];
//! - ids the peer opens increase strictly; an id at or below `last_peer_id` that is not live
//!   is closed, one above it is idle (and likewise for ours with `next_local_id`);
//! - the reset memory holds at most `capacity` entries, oldest evicted first.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

use super::config::Role;
use super::stream::{State, Stream};
use crate::h2::StreamId;

/// Fibonacci hashing for small sequential integer keys.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
        self.0 = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = u64::from(value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IdMap<V> = HashMap<StreamId, V, BuildHasherDefault<IdHasher>>;

/// What an id that is not live refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Absent {
    /// Never used yet.
    Idle,
    /// Closed, and reset by us recently: late frames are tolerated.
    RecentlyReset,
    /// Closed after being used.
    Closed,
    /// Below the highest id used but never opened (implicitly closed, §5.1.1), or closed
    /// too long ago to be remembered.
    Skipped,
}

/// Normally closed streams remembered, to tell "closed" from "never opened".
const CLOSED_MEMORY: usize = 128;

#[derive(Debug)]
pub(crate) struct Store {
    role: Role,
    streams: IdMap<Stream>,
    last_peer_id: u32,
    next_local_id: u32,
    peer_active: usize,
    local_active: usize,
    reset_memory: VecDeque<(StreamId, Instant)>,
    closed_memory: VecDeque<StreamId>,
    reset_capacity: usize,
    reset_duration: Duration,
}

impl Store {
    pub(crate) fn new(role: Role, reset_capacity: usize, reset_duration: Duration) -> Self {
        Store {
            role,
            streams: IdMap::default(),
            last_peer_id: 0,
            next_local_id: match role {
                Role::Client => 1,
                Role::Server => 2,
            },
            peer_active: 0,
            local_active: 0,
            reset_memory: VecDeque::new(),
            closed_memory: VecDeque::new(),
            reset_capacity,
            reset_duration,
        }
    }

    pub(crate) fn get(&self, id: StreamId) -> Option<&Stream> {
        self.streams.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: StreamId) -> Option<&mut Stream> {
        self.streams.get_mut(&id)
    }

    pub(crate) fn len(&self) -> usize {
        self.streams.len()
    }

    /// Frees the map's table when no stream is left in it.
    pub(crate) fn release_idle(&mut self) {
        if self.streams.is_empty() && self.streams.capacity() > 0 {
            self.streams = IdMap::default();
        }
    }

    pub(crate) fn ids(&self) -> Vec<StreamId> {
        self.streams.keys().copied().collect()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Stream> {
        self.streams.values_mut()
    }

    /// True if the peer initiates streams with this id's parity.
    pub(crate) fn is_peer_initiated(&self, id: StreamId) -> bool {
        match self.role {
            Role::Server => id.is_client_initiated(),
            Role::Client => id.is_server_initiated(),
        }
    }

    /// The highest stream id the peer has opened (for GOAWAY).
    pub(crate) fn last_peer_id(&self) -> StreamId {
        StreamId::new(self.last_peer_id)
    }

    /// Streams the peer opened that count toward our concurrency limit.
    pub(crate) fn peer_active(&self) -> usize {
        self.peer_active
    }

    /// Streams we opened that count toward the peer's concurrency limit.
    pub(crate) fn local_active(&self) -> usize {
        self.local_active
    }

    /// Classifies an id that is not live.
    pub(crate) fn absent(&mut self, id: StreamId, now: Instant) -> Absent {
        self.expire(now);
        let used = if self.is_peer_initiated(id) {
            id.as_u32() <= self.last_peer_id
        } else {
            id.as_u32() < self.next_local_id
        };
        if !used {
            Absent::Idle
        } else if self.reset_memory.iter().any(|&(r, _)| r == id) {
            Absent::RecentlyReset
        } else if self.closed_memory.contains(&id) {
            Absent::Closed
        } else {
            Absent::Skipped
        }
    }

    /// Records that the peer used `id` (it must be above the last one).
    pub(crate) fn note_peer_id(&mut self, id: StreamId) {
        self.last_peer_id = self.last_peer_id.max(id.as_u32());
    }

    /// The next id we would open, if any is left.
    pub(crate) fn peek_local_id(&self) -> Option<StreamId> {
        (self.next_local_id <= StreamId::MAX.as_u32()).then(|| StreamId::new(self.next_local_id))
    }

    /// Takes the next local id.
    pub(crate) fn take_local_id(&mut self) -> Option<StreamId> {
        let id = self.peek_local_id()?;
        self.next_local_id += 2;
        Some(id)
    }

    /// Adds a new stream (its state counted).
    pub(crate) fn insert(&mut self, stream: Stream) {
        let (id, state) = (stream.id, stream.state);
        self.streams.insert(id, stream);
        self.count(id, state, 1);
    }

    /// Moves a stream to a new state, keeping the concurrency counts.
    pub(crate) fn set_state(&mut self, id: StreamId, state: State) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        let old = std::mem::replace(&mut stream.state, state);
        self.count(id, old, -1);
        self.count(id, state, 1);
    }

    fn count(&mut self, id: StreamId, state: State, delta: isize) {
        if !matches!(
            state,
            State::Open | State::HalfClosedLocal | State::HalfClosedRemote
        ) {
            return;
        }
        let counter = if self.is_peer_initiated(id) {
            &mut self.peer_active
        } else {
            &mut self.local_active
        };
        *counter = counter.saturating_add_signed(delta);
    }

    /// Drops a stream (moving it to Closed first for the counts).
    pub(crate) fn remove(&mut self, id: StreamId) -> Option<Stream> {
        self.set_state(id, State::Closed);
        let removed = self.streams.remove(&id);
        if removed.is_some() {
            if self.closed_memory.len() >= CLOSED_MEMORY {
                self.closed_memory.pop_front();
            }
            self.closed_memory.push_back(id);
        }
        removed
    }

    /// Remembers a stream we reset, so late frames on it are tolerated until `now +
    /// duration` or until newer resets push it out.
    pub(crate) fn remember_reset(&mut self, id: StreamId, now: Instant) {
        self.expire(now);
        if self.reset_capacity == 0 {
            return;
        }
        if self.reset_memory.len() >= self.reset_capacity {
            self.reset_memory.pop_front();
        }
        self.reset_memory.push_back((id, now + self.reset_duration));
    }

    fn expire(&mut self, now: Instant) {
        while self.reset_memory.front().is_some_and(|&(_, t)| t <= now) {
            self.reset_memory.pop_front();
        }
    }

    /// When the oldest remembered reset expires.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.reset_memory.front().map(|&(_, t)| t)
    }

    /// Remembered resets (for statistics and tests).
    pub(crate) fn remembered_resets(&self) -> usize {
        self.reset_memory.len()
    }

    /// Expires old resets (on timeouts).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.expire(now);
    }
}
