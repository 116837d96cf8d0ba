//! Flow-control windows (RFC 9113 §5.2, §6.9).
//!
//! A window is signed: it may go negative when SETTINGS_INITIAL_WINDOW_SIZE shrinks while
//! data is in flight (§6.9.2), and must never exceed 2^31-1 (§6.9.1). All arithmetic is
//! checked; an overflow is the caller's FLOW_CONTROL_ERROR at the right scope.
//!
//! The receive side also batches WINDOW_UPDATEs: credit released by the application is
//! only announced once it reaches half of the target window, not once per DATA frame.

/// The largest window, 2^31-1 (§6.9.1).
pub(crate) const MAX_WINDOW: i64 = 0x7fff_ffff;

/// The initial window of every stream and of the connection before SETTINGS (§6.9.2).
pub(crate) const DEFAULT_WINDOW: u32 = 65_535;

/// A flow-control window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window(i64);

impl Window {
    pub(crate) fn new(size: u32) -> Self {
        Window(i64::from(size))
    }

    /// The octets that may be sent now (0 when negative).
    pub(crate) fn available(self) -> u32 {
        u32::try_from(self.0.max(0)).unwrap_or(u32::MAX)
    }

    /// Adds a WINDOW_UPDATE increment or a SETTINGS delta; `Err` past 2^31-1.
    pub(crate) fn adjust(&mut self, delta: i64) -> Result<(), ()> {
        let next = self.0.checked_add(delta).ok_or(())?;
        if next > MAX_WINDOW {
            return Err(());
        }
        self.0 = next;
        Ok(())
    }

    /// Spends `n` octets; `Err` if the window does not hold them.
    pub(crate) fn consume(&mut self, n: u32) -> Result<(), ()> {
        let n = i64::from(n);
        if n > self.0 {
            return Err(());
        }
        self.0 -= n;
        Ok(())
    }
}

/// The receive side of one flow-control scope (a stream or the connection).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecvFlow {
    /// What the peer may still send.
    window: Window,
    /// Received but not yet released by the application.
    held: u32,
    /// Released but not yet announced in a WINDOW_UPDATE.
    unannounced: u32,
    /// The window we aim to keep open.
    target: u32,
}

impl RecvFlow {
    pub(crate) fn new(initial: u32, target: u32) -> Self {
        RecvFlow {
            window: Window::new(initial),
            held: 0,
            unannounced: 0,
            target,
        }
    }

    /// Counts received DATA; `Err` when it exceeds what we advertised.
    pub(crate) fn receive(&mut self, n: u32) -> Result<(), ()> {
        self.window.consume(n)?;
        self.held = self.held.saturating_add(n);
        Ok(())
    }

    /// Octets received and not yet released.
    pub(crate) fn held(&self) -> u32 {
        self.held
    }

    /// The application released `n` octets (never more than it holds).
    pub(crate) fn release(&mut self, n: u32) {
        let n = n.min(self.held);
        self.held -= n;
        self.unannounced = self.unannounced.saturating_add(n);
    }

    /// Takes the increment to announce, if enough has been released to be worth a
    /// WINDOW_UPDATE (half the target), or `force` is set and anything is pending.
    pub(crate) fn take_update(&mut self, force: bool) -> Option<u32> {
        let worth = self.unannounced >= self.target / 2;
        if self.unannounced == 0 || !(worth || force) {
            return None;
        }
        let n = self.unannounced;
        self.unannounced = 0;
        // Releasing only returns what was consumed: the window stays <= its target.
        self.window.adjust(i64::from(n)).ok()?;
        Some(n)
    }

    /// Grows the target (and announces the difference) or shrinks it, as when our
    /// SETTINGS_INITIAL_WINDOW_SIZE changes (§6.9.2).
    pub(crate) fn apply_settings_delta(&mut self, delta: i64, new_target: u32) -> Result<(), ()> {
        self.window.adjust(delta)?;
        self.target = new_target;
        Ok(())
    }

    /// Opens the window beyond its initial size by `n` (the connection window at start).
    pub(crate) fn grow(&mut self, n: u32) {
        self.unannounced = self.unannounced.saturating_add(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_adjust_past_max_is_error() {
        let mut w = Window::new(0x7fff_fff0);
        assert!(w.adjust(15).is_ok());
        assert!(w.adjust(1).is_err());
        assert_eq!(w.available(), 0x7fff_ffff);
    }

    #[test]
    fn window_negative_after_shrink_has_nothing_available() {
        let mut w = Window::new(100);
        w.consume(80).unwrap();
        w.adjust(-50).unwrap();
        assert_eq!(w.available(), 0);
        assert!(w.consume(1).is_err());
        w.adjust(40).unwrap();
        assert_eq!(w.available(), 10);
    }

    #[test]
    fn recv_flow_batches_updates_until_half_target() {
        let mut f = RecvFlow::new(1000, 1000);
        f.receive(400).unwrap();
        f.release(400);
        assert_eq!(f.take_update(false), None);
        f.receive(200).unwrap();
        f.release(200);
        assert_eq!(f.take_update(false), Some(600));
        assert!(f.receive(1000).is_ok());
        assert!(f.receive(1).is_err());
    }
}
