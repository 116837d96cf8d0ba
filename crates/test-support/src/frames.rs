//! A fluent builder of raw HTTP/2 frames for scripted-peer tests.
//!
//! Unlike the codec in `pullhttp-proto`, the builder writes whatever it is told: wrong
//! lengths, reserved bits, padding longer than the payload, frames on the wrong stream. That
//! is what tests of the receiving side's rules need.
//!
//! ```
//! use pullhttp_test_support::frames::RawFrame;
//! let bytes = RawFrame::ping([1; 8]).stream(1).to_vec(); // PING on stream 1: invalid
//! assert_eq!(bytes.len(), 9 + 8);
//! ```

use bytes::{BufMut, BytesMut};
use pullhttp_proto::h2::frame::{FrameType, flags};

/// A frame under construction. Defaults: stream 0, no flags, length = payload length.
#[derive(Clone, Debug)]
pub struct RawFrame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
    length: Option<u32>,
}

impl RawFrame {
    /// A frame of any type with an empty payload.
    pub fn new(kind: u8) -> Self {
        RawFrame {
            kind,
            flags: 0,
            stream: 0,
            payload: Vec::new(),
            length: None,
        }
    }

    /// DATA on `stream`.
    pub fn data(stream: u32, data: &[u8]) -> Self {
        Self::new(FrameType::DATA.as_u8())
            .stream(stream)
            .payload(data)
    }

    /// HEADERS on `stream` with a field block fragment (no flags set).
    pub fn headers(stream: u32, block: &[u8]) -> Self {
        Self::new(FrameType::HEADERS.as_u8())
            .stream(stream)
            .payload(block)
    }

    /// CONTINUATION on `stream`.
    pub fn continuation(stream: u32, fragment: &[u8]) -> Self {
        Self::new(FrameType::CONTINUATION.as_u8())
            .stream(stream)
            .payload(fragment)
    }

    /// PRIORITY on `stream` depending on `dependency` with weight `weight`.
    pub fn priority(stream: u32, dependency: u32, weight: u8) -> Self {
        let mut p = dependency.to_be_bytes().to_vec();
        p.push(weight);
        Self::new(FrameType::PRIORITY.as_u8())
            .stream(stream)
            .payload(&p)
    }

    /// RST_STREAM on `stream` with an error code.
    pub fn rst_stream(stream: u32, code: u32) -> Self {
        Self::new(FrameType::RST_STREAM.as_u8())
            .stream(stream)
            .payload(&code.to_be_bytes())
    }

    /// SETTINGS with the given parameters.
    pub fn settings(params: &[(u16, u32)]) -> Self {
        let mut p = Vec::new();
        for &(id, value) in params {
            p.extend_from_slice(&id.to_be_bytes());
            p.extend_from_slice(&value.to_be_bytes());
        }
        Self::new(FrameType::SETTINGS.as_u8()).payload(&p)
    }

    /// SETTINGS with ACK.
    pub fn settings_ack() -> Self {
        Self::new(FrameType::SETTINGS.as_u8()).flags(flags::ACK)
    }

    /// PUSH_PROMISE on `stream` promising `promised`.
    pub fn push_promise(stream: u32, promised: u32, block: &[u8]) -> Self {
        let mut p = promised.to_be_bytes().to_vec();
        p.extend_from_slice(block);
        Self::new(FrameType::PUSH_PROMISE.as_u8())
            .stream(stream)
            .payload(&p)
    }

    /// PING with an opaque payload.
    pub fn ping(payload: [u8; 8]) -> Self {
        Self::new(FrameType::PING.as_u8()).payload(&payload)
    }

    /// GOAWAY.
    pub fn go_away(last_stream: u32, code: u32, debug: &[u8]) -> Self {
        let mut p = last_stream.to_be_bytes().to_vec();
        p.extend_from_slice(&code.to_be_bytes());
        p.extend_from_slice(debug);
        Self::new(FrameType::GOAWAY.as_u8()).payload(&p)
    }

    /// WINDOW_UPDATE on `stream`.
    pub fn window_update(stream: u32, increment: u32) -> Self {
        Self::new(FrameType::WINDOW_UPDATE.as_u8())
            .stream(stream)
            .payload(&increment.to_be_bytes())
    }

    /// Sets the stream id (the full 32 bits, reserved bit included).
    pub fn stream(mut self, stream: u32) -> Self {
        self.stream = stream;
        self
    }

    /// Sets flag bits (ORed with those already set).
    pub fn flags(mut self, flags: u8) -> Self {
        self.flags |= flags;
        self
    }

    /// Sets END_STREAM.
    pub fn end_stream(self) -> Self {
        self.flags(flags::END_STREAM)
    }

    /// Sets END_HEADERS.
    pub fn end_headers(self) -> Self {
        self.flags(flags::END_HEADERS)
    }

    /// Sets ACK.
    pub fn ack(self) -> Self {
        self.flags(flags::ACK)
    }

    /// Replaces the payload.
    pub fn payload(mut self, payload: &[u8]) -> Self {
        self.payload = payload.to_vec();
        self
    }

    /// Sets PADDED and pads: the Pad Length octet says `pad_len`, followed by `actual`
    /// octets of zero padding (pass `actual != pad_len` for malformed frames).
    pub fn padded(mut self, pad_len: u8, actual: usize) -> Self {
        let mut p = vec![pad_len];
        p.extend_from_slice(&self.payload);
        p.extend(std::iter::repeat_n(0, actual));
        self.payload = p;
        self.flags(flags::PADDED)
    }

    /// Overrides the length field (the payload is written as it is).
    pub fn length(mut self, length: u32) -> Self {
        self.length = Some(length);
        self
    }

    /// Appends the frame to `dst`.
    pub fn write(&self, dst: &mut BytesMut) {
        let len = self
            .length
            .unwrap_or_else(|| u32::try_from(self.payload.len()).expect("payload under 4 GiB"));
        dst.put_slice(&len.to_be_bytes()[1..]);
        dst.put_u8(self.kind);
        dst.put_u8(self.flags);
        dst.put_u32(self.stream);
        dst.put_slice(&self.payload);
    }

    /// The frame's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = BytesMut::new();
        self.write(&mut buf);
        buf.to_vec()
    }
}
