//! The frame reader: cuts a byte stream into frames and reassembles field blocks split over
//! HEADERS / PUSH_PROMISE + CONTINUATION frames (RFC 9113 §4.3, §6.10).
//!
//! Incomplete input is a normal result (`Ok(None)`), not an error: the caller appends more
//! bytes and calls again. The reader never buffers more than one frame beyond what the
//! caller holds: a frame header announcing more than SETTINGS_MAX_FRAME_SIZE fails at once,
//! before its payload arrives.
//!
//! Field-block assembly is bounded twice: at most [`DEFAULT_MAX_CONTINUATION_FRAMES`]
//! CONTINUATION frames per block and at most [`DEFAULT_MAX_HEADER_BLOCK_SIZE`] octets
//! buffered; past either the peer is flooding and the connection ends with
//! ENHANCE_YOUR_CALM. Any frame other than a CONTINUATION of the same stream inside a block
//! is a PROTOCOL_ERROR.
//!
//! Connection errors are sticky: once one is returned, every later call returns it again.
//! Stream errors (a malformed PRIORITY frame) consume their frame and reading goes on.

use bytes::{Bytes, BytesMut};

use super::{DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE};
use super::{Frame, FrameError, FrameType, HEAD_LEN, Head, Headers, PushPromise, decode};
use crate::h2::PeerError;

/// The default limit on CONTINUATION frames in one field block.
pub const DEFAULT_MAX_CONTINUATION_FRAMES: usize = 8;

/// The default limit on the octets of one field block: four times the 16 KiB header list
/// size advertised by default.
pub const DEFAULT_MAX_HEADER_BLOCK_SIZE: usize = 64 * 1024;

/// A field block waiting for its CONTINUATION frames.
#[derive(Debug)]
struct PartialBlock {
    /// The first frame, whose block holds the first fragment only.
    first: Frame,
    /// The block so far (all fragments).
    block: BytesMut,
    continuations: usize,
}

/// Reads frames from a byte stream. See the module documentation.
#[derive(Debug)]
pub struct FrameReader {
    max_frame_size: u32,
    max_continuation_frames: usize,
    max_header_block_size: usize,
    partial: Option<PartialBlock>,
    failed: Option<FrameError>,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    /// A reader with the default limits: frames up to 16,384 octets, 8 CONTINUATION frames
    /// and 64 KiB per field block.
    pub fn new() -> Self {
        FrameReader {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_continuation_frames: DEFAULT_MAX_CONTINUATION_FRAMES,
            max_header_block_size: DEFAULT_MAX_HEADER_BLOCK_SIZE,
            partial: None,
            failed: None,
        }
    }

    /// Sets the largest frame accepted: our SETTINGS_MAX_FRAME_SIZE once the peer has
    /// acknowledged it. Clamped to the RFC's range (2^14..=2^24-1).
    pub fn set_max_frame_size(&mut self, size: u32) {
        self.max_frame_size = size.clamp(DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
    }

    /// The largest frame accepted.
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// Sets the limit on CONTINUATION frames per field block.
    pub fn set_max_continuation_frames(&mut self, limit: usize) {
        self.max_continuation_frames = limit;
    }

    /// Sets the limit on the octets of one field block.
    pub fn set_max_header_block_size(&mut self, limit: usize) {
        self.max_header_block_size = limit;
    }

    /// True while a field block waits for CONTINUATION frames.
    pub fn is_in_header_block(&self) -> bool {
        self.partial.is_some()
    }

    /// Octets held for an unfinished field block.
    pub fn buffered(&self) -> usize {
        self.partial.as_ref().map_or(0, |p| p.block.len())
    }

    /// Takes the next complete frame from the front of `src`.
    ///
    /// Returns `Ok(None)` when `src` holds no complete frame yet (consuming nothing it would
    /// need again), `Ok(Some(frame))` for a frame, and `Err` for a violation (see
    /// [`FrameError`] for the scope).
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.decode_inner(src);
        if let Err(error @ FrameError::Connection(_)) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn decode_inner(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        loop {
            let Some(head) = Head::parse(src) else {
                return Ok(None);
            };
            if head.length > self.max_frame_size {
                return Err(PeerError::FrameTooLarge {
                    length: head.length,
                    max: self.max_frame_size,
                }
                .into());
            }
            let total = HEAD_LEN + head.length as usize;
            if src.len() < total {
                // No reserve here: the buffer is shared with the payloads just split off, so
                // growing it copies the partial frame; whoever appends next sizes it once.
                return Ok(None);
            }
            let payload = src.split_to(total).freeze().slice(HEAD_LEN..);
            if self.partial.is_some() {
                if let Some(frame) = self.continue_block(head, payload)? {
                    return Ok(Some(frame));
                }
                continue;
            }
            match decode(head, payload)? {
                Frame::Headers(h) if !h.end_headers => {
                    let fragment = h.block.clone();
                    self.start_block(Frame::Headers(h), &fragment)?;
                }
                Frame::PushPromise(p) if !p.end_headers => {
                    let fragment = p.block.clone();
                    self.start_block(Frame::PushPromise(p), &fragment)?;
                }
                Frame::Continuation(_) => return Err(PeerError::UnexpectedContinuation.into()),
                frame => return Ok(Some(frame)),
            }
        }
    }

    fn start_block(&mut self, first: Frame, fragment: &Bytes) -> Result<(), FrameError> {
        if fragment.len() > self.max_header_block_size {
            return Err(self.block_too_large());
        }
        self.partial = Some(PartialBlock {
            first,
            block: BytesMut::from(&fragment[..]),
            continuations: 0,
        });
        Ok(())
    }

    fn block_too_large(&self) -> FrameError {
        PeerError::HeaderBlockTooLarge {
            limit: self.max_header_block_size,
        }
        .into()
    }

    /// Adds a frame to the block in progress; returns the finished frame at END_HEADERS.
    fn continue_block(&mut self, head: Head, payload: Bytes) -> Result<Option<Frame>, FrameError> {
        let block_stream = self.partial.as_ref().map(|p| p.first.stream_id());
        if head.kind != FrameType::CONTINUATION || Some(head.stream_id) != block_stream {
            return Err(PeerError::HeaderBlockInterrupted { frame: head.kind }.into());
        }
        // decode() turns a CONTINUATION head into Frame::Continuation or an error.
        let Frame::Continuation(continuation) = decode(head, payload)? else {
            return Err(PeerError::HeaderBlockInterrupted { frame: head.kind }.into());
        };
        let (max_continuations, max_size) =
            (self.max_continuation_frames, self.max_header_block_size);
        let too_large = self.block_too_large();
        // Checked above: a block is in progress.
        let Some(partial) = self.partial.as_mut() else {
            return Ok(None);
        };
        partial.continuations += 1;
        if partial.continuations > max_continuations {
            return Err(PeerError::TooManyContinuations {
                limit: max_continuations,
            }
            .into());
        }
        if partial.block.len() + continuation.fragment.len() > max_size {
            return Err(too_large);
        }
        partial.block.extend_from_slice(&continuation.fragment);
        if !continuation.end_headers {
            return Ok(None);
        }
        let Some(PartialBlock { first, block, .. }) = self.partial.take() else {
            return Ok(None);
        };
        let block = block.freeze();
        Ok(Some(match first {
            Frame::Headers(h) => Frame::Headers(Headers {
                end_headers: true,
                block,
                ..h
            }),
            Frame::PushPromise(p) => Frame::PushPromise(PushPromise {
                end_headers: true,
                block,
                ..p
            }),
            other => other,
        }))
    }
}
