//! HTTP/2 (RFC 9113): the connection state machine ([`Connection`]), the shared vocabulary
//! ([`StreamId`], [`ErrorCode`], [`PeerError`]), the frame layer ([`frame`]), header
//! compression ([`hpack`]) and message rules (§8).
//!
//! This module must not know about IO or time; the connection state machine that uses these
//! pieces lives beside them and is driven by the caller.

mod conn;
mod error;
mod error_code;
pub mod frame;
pub mod hpack;
mod message;
mod stream_id;

pub use conn::{
    Config, Connection, ConnectionError, DIRECT_READ, Event, FlowControl, Initiator, Misuse,
    PREFACE, PeerSettings, Priority, Rate, Role, StreamReset,
};
pub use error::PeerError;
pub use error_code::ErrorCode;
pub use message::{DEFAULT_PSEUDO_ORDER, MessageError, Protocol, PseudoHeader};
pub use stream_id::StreamId;
