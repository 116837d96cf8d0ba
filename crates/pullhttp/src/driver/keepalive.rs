//! Optional HTTP/2 PING keep-alive: after `interval` without input, send a PING; if its ACK
//! does not come within `timeout`, the connection is dead. Off by default.

use std::time::{Duration, Instant};

/// The PING payload of keep-alive probes (acknowledgements of other payloads are the
/// application's).
pub(super) const PAYLOAD: [u8; 8] = *b"keepaliv";

/// What the timer asks of the pump.
pub(super) enum Action {
    None,
    Ping([u8; 8]),
    Dead,
}

#[derive(Debug, Default)]
pub(super) struct KeepAlive {
    config: Option<(Duration, Duration)>,
    last_activity: Option<Instant>,
    awaiting: Option<Instant>,
}

impl KeepAlive {
    pub(super) fn new(config: Option<(Duration, Duration)>, now: Instant) -> Self {
        KeepAlive {
            config,
            last_activity: Some(now),
            awaiting: None,
        }
    }

    pub(super) fn activity(&mut self, now: Instant) {
        self.last_activity = Some(now);
    }

    pub(super) fn acked(&mut self) {
        self.awaiting = None;
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        let (interval, timeout) = self.config?;
        match self.awaiting {
            Some(sent) => Some(sent + timeout),
            None => Some(self.last_activity? + interval),
        }
    }

    pub(super) fn on_timer(&mut self, now: Instant) -> Action {
        let Some(deadline) = self.deadline() else {
            return Action::None;
        };
        if deadline > now {
            return Action::None;
        }
        if self.awaiting.is_some() {
            return Action::Dead;
        }
        self.awaiting = Some(now);
        self.last_activity = Some(now);
        Action::Ping(PAYLOAD)
    }
}
