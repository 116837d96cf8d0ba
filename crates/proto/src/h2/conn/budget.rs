//! Token buckets for the misbehaviour budget (DESIGN.md §3, RFC 9113 §10.5): each costly
//! thing the peer can make us do spends a token; tokens refill with time; an empty bucket
//! ends the connection with ENHANCE_YOUR_CALM.
//!
//! Time is a parameter: the bucket refills from the `now` of each call, never from a clock.

use std::time::{Duration, Instant};

/// A budget: `burst` tokens at most, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Tokens available at once.
    pub burst: u32,
    /// Tokens added per second.
    pub per_second: u32,
}

impl Rate {
    /// A budget of `burst` tokens refilled at `per_second`.
    pub const fn new(burst: u32, per_second: u32) -> Self {
        Rate { burst, per_second }
    }
}

/// A token bucket, counted in thousandths of a token so slow refill rates stay exact.
#[derive(Debug)]
pub(super) struct Bucket {
    rate: Rate,
    milli_tokens: u64,
    last: Option<Instant>,
}

impl Bucket {
    pub(super) fn new(rate: Rate) -> Self {
        Bucket {
            rate,
            milli_tokens: u64::from(rate.burst) * 1000,
            last: None,
        }
    }

    /// The budget's burst size (for error messages).
    pub(super) fn limit(&self) -> u32 {
        self.rate.burst
    }

    /// Spends one token; false when the bucket is empty.
    pub(super) fn spend(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.milli_tokens < 1000 {
            return false;
        }
        self.milli_tokens -= 1000;
        true
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = self
            .last
            .map_or(Duration::ZERO, |last| now.saturating_duration_since(last));
        self.last = Some(now);
        let added = elapsed
            .as_millis()
            .saturating_mul(u128::from(self.rate.per_second));
        let cap = u64::from(self.rate.burst) * 1000;
        let added = u64::try_from(added).unwrap_or(u64::MAX);
        self.milli_tokens = self.milli_tokens.saturating_add(added).min(cap);
    }
}
