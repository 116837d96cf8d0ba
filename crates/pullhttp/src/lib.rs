//! # pullhttp
//!
//! HTTP/1.1 and HTTP/2 over tokio with a pull-mode connection API. Wrap an accepted
//! connection with [`server::handshake`] (or a [`server::Builder`]) and pull requests from it
//! one by one, each with a [`RequestKey`] that matches it to its response. The library never
//! spawns a task: you decide what runs where.
//!
//! The protocol logic lives in the sans-IO crate [`pullhttp_proto`]; this crate owns the IO,
//! one timer per connection, and the pump ([`server::Connection::next_event`]).

pub mod client;
mod driver;
pub mod error;
mod graceful;
mod mailbox;
pub mod server;
mod shutdown;
#[cfg(feature = "tls")]
pub mod tls;
mod upgrade;

pub use error::{Error, Kind};
pub use graceful::{Graceful, ShutdownReport, Watch};
pub use pullhttp_proto as proto;
pub use pullhttp_proto::h2::ErrorCode;
pub use pullhttp_proto::{KeyHasher, KeyMap, KeySet, RequestKey};
pub use shutdown::ShutdownHandle;
pub use upgrade::Upgraded;

/// The README's code examples, compiled (and, where they need no network, run) as doctests
/// so they stay true. They include the `tls` feature's (`cargo test --workspace` has it: the
/// CLI enables it).
#[cfg(all(doctest, feature = "tls"))]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
