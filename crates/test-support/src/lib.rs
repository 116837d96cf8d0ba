//! Test helpers for pullhttp: a fluent builder of raw HTTP/2 frames (valid or deliberately
//! malformed) and the loader of the shared HPACK fixture stories.
//!
//! Not published; used by the test suites, benchmarks and fuzz seeds of the other crates.

pub mod fixtures;
pub mod frames;
pub mod h2;
pub mod rfc7541;
