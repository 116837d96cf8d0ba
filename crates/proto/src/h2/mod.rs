//! HTTP/2 (RFC 9113): the shared vocabulary ([`StreamId`], [`ErrorCode`]), the frame layer
//! ([`frame`]) and header compression ([`hpack`]).
//!
//! This module must not know about IO or time; the connection state machine that uses these
//! pieces lives beside them and is driven by the caller.

mod error;
mod error_code;
pub mod frame;
pub mod hpack;
mod stream_id;

pub use error::PeerError;
pub use error_code::ErrorCode;
pub use stream_id::StreamId;
