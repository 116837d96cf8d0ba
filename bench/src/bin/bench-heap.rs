//! Heap octets per idle connection, counted by the allocator: exact and repeatable where
//! RSS is coarse (pages, allocator arenas) and noisy.
//!
//! ```text
//! bench-heap --impl pull|handle|hyper|h2 --proto h2|h1 --connections N
//! ```
//!
//! One current-thread runtime holds the server (the stack's connection tasks from
//! `bench-server`) and a client that opens N connections one after another — HTTP/2:
//! preface and SETTINGS, the server's SETTINGS read and acknowledged; HTTP/1.1: one GET
//! answered — and holds them idle for three seconds of a paused clock (no real waiting)
//! before counting. The client's own sockets are std ones, which hold no heap. Prints
//! `heap_per_connection B` (live octets after − before, divided by N), and the sizes
//! making up one connection, largest first.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicIsize, Ordering};

use pullhttp_bench::{BoxError, arg, servers};
use tokio::net::TcpListener;

/// Live allocations by size class (8-octet classes; the last holds everything larger).
const CLASSES: usize = 1024;
static LIVE: [AtomicIsize; CLASSES] = [const { AtomicIsize::new(0) }; CLASSES];
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

fn count(size: usize, sign: isize) {
    LIVE[(size / 8).min(CLASSES - 1)].fetch_add(sign, Ordering::Relaxed);
    LIVE_BYTES.fetch_add(sign * size as isize, Ordering::Relaxed);
}

/// The system allocator, counting what is live.
struct Counting;

// SAFETY: every call is passed to the system allocator unchanged; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 1);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(layout.size(), -1);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(layout.size(), -1);
        count(new_size, 1);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn snapshot() -> (isize, Vec<isize>) {
    let classes = LIVE.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    (LIVE_BYTES.load(Ordering::Relaxed), classes)
}

/// How long the connections are left idle before counting: past pullhttp's one second
/// before an idle connection frees its buffers, well within every timeout.
const IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(3);

fn main() -> Result<(), BoxError> {
    let kind = arg("--impl", "pull");
    let proto = arg("--proto", "h2");
    let n: usize = arg("--connections", "1000").parse()?;
    if proto != "h1" && proto != "h2" {
        return Err("--proto is h1 or h2".into());
    }
    // A paused clock: the wait below passes at once, timers firing in order.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let accept_kind = kind.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                if servers::spawn(&accept_kind, tcp).is_err() {
                    return;
                }
            }
        });
        // One connection first: thread-local buffers, lazily built statics and the like
        // are not a connection's.
        let mut held = vec![open(addr, &proto).await?];
        let (before_bytes, before) = snapshot();
        for _ in 0..n {
            held.push(open(addr, &proto).await?);
        }
        // Idle for a while (on the paused clock): servers that free idle buffers after a
        // delay have done so. The SETTINGS ACKs are read by then too.
        tokio::time::sleep(IDLE_FOR).await;
        let (after_bytes, after) = snapshot();
        let per_conn = (after_bytes - before_bytes) as f64 / n as f64;
        println!("heap_per_connection {per_conn:.0}");
        let mut classes: Vec<(usize, f64)> = (0..CLASSES)
            .map(|c| (c * 8, (after[c] - before[c]) as f64 / n as f64))
            .filter(|&(_, k)| k.abs() >= 0.5)
            .collect();
        classes.sort_by(|a, b| (b.0 as f64 * b.1).total_cmp(&(a.0 as f64 * a.1)));
        for (size, k) in classes {
            println!("  {k:.1} x {size}..{} octets", size + 7);
        }
        drop(held);
        Ok(())
    })
}

/// Opens one idle connection (a blocking std socket, read from the runtime's thread
/// only after the server had its turn).
async fn open(addr: std::net::SocketAddr, proto: &str) -> Result<std::net::TcpStream, BoxError> {
    let mut tcp = std::net::TcpStream::connect(addr)?;
    if proto == "h2" {
        tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")?;
    } else {
        tcp.write_all(b"GET /small HTTP/1.1\r\nhost: x\r\n\r\n")?;
    }
    tcp.set_nonblocking(true)?;
    let mut buf = [0u8; 1024];
    // Let the server's tasks run until the answer is there.
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => return Err("the server closed the connection".into()),
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                tokio::task::yield_now().await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    if proto == "h2" {
        // Acknowledge the server's SETTINGS, as every client does.
        tcp.write_all(b"\0\0\0\x04\x01\0\0\0\0")?;
    }
    Ok(tcp)
}
