//! HTTP/1.1 (RFC 9112, with the semantics of RFC 9110): the connection state machine for
//! both roles ([`Connection`]), head parsing and writing, and body framing. No IO.
//!
//! Modules: `head` (parsing and the framing a head implies), `body` (decoding and encoding
//! bodies), `write` (serialising heads), `state` (every transition of a connection, in one
//! file), `error`.

mod body;
mod config;
mod error;
mod event;
mod head;
mod state;
mod write;

pub use config::Config;
pub use error::{Misuse, ParseError};
pub use event::{ConnectionError, Event};
pub use head::{HeaderCase, Upgrade};
pub use state::Connection;
