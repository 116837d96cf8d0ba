//! HPACK header compression (RFC 7541).
//!
//! Owns the wire form of field blocks: prefix integers (§5.1), string literals and the Huffman
//! code (§5.2, Appendix B), the static table (Appendix A), the dynamic table with its 32-byte
//! entry overhead and eviction (§4), and the [`Decoder`] / [`Encoder`] that share a compression
//! context with the peer.
//!
//! It must not know about frames, streams or `http` types: it works on byte strings, and the
//! message layer turns them into header maps and pseudo-headers. Every decoding failure is a
//! typed [`DecoderError`]; all but [`DecoderError::HeaderListTooLarge`] leave the compression
//! context unusable, which the connection reports as `COMPRESSION_ERROR` (RFC 9113 §4.3).
//!
//! Memory is bounded by construction: the decoder counts the decoded size of a block while
//! it decodes (RFC 9113 §6.5.2 accounting, 32 octets per field) and stops materialising
//! fields past [`Decoder::max_header_list_size`], yet keeps applying every table insertion so
//! the context stays in sync with the peer's encoder.

mod decoder;
mod encoder;
mod huffman;
mod huffman_codes;
mod integer;
mod static_table;
mod table;

pub use decoder::{DEFAULT_MAX_HEADER_LIST_SIZE, Decoder, DecoderError};
pub use encoder::{Encoder, FieldRef, HuffmanPolicy, MAX_TABLE_SIZE};

use bytes::Bytes;

/// The default SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2): 4,096 octets.
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// The per-entry overhead added to `name.len() + value.len()` when sizing table entries and
/// header lists (RFC 7541 §4.1, RFC 9113 §6.5.2).
pub const ENTRY_OVERHEAD: usize = 32;

/// One decoded field: name and value as raw octets.
///
/// Names and values are not validated here (that is the message layer's job, RFC 9113
/// §8.2.1); they are cheap `Bytes` handles that may share the block's storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderField {
    /// The field name, as sent (HTTP/2 requires lowercase; not checked here).
    pub name: Bytes,
    /// The field value, as sent.
    pub value: Bytes,
    /// The peer sent it as a never-indexed literal (RFC 7541 §6.2.3); an intermediary must
    /// re-encode it the same way.
    pub never_indexed: bool,
}

impl HeaderField {
    /// The field's size for table and header-list accounting: name + value + 32 octets.
    pub fn size(&self) -> usize {
        entry_size(&self.name, &self.value)
    }
}

fn entry_size(name: &[u8], value: &[u8]) -> usize {
    name.len() + value.len() + ENTRY_OVERHEAD
}
