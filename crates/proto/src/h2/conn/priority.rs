//! Extensible priorities (RFC 9218): the `priority` request header and the PRIORITY_UPDATE
//! frame set a stream's urgency (0 most urgent .. 7) and whether it is incremental.
//!
//! Parsing follows §4: a Structured Fields dictionary where `u` is an integer 0..=7 and `i`
//! a boolean (`i` alone means true); unknown members and invalid values are ignored.
//! Streams without any signal are scheduled round-robin at the default urgency 3.

/// The PRIORITY_UPDATE frame type (RFC 9218 §7.1).
pub(crate) const PRIORITY_UPDATE: u8 = 0x10;

/// A stream's scheduling priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    /// Urgency, 0 (highest) to 7 (lowest). Default 3.
    pub urgency: u8,
    /// Served interleaved with streams of the same urgency (true), or one at a time in
    /// stream order (false). Streams without a priority signal are interleaved.
    pub incremental: bool,
}

impl Default for Priority {
    fn default() -> Self {
        Priority {
            urgency: 3,
            incremental: true,
        }
    }
}

impl Priority {
    /// Parses a `priority` field value (RFC 9218 §4); members it does not understand are
    /// ignored, and the RFC's defaults (u=3, i=?0) fill in the rest.
    pub fn parse(value: &[u8]) -> Priority {
        let mut p = Priority {
            urgency: 3,
            incremental: false,
        };
        let Ok(text) = std::str::from_utf8(value) else {
            return p;
        };
        for member in text.split(',') {
            let member = member.trim();
            let (key, val) = match member.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (member, None),
            };
            // Parameters (";...") on a member are ignored.
            let val = val.map(|v| v.split(';').next().unwrap_or("").trim());
            match (key, val) {
                ("u", Some(v)) => {
                    if let Ok(u @ 0..=7) = v.parse::<u8>() {
                        p.urgency = u;
                    }
                }
                ("i", None | Some("?1")) => p.incremental = true,
                ("i", Some("?0")) => p.incremental = false,
                _ => {}
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::Priority;

    #[test]
    fn parse_rfc9218_examples_and_invalid_members() {
        assert_eq!(
            Priority::parse(b"u=5, i"),
            Priority {
                urgency: 5,
                incremental: true
            }
        );
        assert_eq!(
            Priority::parse(b"u=0"),
            Priority {
                urgency: 0,
                incremental: false
            }
        );
        assert_eq!(
            Priority::parse(b"i=?1"),
            Priority {
                urgency: 3,
                incremental: true
            }
        );
        assert_eq!(
            Priority::parse(b"u=9, i=?0, x=1"),
            Priority {
                urgency: 3,
                incremental: false
            }
        );
        assert_eq!(
            Priority::parse(b"u=abc"),
            Priority {
                urgency: 3,
                incremental: false
            }
        );
    }
}
