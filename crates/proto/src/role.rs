//! Which end of a connection we are; shared by both protocol versions.

/// Which end of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// We accept requests (and, in HTTP/2, may push).
    Server,
    /// We send requests.
    Client,
}
