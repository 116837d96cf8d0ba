//! The HPACK Huffman code (RFC 7541 §5.2 and Appendix B): encoding, and decoding four bits at
//! a time through a state table built at compile time from the code table.
//!
//! Decoding rules (§5.2):
//! - the EOS symbol (256) inside a string is an error ([`DecoderError::HuffmanEos`]);
//! - padding must be the most significant bits of EOS (all ones) and at most 7 bits long,
//!   otherwise [`DecoderError::HuffmanPadding`].
//!
//! The decoding automaton: the Huffman tree has 257 leaves and so exactly 256 internal nodes,
//! numbered from 0 (the root). A state is an internal node. For every state and every 4-bit
//! input, [`DECODE`] holds the node reached, the symbol emitted on the way (codes are at
//! least 5 bits long, so at most one symbol per nibble) and whether EOS was crossed. A string
//! ends correctly only in a state of [`ACCEPT`]: the root, or a node on the all-ones path at
//! depth 7 or less (valid padding).

use bytes::{BufMut, BytesMut};

use super::DecoderError;
use super::huffman_codes::CODES;

/// Marks a tree child that is a leaf; the symbol is in the low 9 bits.
const LEAF: u16 = 0x200;
/// Symbol number of EOS.
const EOS: u16 = 256;

/// Children of each internal node: `[bit 0, bit 1]`, an internal node number or `LEAF | sym`.
const TREE: [[u16; 2]; 256] = build_tree();

#[expect(
    clippy::cast_possible_truncation,
    reason = "const fn cannot use TryFrom; symbols are < 257 and node numbers < 256"
)]
const fn build_tree() -> [[u16; 2]; 256] {
    let mut tree = [[0u16; 2]; 256];
    let mut next_node: u16 = 1;
    let mut sym = 0;
    while sym < CODES.len() {
        let (code, bits) = CODES[sym];
        let mut node = 0usize;
        let mut i = bits as u32;
        while i > 1 {
            i -= 1;
            let bit = ((code >> i) & 1) as usize;
            if tree[node][bit] == 0 {
                tree[node][bit] = next_node;
                next_node += 1;
            }
            node = tree[node][bit] as usize;
        }
        tree[node][(code & 1) as usize] = LEAF | sym as u16;
        sym += 1;
    }
    tree
}

/// Entry flag: a symbol was emitted (in bits 8..16).
const EMIT: u32 = 1 << 16;
/// Entry flag: the EOS symbol was decoded.
const FAIL: u32 = 1 << 17;

/// `DECODE[state][nibble]` = next state (bits 0..8) | symbol (bits 8..16) | `EMIT` | `FAIL`.
static DECODE: [[u32; 16]; 256] = build_decode();

#[expect(
    clippy::cast_possible_truncation,
    reason = "const fn cannot use TryFrom; node numbers are < 256"
)]
const fn build_decode() -> [[u32; 16]; 256] {
    let mut table = [[0u32; 16]; 256];
    let mut state = 0;
    while state < 256 {
        let mut nibble = 0;
        while nibble < 16 {
            let mut node = state;
            let mut entry = 0u32;
            let mut k = 4;
            while k > 0 {
                k -= 1;
                let child = TREE[node][(nibble >> k) & 1];
                if child & LEAF != 0 {
                    let sym = child & !LEAF;
                    if sym == EOS {
                        entry |= FAIL;
                        break;
                    }
                    entry |= EMIT | ((sym as u32) << 8);
                    node = 0;
                } else {
                    node = child as usize;
                }
            }
            table[state][nibble] = entry | node as u32;
            nibble += 1;
        }
        state += 1;
    }
    table
}

/// `ACCEPT[state]`: a string may end in this state (root, or at most 7 bits of all-ones
/// padding).
static ACCEPT: [bool; 256] = build_accept();

const fn build_accept() -> [bool; 256] {
    let mut accept = [false; 256];
    accept[0] = true;
    let mut node = 0usize;
    let mut depth = 0;
    while depth < 7 {
        // The all-ones path only reaches EOS at depth 30; the first 7 steps are internal.
        node = TREE[node][1] as usize;
        accept[node] = true;
        depth += 1;
    }
    accept
}

/// Decodes a Huffman-coded string, appending the octets to `dst` (on error, nothing).
pub(super) fn decode(src: &[u8], dst: &mut BytesMut) -> Result<(), DecoderError> {
    let start = dst.len();
    // The shortest code is 5 bits, so the output is at most 8/5 of the input: room for all
    // of it is made once and the octets are stored by index (a `put_u8` per octet cost a
    // call and a capacity check each), then the unused tail is cut.
    dst.resize(start + src.len() * 8 / 5 + 1, 0);
    let out = &mut dst[start..];
    let mut n = 0;
    let mut state = 0usize;
    for &byte in src {
        for nibble in [byte >> 4, byte & 0x0f] {
            let entry = DECODE[state][usize::from(nibble)];
            if entry & FAIL != 0 {
                dst.truncate(start);
                return Err(DecoderError::HuffmanEos);
            }
            if entry & EMIT != 0 {
                out[n] = entry.to_le_bytes()[1];
                n += 1;
            }
            state = usize::from(entry.to_le_bytes()[0]);
        }
    }
    if ACCEPT[state] {
        dst.truncate(start + n);
        Ok(())
    } else {
        dst.truncate(start);
        Err(DecoderError::HuffmanPadding)
    }
}

/// The length in octets of `src` once Huffman-coded.
pub(super) fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src
        .iter()
        .map(|&b| usize::from(CODES[usize::from(b)].1))
        .sum();
    bits.div_ceil(8)
}

/// Appends the Huffman coding of `src` to `dst`, padded with the high bits of EOS.
pub(super) fn encode(src: &[u8], dst: &mut BytesMut) {
    dst.reserve(encoded_len(src));
    // At most 7 pending bits plus one 30-bit code: never more than 37 bits in use.
    let mut acc: u64 = 0;
    let mut pending: u32 = 0;
    for &byte in src {
        let (code, bits) = CODES[usize::from(byte)];
        acc = (acc << bits) | u64::from(code);
        pending += u32::from(bits);
        while pending >= 8 {
            pending -= 8;
            dst.put_u8((acc >> pending).to_le_bytes()[0]);
        }
    }
    if pending > 0 {
        let padded = (acc << (8 - pending)) | (0xff >> pending);
        dst.put_u8(padded.to_le_bytes()[0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_vec(src: &[u8]) -> Result<Vec<u8>, DecoderError> {
        let mut out = BytesMut::new();
        decode(src, &mut out).map(|()| out.to_vec())
    }

    #[test]
    fn encode_rfc7541_c4_1_www_example_com_produces_exact_bytes() {
        let mut out = BytesMut::new();
        encode(b"www.example.com", &mut out);
        let expected = [
            0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
        ];
        assert_eq!(&out[..], expected);
        assert_eq!(encoded_len(b"www.example.com"), expected.len());
        assert_eq!(decode_vec(&expected).unwrap(), b"www.example.com");
    }

    #[test]
    fn decode_every_byte_value_roundtrips() {
        let all: Vec<u8> = (0..=255).collect();
        let mut out = BytesMut::new();
        encode(&all, &mut out);
        assert_eq!(decode_vec(&out).unwrap(), all);
    }

    #[test]
    fn decode_padding_longer_than_seven_bits_is_error() {
        // 'a' is 00011 (5 bits); then 11 bits of ones: padding > 7 bits.
        assert_eq!(decode_vec(&[0x1f, 0xff]), Err(DecoderError::HuffmanPadding));
        // A whole byte of ones alone is 8 bits of padding.
        assert_eq!(decode_vec(&[0xff]), Err(DecoderError::HuffmanPadding));
    }

    #[test]
    fn decode_padding_not_all_ones_is_error() {
        // 'a' = 00011 then 000 as padding.
        assert_eq!(decode_vec(&[0x18]), Err(DecoderError::HuffmanPadding));
    }

    #[test]
    fn decode_eos_symbol_is_error() {
        // EOS is 30 ones; 32 ones contain it.
        assert_eq!(
            decode_vec(&[0xff, 0xff, 0xff, 0xff]),
            Err(DecoderError::HuffmanEos)
        );
    }

    #[test]
    fn decode_empty_string_is_empty() {
        assert_eq!(decode_vec(&[]).unwrap(), b"");
    }
}
