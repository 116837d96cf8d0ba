//! A benchmark server: the same routes (see the library) on one of several stacks.
//!
//! ```text
//! bench-server --impl pull|handle|hyper|h2|tcp --runtime current|multi --addr 127.0.0.1:0
//! ```
//!
//! The stacks are described in [`pullhttp_bench::servers`]. Prints `listening on ADDR`.

use pullhttp_bench::{BoxError, arg, runtime, servers};
use tokio::net::TcpListener;

fn main() -> Result<(), BoxError> {
    let kind = arg("--impl", "pull");
    let rt = runtime(&arg("--runtime", "multi"))?;
    rt.block_on(async move {
        let listener = TcpListener::bind(arg("--addr", "127.0.0.1:0")).await?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                // Out of descriptors and the like: say so and go on.
                Err(e) => {
                    eprintln!("accept: {e}");
                    continue;
                }
            };
            tcp.set_nodelay(true)?;
            servers::spawn(&kind, tcp)?;
        }
    })
}
