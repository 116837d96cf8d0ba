//! The HPACK index address space (RFC 7541 §2.3): the static table (indices 1..=61) followed
//! by the dynamic table (62 and up, newest first), with the dynamic table's size accounting
//! and eviction (§4).
//!
//! Invariant: `size` is the sum of the entries' sizes (name + value + 32) and never exceeds
//! `capacity`. An entry larger than the capacity empties the table and is not added (§4.4).

use std::collections::VecDeque;

use bytes::Bytes;

use super::static_table::{ENTRIES as STATIC, name_range as static_name_range};
use super::{DecoderError, entry_size};

/// Number of entries in the static table.
pub(super) const STATIC_LEN: usize = STATIC.len();

/// One dynamic-table entry.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) name: Bytes,
    pub(super) value: Bytes,
}

impl Entry {
    fn size(&self) -> usize {
        entry_size(&self.name, &self.value)
    }
}

/// The dynamic table: newest entry at the front.
#[derive(Debug)]
pub(super) struct DynamicTable {
    entries: VecDeque<Entry>,
    size: usize,
    capacity: usize,
}

impl DynamicTable {
    pub(super) fn new(capacity: usize) -> Self {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            capacity,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn size(&self) -> usize {
        self.size
    }

    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The entry at a dynamic position (0 = newest).
    pub(super) fn get(&self, position: usize) -> Option<&Entry> {
        self.entries.get(position)
    }

    /// Changes the capacity, evicting the oldest entries until the table fits; `on_evict`
    /// sees each evicted entry.
    pub(super) fn set_capacity(&mut self, capacity: usize, on_evict: impl FnMut(&Entry)) {
        self.capacity = capacity;
        self.evict_to(capacity, on_evict);
    }

    /// Adds an entry (§4.4): evicts until it fits, or empties the table if it never can.
    pub(super) fn insert(&mut self, name: Bytes, value: Bytes, mut on_evict: impl FnMut(&Entry)) {
        let entry = Entry { name, value };
        let size = entry.size();
        if size > self.capacity {
            self.evict_to(0, &mut on_evict);
            return;
        }
        self.evict_to(self.capacity - size, &mut on_evict);
        self.size += size;
        self.entries.push_front(entry);
    }

    /// Empties the table, as an insertion larger than the capacity does.
    pub(super) fn clear(&mut self, on_evict: impl FnMut(&Entry)) {
        self.evict_to(0, on_evict);
    }

    fn evict_to(&mut self, target: usize, mut on_evict: impl FnMut(&Entry)) {
        while self.size > target {
            // size > 0 implies at least one entry (invariant above).
            let Some(entry) = self.entries.pop_back() else {
                break;
            };
            self.size -= entry.size();
            on_evict(&entry);
        }
    }
}

/// Looks up an index in the combined address space (§2.3.3). Index 0 and indices past the
/// dynamic table are [`DecoderError::InvalidIndex`].
pub(super) fn lookup(dynamic: &DynamicTable, index: u32) -> Result<(Bytes, Bytes), DecoderError> {
    let position = usize::try_from(index).map_err(|_| DecoderError::InvalidIndex { index })?;
    match position {
        0 => Err(DecoderError::InvalidIndex { index }),
        1..=STATIC_LEN => {
            let (name, value) = STATIC[position - 1];
            Ok((Bytes::from_static(name), Bytes::from_static(value)))
        }
        _ => dynamic
            .get(position - STATIC_LEN - 1)
            .map(|e| (e.name.clone(), e.value.clone()))
            .ok_or(DecoderError::InvalidIndex { index }),
    }
}

/// Looks up a field in the static table: `(index, value_matches)` for the best entry with
/// this name, preferring an exact match.
pub(super) fn find_static(name: &[u8], value: &[u8]) -> Option<(usize, bool)> {
    let (first, count) = static_name_range(name)?;
    let exact = STATIC[first - 1..first - 1 + count]
        .iter()
        .position(|&(_, v)| v == value);
    Some(match exact {
        Some(offset) => (first + offset, true),
        None => (first, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(table: &mut DynamicTable, name: &'static str, value: &'static str) {
        table.insert(Bytes::from(name), Bytes::from(value), |_| {});
    }

    #[test]
    fn insert_beyond_capacity_evicts_oldest_first() {
        // Each entry: 1 + 1 + 32 = 34 octets; 100 octets hold two.
        let mut table = DynamicTable::new(100);
        insert(&mut table, "a", "1");
        insert(&mut table, "b", "2");
        insert(&mut table, "c", "3");
        assert_eq!(table.len(), 2);
        assert_eq!(table.size(), 68);
        assert_eq!(&table.get(0).unwrap().name[..], b"c");
        assert_eq!(&table.get(1).unwrap().name[..], b"b");
    }

    #[test]
    fn insert_entry_larger_than_capacity_empties_table() {
        let mut table = DynamicTable::new(40);
        insert(&mut table, "a", "1");
        insert(&mut table, "long-name", "long-value");
        assert_eq!(table.len(), 0);
        assert_eq!(table.size(), 0);
    }

    #[test]
    fn lookup_index_zero_and_past_end_are_errors() {
        let table = DynamicTable::new(4096);
        assert_eq!(
            lookup(&table, 0),
            Err(DecoderError::InvalidIndex { index: 0 })
        );
        assert_eq!(
            lookup(&table, 62),
            Err(DecoderError::InvalidIndex { index: 62 })
        );
        assert_eq!(&lookup(&table, 2).unwrap().1[..], b"GET");
        assert_eq!(&lookup(&table, 61).unwrap().0[..], b"www-authenticate");
    }

    #[test]
    fn find_static_prefers_exact_value_match() {
        assert_eq!(find_static(b":status", b"404"), Some((13, true)));
        assert_eq!(find_static(b":status", b"201"), Some((8, false)));
        assert_eq!(find_static(b"x-custom", b""), None);
        assert_eq!(find_static(b"www-authenticate", b""), Some((61, true)));
    }
}
