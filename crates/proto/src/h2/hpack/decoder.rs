//! The HPACK decoder (RFC 7541 §3, §6): turns field blocks into [`HeaderField`]s and keeps the
//! decoding context (the dynamic table) in step with the peer's encoder.
//!
//! Representations (§6), distinguished by the high bits of their first octet:
//!
//! ```text
//! 1xxxxxxx  indexed field (7-bit index)                         §6.1
//! 01xxxxxx  literal with incremental indexing (6-bit name index) §6.2.1
//! 001xxxxx  dynamic table size update (5-bit size)               §6.3
//! 0001xxxx  literal never indexed (4-bit name index)             §6.2.3
//! 0000xxxx  literal without indexing (4-bit name index)          §6.2.2
//! ```
//!
//! Rules enforced here:
//! - size updates only before the first field of a block, never above the acknowledged
//!   SETTINGS_HEADER_TABLE_SIZE, and required at the start of the first block after that
//!   setting drops below the current table capacity (§4.2);
//! - the decoded size of the block (name + value + 32 per field, RFC 9113 §6.5.2) is counted
//!   while decoding: once over [`Decoder::max_header_list_size`] no more fields are emitted
//!   and strings not needed by the table are not decoded at all, but table insertions are
//!   still applied, so a too-large block costs the caller a stream, not the connection;
//! - after any other error the decoder is poisoned: the error is sticky, because the shared
//!   context can no longer be trusted (RFC 9113 §4.3, COMPRESSION_ERROR).

use std::fmt;

use bytes::{Bytes, BytesMut};

use super::table::{self, DynamicTable};
use super::{DEFAULT_TABLE_SIZE, ENTRY_OVERHEAD, HeaderField, huffman, integer};
use crate::arena::Arena;

/// The default limit on a decoded header list: 16 KiB, matching the SETTINGS_MAX_HEADER_LIST_SIZE
/// the connection advertises by default.
pub const DEFAULT_MAX_HEADER_LIST_SIZE: usize = 16 * 1024;

/// Why a field block could not be decoded.
///
/// Every variant except [`DecoderError::HeaderListTooLarge`] is a compression failure: the
/// decoding context is lost and the connection must end with `COMPRESSION_ERROR`
/// ([`is_compression_error`](DecoderError::is_compression_error)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecoderError {
    /// An integer needs more than five continuation octets or exceeds 2^32-1 (RFC 7541 §5.1).
    IntegerOverflow,
    /// The block ends inside a representation: an integer, a string length or a string
    /// (RFC 7541 §5.1, §5.2).
    Truncated,
    /// Index 0, or an index past the end of the dynamic table (RFC 7541 §2.3.3).
    InvalidIndex {
        /// The index the peer sent.
        index: u32,
    },
    /// A Huffman-coded string contains the EOS symbol (RFC 7541 §5.2).
    HuffmanEos,
    /// A Huffman-coded string's padding is longer than 7 bits or not the high bits of EOS
    /// (RFC 7541 §5.2).
    HuffmanPadding,
    /// A dynamic table size update after the first field of a block (RFC 7541 §4.2).
    SizeUpdateNotAtStart,
    /// A dynamic table size update above the acknowledged SETTINGS_HEADER_TABLE_SIZE
    /// (RFC 7541 §6.3).
    SizeUpdateTooLarge {
        /// The size the peer asked for.
        requested: u32,
        /// The acknowledged maximum.
        max: usize,
    },
    /// The first block after SETTINGS_HEADER_TABLE_SIZE dropped below the table's capacity
    /// does not start with a size update (RFC 7541 §4.2).
    SizeUpdateMissing,
    /// The decoded header list exceeds the limit (RFC 9113 §6.5.2). Not a compression
    /// error: the table is in sync and only this message is lost (a 431 response or a
    /// stream reset).
    HeaderListTooLarge {
        /// The limit in force.
        limit: usize,
    },
}

impl DecoderError {
    /// True when the decoding context is lost and the connection must fail with
    /// `COMPRESSION_ERROR`; false for [`DecoderError::HeaderListTooLarge`].
    pub fn is_compression_error(&self) -> bool {
        !matches!(self, DecoderError::HeaderListTooLarge { .. })
    }

    /// The section of the RFC whose rule was broken.
    pub fn rfc_section(&self) -> &'static str {
        match self {
            DecoderError::IntegerOverflow => "RFC 7541 §5.1",
            DecoderError::Truncated => "RFC 7541 §5",
            DecoderError::InvalidIndex { .. } => "RFC 7541 §2.3.3",
            DecoderError::HuffmanEos | DecoderError::HuffmanPadding => "RFC 7541 §5.2",
            DecoderError::SizeUpdateNotAtStart | DecoderError::SizeUpdateMissing => "RFC 7541 §4.2",
            DecoderError::SizeUpdateTooLarge { .. } => "RFC 7541 §6.3",
            DecoderError::HeaderListTooLarge { .. } => "RFC 9113 §6.5.2",
        }
    }
}

impl fmt::Display for DecoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecoderError::IntegerOverflow => f.write_str("HPACK integer too large"),
            DecoderError::Truncated => f.write_str("field block ends inside a representation"),
            DecoderError::InvalidIndex { index } => write!(f, "invalid HPACK index {index}"),
            DecoderError::HuffmanEos => f.write_str("EOS symbol inside a Huffman string"),
            DecoderError::HuffmanPadding => f.write_str("invalid Huffman padding"),
            DecoderError::SizeUpdateNotAtStart => {
                f.write_str("dynamic table size update after the first field")
            }
            DecoderError::SizeUpdateTooLarge { requested, max } => write!(
                f,
                "dynamic table size update to {requested} above the acknowledged {max}"
            ),
            DecoderError::SizeUpdateMissing => {
                f.write_str("missing dynamic table size update after SETTINGS_HEADER_TABLE_SIZE")
            }
            DecoderError::HeaderListTooLarge { limit } => {
                write!(f, "decoded header list larger than {limit} octets")
            }
        }?;
        write!(f, " ({})", self.rfc_section())
    }
}

impl std::error::Error for DecoderError {}

/// How a literal asks the table to treat it (RFC 7541 §6.2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Indexing {
    Incremental,
    Without,
    Never,
}

/// A string literal located in the block, not yet decoded.
#[derive(Clone, Copy)]
struct StringRef {
    huffman: bool,
    start: usize,
    end: usize,
}

impl StringRef {
    /// A lower bound on the decoded length: Huffman codes are at most 30 bits long.
    fn min_decoded_len(self) -> usize {
        let len = self.end - self.start;
        if self.huffman { len * 8 / 30 } else { len }
    }
}

/// A literal's name: by index (already materialised) or as a string in the block.
enum Name {
    Indexed(Bytes),
    Literal(StringRef),
}

/// The HPACK decoding context of one connection.
///
/// Call [`set_max_table_size`](Decoder::set_max_table_size) when the peer acknowledges our
/// SETTINGS_HEADER_TABLE_SIZE, and [`decode`](Decoder::decode) once per complete field block,
/// in the order the blocks arrived.
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// The acknowledged SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for.
    max_table_size: usize,
    size_update_required: bool,
    max_header_list_size: usize,
    failed: Option<DecoderError>,
    /// Where Huffman strings that are not indexed are decoded, in chunks of at least
    /// [`SCRATCH`] octets: each becomes a slice of it, and the chunk is reused once every
    /// slice is dropped (a request's `:path` is such a string from nghttp2 and its kin).
    scratch: Arena<SCRATCH>,
}

/// The smallest chunk strings are decoded into (see [`Arena`]). Only strings
/// that stay out of the dynamic table go there: a table entry pinning a shared chunk
/// could make the table hold far more memory than its size says.
const SCRATCH: usize = 512;

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_TABLE_SIZE)
    }
}

/// Per-block decoding state.
struct Block<'a> {
    bytes: &'a Bytes,
    pos: usize,
    list_size: usize,
    too_large: bool,
}

impl Decoder {
    /// A decoder whose peer may use a dynamic table of up to `max_table_size` octets.
    pub fn new(max_table_size: usize) -> Self {
        Decoder {
            table: DynamicTable::new(max_table_size),
            max_table_size,
            size_update_required: false,
            max_header_list_size: DEFAULT_MAX_HEADER_LIST_SIZE,
            failed: None,
            scratch: Arena::default(),
        }
    }

    /// Frees the scratch buffer (an idle connection's decoder then holds only its table).
    pub fn release_idle(&mut self) {
        self.scratch.release();
    }

    /// Applies a newly acknowledged SETTINGS_HEADER_TABLE_SIZE. A value below the current
    /// capacity obliges the peer to start its next block with a size update (RFC 7541 §4.2).
    pub fn set_max_table_size(&mut self, size: usize) {
        if size < self.table.capacity() {
            self.size_update_required = true;
        }
        self.max_table_size = size;
    }

    /// The acknowledged SETTINGS_HEADER_TABLE_SIZE.
    pub fn max_table_size(&self) -> usize {
        self.max_table_size
    }

    /// Sets the limit on the decoded size of one header list (default
    /// [`DEFAULT_MAX_HEADER_LIST_SIZE`]).
    pub fn set_max_header_list_size(&mut self, size: usize) {
        self.max_header_list_size = size;
    }

    /// The limit on the decoded size of one header list.
    pub fn max_header_list_size(&self) -> usize {
        self.max_header_list_size
    }

    /// The dynamic table's current size in octets (entries plus 32 each).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's capacity, as last set by the peer's size update.
    pub fn table_capacity(&self) -> usize {
        self.table.capacity()
    }

    /// Decodes one complete field block, calling `emit` for each field in order.
    ///
    /// On [`DecoderError::HeaderListTooLarge`] some fields may have been emitted; the caller
    /// discards them. On any other error the decoder stays failed.
    pub fn decode(
        &mut self,
        block: &Bytes,
        mut emit: impl FnMut(HeaderField),
    ) -> Result<(), DecoderError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.decode_block(block, &mut emit);
        if let Err(error) = &result {
            if error.is_compression_error() {
                self.failed = Some(error.clone());
            }
        }
        result
    }

    fn decode_block(
        &mut self,
        bytes: &Bytes,
        emit: &mut dyn FnMut(HeaderField),
    ) -> Result<(), DecoderError> {
        let mut block = Block {
            bytes,
            pos: 0,
            list_size: 0,
            too_large: false,
        };
        let mut fields_seen = false;
        while let Some(&first) = bytes.get(block.pos) {
            if first & 0xe0 == 0x20 {
                if fields_seen {
                    return Err(DecoderError::SizeUpdateNotAtStart);
                }
                self.size_update(&mut block)?;
                continue;
            }
            if self.size_update_required {
                return Err(DecoderError::SizeUpdateMissing);
            }
            fields_seen = true;
            if first & 0x80 != 0 {
                let index = integer::decode(bytes, &mut block.pos, 7)?;
                let (name, value) = table::lookup(&self.table, index)?;
                self.account(&mut block, name, value, false, emit);
            } else if first & 0x40 != 0 {
                self.literal(&mut block, 6, Indexing::Incremental, emit)?;
            } else if first & 0x10 != 0 {
                self.literal(&mut block, 4, Indexing::Never, emit)?;
            } else {
                self.literal(&mut block, 4, Indexing::Without, emit)?;
            }
        }
        if self.size_update_required {
            return Err(DecoderError::SizeUpdateMissing);
        }
        if block.too_large {
            return Err(DecoderError::HeaderListTooLarge {
                limit: self.max_header_list_size,
            });
        }
        Ok(())
    }

    fn size_update(&mut self, block: &mut Block<'_>) -> Result<(), DecoderError> {
        let requested = integer::decode(block.bytes, &mut block.pos, 5)?;
        let size = usize::try_from(requested).unwrap_or(usize::MAX);
        if size > self.max_table_size {
            return Err(DecoderError::SizeUpdateTooLarge {
                requested,
                max: self.max_table_size,
            });
        }
        self.table.set_capacity(size, |_| {});
        self.size_update_required = false;
        Ok(())
    }

    fn literal(
        &mut self,
        block: &mut Block<'_>,
        prefix_bits: u8,
        indexing: Indexing,
        emit: &mut dyn FnMut(HeaderField),
    ) -> Result<(), DecoderError> {
        let name_index = integer::decode(block.bytes, &mut block.pos, prefix_bits)?;
        let name = if name_index == 0 {
            Name::Literal(read_string(block)?)
        } else {
            Name::Indexed(table::lookup(&self.table, name_index)?.0)
        };
        let value = read_string(block)?;

        let min_size = match &name {
            Name::Indexed(name) => name.len(),
            Name::Literal(s) => s.min_decoded_len(),
        } + value.min_decoded_len()
            + ENTRY_OVERHEAD;
        if indexing == Indexing::Incremental && min_size > self.table.capacity() {
            // The entry can never fit: inserting it empties the table (§4.4), and the
            // strings need not be decoded for that.
            self.table.clear(|_| {});
            Self::mark_too_large_if(block, min_size, self.max_header_list_size);
            if !block.too_large {
                let (name, value) = (
                    materialise_name(block, name, None)?,
                    materialise(block, value, None)?,
                );
                self.account(block, name, value, indexing == Indexing::Never, emit);
            }
            return Ok(());
        }
        if indexing != Indexing::Incremental {
            Self::mark_too_large_if(block, min_size, self.max_header_list_size);
            if block.too_large {
                // Nothing will be emitted and the table is untouched: skip decoding.
                return Ok(());
            }
        }
        let mut scratch = (indexing != Indexing::Incremental).then_some(&mut self.scratch);
        let name = materialise_name(block, name, scratch.as_deref_mut())?;
        let value = materialise(block, value, scratch)?;
        if indexing == Indexing::Incremental {
            self.table.insert(name.clone(), value.clone(), |_| {});
        }
        self.account(block, name, value, indexing == Indexing::Never, emit);
        Ok(())
    }

    /// Marks the block too large if a field of at least `min_size` octets cannot fit.
    fn mark_too_large_if(block: &mut Block<'_>, min_size: usize, limit: usize) {
        if block.list_size.saturating_add(min_size) > limit {
            block.too_large = true;
        }
    }

    /// Counts a decoded field against the list limit and emits it while under the limit.
    fn account(
        &self,
        block: &mut Block<'_>,
        name: Bytes,
        value: Bytes,
        never_indexed: bool,
        emit: &mut dyn FnMut(HeaderField),
    ) {
        if block.too_large {
            return;
        }
        let field = HeaderField {
            name,
            value,
            never_indexed,
        };
        block.list_size = block.list_size.saturating_add(field.size());
        if block.list_size > self.max_header_list_size {
            block.too_large = true;
            return;
        }
        emit(field);
    }
}

/// Reads a string literal's header and locates its octets (§5.2).
fn read_string(block: &mut Block<'_>) -> Result<StringRef, DecoderError> {
    let Some(&first) = block.bytes.get(block.pos) else {
        return Err(DecoderError::Truncated);
    };
    let len = integer::decode(block.bytes, &mut block.pos, 7)?;
    let start = block.pos;
    let end = usize::try_from(len)
        .ok()
        .and_then(|len| start.checked_add(len))
        .filter(|&end| end <= block.bytes.len())
        .ok_or(DecoderError::Truncated)?;
    block.pos = end;
    Ok(StringRef {
        huffman: first & 0x80 != 0,
        start,
        end,
    })
}

/// The decoded octets of a string: a slice of the block when raw; when Huffman, a slice
/// of `scratch` if given, else a buffer of its own.
fn materialise(
    block: &Block<'_>,
    s: StringRef,
    scratch: Option<&mut Arena<SCRATCH>>,
) -> Result<Bytes, DecoderError> {
    if !s.huffman {
        return Ok(block.bytes.slice(s.start..s.end));
    }
    let src = &block.bytes[s.start..s.end];
    let Some(scratch) = scratch else {
        let mut out = BytesMut::new();
        huffman::decode(src, &mut out)?;
        return Ok(out.freeze());
    };
    // Huffman codes are at least 5 bits long.
    scratch.fill(src.len() * 8 / 5 + 1, |dst| huffman::decode(src, dst))
}

fn materialise_name(
    block: &Block<'_>,
    name: Name,
    scratch: Option<&mut Arena<SCRATCH>>,
) -> Result<Bytes, DecoderError> {
    match name {
        Name::Indexed(name) => Ok(name),
        Name::Literal(s) => materialise(block, s, scratch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal without indexing (§6.2.2) of static name 4 (`:path`), Huffman-coded.
    fn path_block(path: &[u8]) -> Bytes {
        let mut coded = BytesMut::new();
        huffman::encode(path, &mut coded);
        let mut block = BytesMut::new();
        integer::encode(4, 4, 0x00, &mut block);
        integer::encode(coded.len(), 7, 0x80, &mut block);
        block.extend_from_slice(&coded);
        block.freeze()
    }

    fn decode_one(decoder: &mut Decoder, block: &Bytes) -> HeaderField {
        let mut fields = Vec::new();
        decoder.decode(block, |f| fields.push(f)).unwrap();
        assert_eq!(fields.len(), 1);
        fields.pop().unwrap()
    }

    #[test]
    fn huffman_strings_decoded_into_the_scratch_stay_intact_as_it_refills() {
        let mut decoder = Decoder::default();
        let long: Vec<u8> = (0..3 * SCRATCH)
            .map(|i| b"/abcdefghijklmnopqrstuvwxyz0123456789"[i % 37])
            .collect();
        let paths: Vec<Vec<u8>> = (0..400)
            .map(|i| match i % 50 {
                // Longer than a whole scratch chunk now and then.
                49 => long.clone(),
                _ => format!("/item/{i}?page={}", i * 7).into_bytes(),
            })
            .collect();
        // Every value is kept while later ones are decoded: none may overwrite another.
        let kept: Vec<HeaderField> = paths
            .iter()
            .map(|p| decode_one(&mut decoder, &path_block(p)))
            .collect();
        for (field, path) in kept.iter().zip(&paths) {
            assert_eq!(&field.name[..], b":path");
            assert_eq!(&field.value[..], &path[..]);
        }
        // Nothing entered the table, and the scratch is freed on request.
        assert_eq!(decoder.table_size(), 0);
        assert!(decoder.scratch.capacity() > 0);
        decoder.release_idle();
        assert_eq!(decoder.scratch.capacity(), 0);
        let again = decode_one(&mut decoder, &path_block(b"/after"));
        assert_eq!(&again.value[..], b"/after");
    }

    #[test]
    fn indexed_huffman_strings_get_buffers_of_their_own() {
        // A literal with incremental indexing (§6.2.1), new name, both strings Huffman.
        let mut block = BytesMut::new();
        block.extend_from_slice(&[0x40]);
        for s in [&b"x-trace"[..], &b"abc123"[..]] {
            let mut coded = BytesMut::new();
            huffman::encode(s, &mut coded);
            integer::encode(coded.len(), 7, 0x80, &mut block);
            block.extend_from_slice(&coded);
        }
        let mut decoder = Decoder::default();
        let field = decode_one(&mut decoder, &block.freeze());
        assert_eq!(
            (&field.name[..], &field.value[..]),
            (&b"x-trace"[..], &b"abc123"[..])
        );
        assert_eq!(decoder.table_size(), 7 + 6 + 32);
        // The table entry pins no shared chunk: the scratch was never used.
        assert_eq!(decoder.scratch.capacity(), 0);
    }
}
