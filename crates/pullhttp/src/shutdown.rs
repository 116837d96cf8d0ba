//! Graceful shutdown signalled from another task: a cloneable [`ShutdownHandle`] sets a flag
//! and wakes the connection's task, which then starts the protocol's graceful shutdown
//! (HTTP/2: GOAWAY, PING, final GOAWAY; HTTP/1: `Connection: close` on the current response,
//! or close at once when idle), or, with [`ShutdownHandle::abort`], an abrupt one.
//!
//! Protocol: the connection stores its waker under the lock, *then* reads the flag; the
//! requester sets the flag, *then* takes the waker under the lock and wakes it. Either the
//! connection sees the flag, or the requester sees the waker: no wake-up is lost. The lock is
//! held only to swap the waker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};

#[derive(Debug, Default)]
struct Shared {
    requested: AtomicBool,
    aborted: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// Asks a connection to shut down gracefully; clone it into any task.
#[derive(Clone, Debug, Default)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

impl ShutdownHandle {
    /// Requests a graceful shutdown (idempotent).
    pub fn shutdown(&self) {
        self.shared.requested.store(true, Ordering::Release);
        let waker = self.shared.waker.lock().ok().and_then(|mut w| w.take());
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Requests an abrupt shutdown: HTTP/2 GOAWAY and every stream reset, HTTP/1 closed at
    /// once; nothing more is waited for (idempotent).
    pub fn abort(&self) {
        self.shared.aborted.store(true, Ordering::Release);
        self.shutdown();
    }

    /// True once an abrupt shutdown was requested.
    pub fn is_aborted(&self) -> bool {
        self.shared.aborted.load(Ordering::Acquire)
    }

    /// True once shutdown (graceful or abrupt) was requested.
    pub fn is_requested(&self) -> bool {
        self.shared.requested.load(Ordering::Acquire)
    }

    /// Registers the task to wake on a request. The caller reads the flags after it (the
    /// order that loses no wake-up, see the module docs).
    pub(crate) fn register(&self, cx: &mut Context<'_>) {
        if let Ok(mut slot) = self.shared.waker.lock() {
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        }
    }
}
