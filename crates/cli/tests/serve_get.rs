//! `pullhttp serve` and `pullhttp get` as processes, talking to each other over every
//! version: cleartext HTTP/1.1, h2c upgrade and prior knowledge, TLS with ALPN (h2 and
//! http/1.1) trusting the certificate `serve` saved; then SIGTERM and a clean exit.
//! (curl, nghttp, h2load, Chromium and the 1 GiB run are in `scripts/interop-cli`.)

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_pullhttp");

/// A `pullhttp serve` process, killed by PID when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pullhttp serve starts");
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {first:?}"));
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(args: &[&str]) -> Output {
    let out = Command::new(BIN).arg("get").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "get {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pullhttp-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_of(dir: &Path, len: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251).to_le_bytes()[0]).collect();
    std::fs::write(dir.join("data.bin"), &data).unwrap();
    data
}

#[test]
fn every_version_cleartext_and_tls() {
    let dir = scratch("versions");
    let data = file_of(&dir, 700_000);
    let cert = dir.join("cert.pem");
    let dir_arg = dir.to_str().unwrap();
    let plain = Server::start(&[dir_arg, "-q"]);
    let tls = Server::start(&[
        dir_arg,
        "-q",
        "--tls",
        "--save-cert",
        cert.to_str().unwrap(),
    ]);
    let http = format!("http://127.0.0.1:{}/data.bin", plain.port);
    let https = format!("https://localhost:{}/data.bin", tls.port);
    let cacert = cert.to_str().unwrap();
    for (args, version) in [
        (vec![http.as_str()], "HTTP/1.1 200"),
        (vec!["--http2", http.as_str()], "HTTP/2 200"),
        (vec!["--http2-prior-knowledge", http.as_str()], "HTTP/2 200"),
        (vec!["--cacert", cacert, https.as_str()], "HTTP/2 200"),
        (
            vec!["--http1.1", "--cacert", cacert, https.as_str()],
            "HTTP/1.1 200",
        ),
    ] {
        let mut with_head = vec!["-i"];
        with_head.extend(&args);
        let out = get(&with_head);
        let head_end = out
            .stdout
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a head");
        let head = String::from_utf8_lossy(&out.stdout[..head_end]);
        assert!(head.starts_with(version), "{args:?}: {head}");
        assert!(head.contains("content-length: 700000"), "{head}");
        assert!(
            out.stdout[head_end + 4..] == data[..],
            "{args:?}: the body differs"
        );
    }
    // A self-signed certificate nobody trusts is refused.
    let out = Command::new(BIN).args(["get", &https]).output().unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_stops_accepting_and_exits_cleanly() {
    let dir = scratch("sigterm");
    file_of(&dir, 10);
    let mut server = Server::start(&[dir.to_str().unwrap()]);
    get(&[
        &format!("http://127.0.0.1:{}/data.bin", server.port),
        "-o",
        "/dev/null",
    ]);
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("terminated: shutting down"), "{stderr}");
    // The client's connection may still be closing on the server's side: it then counts
    // as graceful; none is forced.
    assert!(stderr.contains(" graceful, 0 forced"), "{stderr}");
    let mut log = String::new();
    server
        .child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("HTTP/1.1 GET /data.bin 200 10 "), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
