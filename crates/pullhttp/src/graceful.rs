//! Listener-level graceful shutdown: a cloneable [`Graceful`] watches every connection of a
//! listener (through each one's [`ShutdownHandle`]), signals them all at once, waits for
//! them to finish, and after a deadline closes the remaining ones abruptly.
//!
//! Protocol: a connection is registered by [`Graceful::watch`], which returns a [`Watch`]
//! guard kept by the task that drives the connection; dropping the guard is "this
//! connection is over". The registry and the shutdown flag live under one lock, held only
//! to change them (never while waking). Waiting uses a `tokio::sync::watch` channel of the
//! number of live connections, so a change is never missed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::ShutdownHandle;

#[derive(Debug, Default)]
struct Registry {
    next: u64,
    live: HashMap<u64, ShutdownHandle>,
    shutting_down: bool,
}

#[derive(Debug)]
struct Shared {
    registry: Mutex<Registry>,
    /// The number of live connections, for waiters.
    live: watch::Sender<usize>,
    /// Becomes true when shutdown starts, for accept loops.
    started: watch::Sender<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Graceful shutdown of a whole listener; clone it into the accept loop and wherever the
/// shutdown is decided.
///
/// ```no_run
/// # async fn run(listener: tokio::net::TcpListener) -> std::io::Result<()> {
/// use std::time::Duration;
/// let graceful = pullhttp::Graceful::new();
/// loop {
///     tokio::select! {
///         accepted = listener.accept() => {
///             let (tcp, _) = accepted?;
///             let mut conn = pullhttp::server::handshake(tcp);
///             let watch = graceful.watch(conn.shutdown_handle());
///             tokio::spawn(async move {
///                 while let Ok(Some(_event)) = conn.next_event().await { /* serve */ }
///                 drop(watch);
///             });
///         }
///         _ = tokio::signal::ctrl_c() => break,
///     }
/// }
/// let report = graceful.shutdown(Duration::from_secs(10)).await;
/// println!("{} closed gracefully, {} forced", report.graceful, report.forced);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Graceful {
    shared: Arc<Shared>,
}

impl Default for Graceful {
    fn default() -> Self {
        Graceful::new()
    }
}

/// What [`Graceful::shutdown`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Connections that finished before the deadline.
    pub graceful: usize,
    /// Connections still open at the deadline, closed abruptly.
    pub forced: usize,
}

impl Graceful {
    /// A helper watching no connection yet.
    pub fn new() -> Self {
        Graceful {
            shared: Arc::new(Shared {
                registry: Mutex::new(Registry::default()),
                live: watch::channel(0).0,
                started: watch::channel(false).0,
            }),
        }
    }

    /// Watches a connection until the returned guard is dropped (drop it when the task that
    /// drives the connection is done). A connection watched after shutdown started is
    /// asked to shut down at once.
    pub fn watch(&self, handle: ShutdownHandle) -> Watch {
        let mut registry = self.shared.lock();
        let id = registry.next;
        registry.next += 1;
        if registry.shutting_down {
            handle.shutdown();
        }
        registry.live.insert(id, handle);
        let live = registry.live.len();
        drop(registry);
        self.shared.live.send_replace(live);
        Watch {
            shared: self.shared.clone(),
            id,
        }
    }

    /// Connections being watched.
    pub fn live(&self) -> usize {
        self.shared.lock().live.len()
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.lock().shutting_down
    }

    /// Resolves once shutdown starts: `select!` it against the listener's `accept` to stop
    /// accepting.
    pub async fn started(&self) {
        let mut rx = self.shared.started.subscribe();
        // The sender lives in `self`: the channel cannot close while we wait.
        let _ = rx.wait_for(|started| *started).await;
    }

    /// Asks every watched connection to shut down gracefully (HTTP/2 GOAWAY, HTTP/1.1
    /// `Connection: close`), waits until all are done or `deadline` has passed, then closes
    /// the remaining ones abruptly and waits for their drivers to stop (they stop at once
    /// when driven: an abrupt close waits for nothing, not even a peer that never reads).
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let started_with = {
            let mut registry = self.shared.lock();
            registry.shutting_down = true;
            for handle in registry.live.values() {
                handle.shutdown();
            }
            registry.live.len()
        };
        self.shared.started.send_replace(true);
        let mut rx = self.shared.live.subscribe();
        if tokio::time::timeout(deadline, rx.wait_for(|n| *n == 0))
            .await
            .is_ok()
        {
            return ShutdownReport {
                graceful: started_with,
                forced: 0,
            };
        }
        let forced = {
            let registry = self.shared.lock();
            for handle in registry.live.values() {
                handle.abort();
            }
            registry.live.len()
        };
        let _ = rx.wait_for(|n| *n == 0).await;
        ShutdownReport {
            graceful: started_with.saturating_sub(forced),
            forced,
        }
    }
}

/// Keeps a connection registered with a [`Graceful`]; drop it when the connection is over.
#[derive(Debug)]
#[must_use = "dropping the Watch unregisters the connection at once"]
pub struct Watch {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let live = {
            let mut registry = self.shared.lock();
            registry.live.remove(&self.id);
            registry.live.len()
        };
        self.shared.live.send_replace(live);
    }
}
