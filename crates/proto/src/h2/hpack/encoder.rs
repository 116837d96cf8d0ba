//! The HPACK encoder (RFC 7541 §6): chooses a representation for each field and keeps its
//! dynamic table in step with what the peer's decoder will build.
//!
//! Choices, in order:
//! 1. Sensitive values (`HeaderValue::is_sensitive`, [`FieldRef::sensitive`]) and short
//!    (under 20 octets, brute-forceable) `authorization` and `cookie` values are
//!    never-indexed literals (§6.2.3, §7.1.3).
//! 2. An exact match in the static table, then in the dynamic table, is an indexed field.
//! 3. Otherwise a literal, naming the field by index when any table has the name. It is added
//!    to the table (incremental indexing) unless the entry would take more than three
//!    quarters of the table, which would flush it for little gain (literal without
//!    indexing). These are the choices the RFC's own examples make (Appendix C).
//!
//! Strings are Huffman-coded only when that is shorter (§5.2); [`HuffmanPolicy`] offers
//! plain strings always, or Huffman also at equal length (what the RFC's examples do).
//!
//! The table is capped at [`MAX_TABLE_SIZE`] (4 KiB) whatever the peer allows: a larger
//! table costs memory on both sides for little compression. When the usable size changes
//! (the peer's SETTINGS_HEADER_TABLE_SIZE), the next block starts with size updates: the
//! smallest size seen since the last block, then the final one (§4.2).
//!
//! Lookups in the dynamic table go through hash indexes keyed by the field's hash and
//! holding the absolute insertion number of the newest matching entry; a hit is confirmed
//! against the entry itself, so a hash collision only costs a missed match.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderName, HeaderValue};

use super::table::{self, DynamicTable, Entry, STATIC_LEN};
use super::{DEFAULT_TABLE_SIZE, entry_size, huffman, integer};

/// The most dynamic table the encoder uses, whatever the peer allows.
pub const MAX_TABLE_SIZE: usize = 4096;

/// Values of `authorization` and `cookie` shorter than this are never indexed (§7.1.3).
const SHORT_SECRET_LEN: usize = 20;

/// When string literals are Huffman-coded (RFC 7541 §5.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HuffmanPolicy {
    /// Only when the coded string is strictly shorter (the default): equal length gains
    /// nothing and costs both sides CPU.
    #[default]
    IfShorter,
    /// When the coded string is not longer, as the encoder of RFC 7541 Appendix C does.
    IfNotLonger,
    /// Never: plain strings keep captures readable.
    Never,
}

/// A field to encode, borrowed from the caller.
#[derive(Clone, Copy, Debug)]
pub struct FieldRef<'a> {
    /// Field name; HTTP/2 requires lowercase (the caller's responsibility).
    pub name: &'a [u8],
    /// Field value.
    pub value: &'a [u8],
    /// Encode as a never-indexed literal (RFC 7541 §6.2.3).
    pub sensitive: bool,
}

impl<'a> FieldRef<'a> {
    /// A non-sensitive field.
    pub fn new(name: &'a [u8], value: &'a [u8]) -> Self {
        FieldRef {
            name,
            value,
            sensitive: false,
        }
    }

    /// A field from `http` types; sensitivity follows [`HeaderValue::is_sensitive`].
    pub fn from_header(name: &'a HeaderName, value: &'a HeaderValue) -> Self {
        FieldRef {
            name: name.as_str().as_bytes(),
            value: value.as_bytes(),
            sensitive: value.is_sensitive(),
        }
    }
}

/// A pass-through hasher for keys that are hashes already.
#[derive(Default)]
struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed (write_u64 below); fold anything else in.
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type PrehashedMap = HashMap<u64, u64, BuildHasherDefault<PrehashedHasher>>;

/// A hash of the name and (when given) the value, eight octets at a time with their lengths
/// mixed in (FNV-1a, an octet at a time, was a thirtieth of a small HTTP/2 exchange). The
/// tables hold only our own fields, and a collision costs a missed index, never a wrong one:
/// [`Encoder::find_dynamic`] compares the entry it finds.
fn field_hash(name: &[u8], value: Option<&[u8]>) -> u64 {
    let mut hash = mix(0x243f_6a88_85a3_08d3, name.len() as u64);
    hash = feed(hash, name);
    if let Some(value) = value {
        hash = mix(hash, (value.len() as u64) | 1 << 63);
        hash = feed(hash, value);
    }
    hash
}

fn feed(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        hash = mix(hash, u64::from_le_bytes(word));
    }
    hash
}

fn mix(hash: u64, word: u64) -> u64 {
    (hash ^ word)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(29)
}

/// The HPACK encoding context of one connection.
#[derive(Debug)]
pub struct Encoder {
    table: DynamicTable,
    /// Absolute insertion number of the next entry; entry `n` sits at dynamic position
    /// `inserted - 1 - n`.
    inserted: u64,
    /// field hash → absolute number of the newest entry with that name and value.
    by_field: PrehashedMap,
    /// name hash → absolute number of the newest entry with that name.
    by_name: PrehashedMap,
    /// Sizes to announce at the start of the next block: (smallest seen, final).
    pending_update: Option<(usize, usize)>,
    huffman: HuffmanPolicy,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

impl Encoder {
    /// An encoder for a peer with the default SETTINGS_HEADER_TABLE_SIZE (4,096).
    pub fn new() -> Self {
        Encoder::with_table_size(DEFAULT_TABLE_SIZE)
    }

    /// An encoder whose table starts at `size` octets (capped at [`MAX_TABLE_SIZE`]), for a
    /// peer whose decoder starts at that size too, so no size update is sent for it. Use
    /// [`set_max_table_size`](Encoder::set_max_table_size) for changes announced by SETTINGS.
    pub fn with_table_size(size: usize) -> Self {
        Encoder {
            table: DynamicTable::new(size.min(MAX_TABLE_SIZE)),
            inserted: 0,
            by_field: PrehashedMap::default(),
            by_name: PrehashedMap::default(),
            pending_update: None,
            huffman: HuffmanPolicy::IfShorter,
        }
    }

    /// Chooses when strings are Huffman-coded (default [`HuffmanPolicy::IfShorter`]).
    pub fn set_huffman_policy(&mut self, policy: HuffmanPolicy) {
        self.huffman = policy;
    }

    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE. The table follows it (capped at
    /// [`MAX_TABLE_SIZE`]) from the next block, which starts with the size update(s).
    pub fn set_max_table_size(&mut self, peer_max: usize) {
        let size = peer_max.min(MAX_TABLE_SIZE);
        let current = self
            .pending_update
            .map_or(self.table.capacity(), |(_, last)| last);
        if size == current {
            return;
        }
        let smallest = self
            .pending_update
            .map_or(size, |(smallest, _)| smallest.min(size));
        self.pending_update = Some((smallest, size));
    }

    /// The dynamic table's capacity (after any pending size update is sent).
    pub fn table_capacity(&self) -> usize {
        self.pending_update
            .map_or(self.table.capacity(), |(_, last)| last)
    }

    /// The dynamic table's current size in octets.
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// Encodes one field block into `dst`.
    pub fn encode<'a>(
        &mut self,
        fields: impl IntoIterator<Item = FieldRef<'a>>,
        dst: &mut BytesMut,
    ) {
        self.write_size_updates(dst);
        for field in fields {
            self.encode_field(field, dst);
        }
    }

    fn write_size_updates(&mut self, dst: &mut BytesMut) {
        let Some((smallest, last)) = self.pending_update.take() else {
            return;
        };
        if smallest < last {
            self.resize(smallest);
            integer::encode(smallest, 5, 0x20, dst);
        }
        self.resize(last);
        integer::encode(last, 5, 0x20, dst);
    }

    fn resize(&mut self, capacity: usize) {
        let (by_field, by_name) = (&mut self.by_field, &mut self.by_name);
        let oldest = self.inserted - self.table.len() as u64;
        let mut evicted = oldest;
        self.table.set_capacity(capacity, |entry| {
            forget(by_field, by_name, entry, evicted);
            evicted += 1;
        });
    }

    fn encode_field(&mut self, field: FieldRef<'_>, dst: &mut BytesMut) {
        let FieldRef { name, value, .. } = field;
        let never = field.sensitive
            || (value.len() < SHORT_SECRET_LEN && (name == b"authorization" || name == b"cookie"));
        let static_match = table::find_static(name, value);
        if !never {
            if let Some((index, true)) = static_match {
                integer::encode(index, 7, 0x80, dst);
                return;
            }
            if let Some(position) = self.find_dynamic(name, Some(value)) {
                integer::encode(STATIC_LEN + 1 + position, 7, 0x80, dst);
                return;
            }
        }
        let name_index = static_match
            .map(|(index, _)| index)
            .or_else(|| self.find_dynamic(name, None).map(|p| STATIC_LEN + 1 + p))
            .unwrap_or(0);
        let size = entry_size(name, value);
        let (prefix_bits, flags) = if never {
            (4, 0x10)
        } else if size > self.table.capacity() / 4 * 3 {
            (4, 0x00)
        } else {
            (6, 0x40)
        };
        integer::encode(name_index, prefix_bits, flags, dst);
        if name_index == 0 {
            write_string(name, self.huffman, dst);
        }
        write_string(value, self.huffman, dst);
        if flags == 0x40 {
            self.insert(name, value);
        }
    }

    /// The dynamic position (0 = newest) of the newest entry matching `name` (and `value`,
    /// when given).
    fn find_dynamic(&self, name: &[u8], value: Option<&[u8]>) -> Option<usize> {
        let map = if value.is_some() {
            &self.by_field
        } else {
            &self.by_name
        };
        let absolute = *map.get(&field_hash(name, value))?;
        let position = usize::try_from(self.inserted - 1 - absolute).ok()?;
        let entry = self.table.get(position)?;
        let matches = &entry.name[..] == name && value.is_none_or(|v| &entry.value[..] == v);
        matches.then_some(position)
    }

    fn insert(&mut self, name: &[u8], value: &[u8]) {
        let (by_field, by_name) = (&mut self.by_field, &mut self.by_name);
        let mut evicted = self.inserted - self.table.len() as u64;
        self.table.insert(
            Bytes::copy_from_slice(name),
            Bytes::copy_from_slice(value),
            |entry| {
                forget(by_field, by_name, entry, evicted);
                evicted += 1;
            },
        );
        let absolute = self.inserted;
        self.inserted += 1;
        if self.table.len() > 0 {
            self.by_field
                .insert(field_hash(name, Some(value)), absolute);
            self.by_name.insert(field_hash(name, None), absolute);
        }
    }
}

/// Drops index entries that point at an evicted entry (and not at a newer one).
fn forget(by_field: &mut PrehashedMap, by_name: &mut PrehashedMap, entry: &Entry, absolute: u64) {
    let field_key = field_hash(&entry.name, Some(&entry.value));
    if by_field.get(&field_key) == Some(&absolute) {
        by_field.remove(&field_key);
    }
    let name_key = field_hash(&entry.name, None);
    if by_name.get(&name_key) == Some(&absolute) {
        by_name.remove(&name_key);
    }
}

/// Writes a string literal, Huffman-coded as the policy says (§5.2).
fn write_string(s: &[u8], policy: HuffmanPolicy, dst: &mut BytesMut) {
    let use_huffman = match policy {
        HuffmanPolicy::Never => None,
        HuffmanPolicy::IfShorter => Some(huffman::encoded_len(s)).filter(|&n| n < s.len()),
        HuffmanPolicy::IfNotLonger => Some(huffman::encoded_len(s)).filter(|&n| n <= s.len()),
    };
    if let Some(huffman_len) = use_huffman {
        integer::encode(huffman_len, 7, 0x80, dst);
        huffman::encode(s, dst);
    } else {
        integer::encode(s.len(), 7, 0x00, dst);
        dst.put_slice(s);
    }
}
