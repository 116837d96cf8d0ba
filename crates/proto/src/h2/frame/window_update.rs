//! WINDOW_UPDATE frames (RFC 9113 §6.9).
//!
//! ```text
//! +-+-------------------------------------------------------------+
//! |R|              Window Size Increment (31)                     |
//! +-+-------------------------------------------------------------+
//! ```
//!
//! Rules: length exactly 4 (connection FRAME_SIZE_ERROR); an increment of 0 is a
//! PROTOCOL_ERROR, a stream error on a stream and a connection error on stream 0. Window
//! overflow is the connection's to check, since it needs the window.

use bytes::{BufMut, Bytes, BytesMut};

use super::{FrameError, FrameType, Head, invalid_length};
use crate::h2::{PeerError, StreamId};

/// A WINDOW_UPDATE frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowUpdate {
    /// The stream, or 0 for the connection window.
    pub stream_id: StreamId,
    /// The increment, 1 to 2^31-1.
    pub increment: u32,
}

impl WindowUpdate {
    pub(super) fn decode(head: Head, payload: &Bytes) -> Result<WindowUpdate, FrameError> {
        let raw: [u8; 4] = payload[..].try_into().map_err(|_| invalid_length(&head))?;
        let increment = u32::from_be_bytes(raw) & 0x7fff_ffff;
        if increment == 0 {
            let error = PeerError::ZeroWindowIncrement;
            return Err(if head.stream_id.is_zero() {
                FrameError::Connection(error)
            } else {
                FrameError::Stream {
                    stream_id: head.stream_id,
                    error,
                }
            });
        }
        Ok(WindowUpdate {
            stream_id: head.stream_id,
            increment,
        })
    }

    /// Appends the frame to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        Head::new(FrameType::WINDOW_UPDATE, 0, self.stream_id, 4).encode(dst);
        dst.put_u32(self.increment & 0x7fff_ffff);
    }
}
