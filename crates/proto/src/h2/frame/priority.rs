//! PRIORITY frames (RFC 9113 §6.3). The RFC 7540 priority scheme is deprecated; the frame is
//! still validated (and then dropped by the connection).
//!
//! ```text
//! +-+-------------------------------------------------------------+
//! |E|                  Stream Dependency (31)                     |
//! +-+-------------+-----------------------------------------------+
//! |   Weight (8)  |
//! +---------------+
//! ```
//!
//! Rules: stream id not 0 (connection PROTOCOL_ERROR); length exactly 5 (a *stream* error of
//! type FRAME_SIZE_ERROR); a self-dependency is a stream PROTOCOL_ERROR (§5.3.1).

use bytes::{Bytes, BytesMut};

use super::{FrameError, FrameType, Head, PrioritySpec, require_stream};
use crate::h2::{PeerError, StreamId};

/// A PRIORITY frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priority {
    /// The stream whose priority changes.
    pub stream_id: StreamId,
    /// The new priority.
    pub spec: PrioritySpec,
}

impl Priority {
    pub(super) fn decode(head: Head, payload: &Bytes) -> Result<Priority, FrameError> {
        require_stream(&head)?;
        let stream_error = |error| FrameError::Stream {
            stream_id: head.stream_id,
            error,
        };
        if payload.len() != PrioritySpec::LEN {
            return Err(stream_error(PeerError::InvalidLength {
                frame: head.kind,
                length: head.length,
            }));
        }
        let spec = PrioritySpec::parse(&mut payload.clone());
        if spec.dependency == head.stream_id {
            return Err(stream_error(PeerError::SelfDependency));
        }
        Ok(Priority {
            stream_id: head.stream_id,
            spec,
        })
    }

    /// Appends the frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        Head::new(FrameType::PRIORITY, 0, self.stream_id, 5).encode(dst);
        self.spec.encode(dst);
    }
}
