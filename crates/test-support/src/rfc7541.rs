//! The worked examples of RFC 7541 Appendix C (C.2 to C.6), read from the RFC text in
//! `shared/rfc/rfc7541.txt`: each header list, its hex dump, and the dynamic table size the
//! RFC shows after decoding it.

use std::fs;

use crate::fixtures::{hex, shared_dir};

/// One example block.
#[derive(Clone, Debug)]
pub struct Example {
    /// Section number, e.g. `C.4.2`.
    pub section: String,
    /// The header list to encode.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The encoded block.
    pub wire: Vec<u8>,
    /// The dynamic table size after decoding ("Table size:").
    pub table_size: usize,
}

/// A group of examples that share one compression context (C.3 to C.6), or a single
/// example with its own (each of C.2.x).
#[derive(Clone, Debug)]
pub struct Sequence {
    /// The group's section, e.g. `C.5`.
    pub section: String,
    /// The dynamic table size both sides start with (256 in C.5 and C.6, else 4,096).
    pub table_size: usize,
    /// Whether the examples use Huffman coding (C.4 and C.6).
    pub huffman: bool,
    /// The blocks in order.
    pub examples: Vec<Example>,
}

/// Parses Appendix C of the RFC into its sequences.
pub fn sequences() -> Vec<Sequence> {
    let path = shared_dir().join("rfc").join("rfc7541.txt");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("[Page ") && !l.starts_with("RFC 7541") && !l.contains('\u{c}'))
        .collect();
    let examples = parse_examples(&lines);
    let mut out: Vec<Sequence> = Vec::new();
    for example in examples {
        let group = if example.section.starts_with("C.2.") {
            example.section.clone()
        } else {
            example.section[..3].to_string()
        };
        if out.last().is_none_or(|s| s.section != group) {
            let table_size = if group == "C.5" || group == "C.6" {
                256
            } else {
                4096
            };
            out.push(Sequence {
                huffman: group == "C.4" || group == "C.6",
                section: group,
                table_size,
                examples: Vec::new(),
            });
        }
        out.last_mut().expect("pushed above").examples.push(example);
    }
    out
}

fn parse_examples(lines: &[&str]) -> Vec<Example> {
    let mut examples = Vec::new();
    let mut section = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("C.") && line.as_bytes().get(3) == Some(&b'.') {
            section = line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('.')
                .into();
        }
        if line.trim() == "Header list to encode:" && section.as_str() >= "C.2" {
            let mut example = Example {
                section: section.clone(),
                headers: Vec::new(),
                wire: Vec::new(),
                table_size: 0,
            };
            i += 1;
            while lines[i].trim() != "Hex dump of encoded data:" {
                if let Some((name, value)) = lines[i].trim().split_once(": ") {
                    example
                        .headers
                        .push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
                }
                i += 1;
            }
            i += 1;
            while lines[i].trim() != "Decoding process:" {
                if let Some((hexpart, _)) = lines[i].split_once('|') {
                    let digits: String = hexpart.split_whitespace().collect();
                    example.wire.extend(hex(&digits));
                }
                i += 1;
            }
            while !lines[i].trim_start().starts_with("Table size:")
                && !lines[i].trim().ends_with("(after decoding): empty.")
            {
                i += 1;
            }
            example.table_size = match lines[i].trim().strip_prefix("Table size:") {
                Some(n) => n.trim().parse().expect("table size is a number"),
                None => 0,
            };
            examples.push(example);
        }
        i += 1;
    }
    examples
}
