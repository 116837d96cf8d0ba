//! Helpers shared by the driver's test files.
#![allow(dead_code, reason = "each test file uses its own part of the helpers")]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use http::Request;

/// A deterministic body of `len` octets.
pub(crate) fn body(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| seed.wrapping_add(u8::try_from(i % 241).expect("below 241")))
        .collect()
}

/// POSTs `data` to `/echo` with the Rust `h2` client, respecting the server's flow control
/// as a real client must, and returns the response body (which must be 200).
pub(crate) async fn h2_post(client: &mut h2::client::SendRequest<Bytes>, data: Vec<u8>) -> Vec<u8> {
    let mut ready = client.clone().ready().await.unwrap();
    let req = Request::post("http://example.com/echo").body(()).unwrap();
    let (response, mut send) = ready.send_request(req, false).unwrap();
    let mut data = Bytes::from(data);
    while !data.is_empty() {
        send.reserve_capacity(data.len().min(64 << 10));
        let cap = std::future::poll_fn(|cx| send.poll_capacity(cx))
            .await
            .unwrap()
            .unwrap();
        let chunk = data.split_to(cap.min(data.len()));
        send.send_data(chunk, false).unwrap();
    }
    send.send_data(Bytes::new(), true).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        body.flow_control().release_capacity(chunk.len()).unwrap();
        out.extend_from_slice(&chunk);
    }
    out
}

/// The example's executable (cargo builds examples along with the tests).
pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let path = dir.join("examples").join(name);
    assert!(path.exists(), "example not built: {}", path.display());
    path
}

/// Starts an example on 127.0.0.1:0 and returns it with the address it printed.
pub(crate) fn start(name: &str) -> (Child, String, BufReader<std::process::ChildStdout>) {
    start_with(name, &[])
}

/// Like [`start`], with more arguments after the address.
pub(crate) fn start_with(
    name: &str,
    args: &[&str],
) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(example(name))
        .arg("127.0.0.1:0")
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("example starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("first line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    (child, addr, out)
}

pub(crate) struct Stop(pub(crate) Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGINT to an example, waits for a clean exit, and returns the rest of its output.
pub(crate) fn interrupt(stop: &mut Stop, out: &mut BufReader<std::process::ChildStdout>) -> String {
    let pid = stop.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = stop.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(out, &mut rest).unwrap();
    rest
}

/// Reads one HTTP/1.1 head (through the blank line) from a raw transport.
pub(crate) async fn read_head<IO: tokio::io::AsyncRead + Unpin>(io: &mut IO) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut byte = [0; 1];
    while !got.ends_with(b"\r\n\r\n") {
        io.read_exact(&mut byte).await.unwrap();
        got.push(byte[0]);
    }
    String::from_utf8(got).unwrap()
}

/// The Rust `h2` server echoing every request body, respecting flow control both ways.
pub(crate) async fn h2_echo_server<IO>(io: IO)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut server = h2::server::handshake(io).await.unwrap();
    while let Some(Ok((req, mut respond))) = server.accept().await {
        tokio::spawn(async move {
            let mut body = req.into_body();
            let mut got = Vec::new();
            while let Some(chunk) = body.data().await {
                let chunk = chunk.unwrap();
                body.flow_control().release_capacity(chunk.len()).unwrap();
                got.extend_from_slice(&chunk);
            }
            let mut send = respond
                .send_response(http::Response::new(()), false)
                .unwrap();
            let mut rest = Bytes::from(got);
            while !rest.is_empty() {
                send.reserve_capacity(rest.len());
                let n = std::future::poll_fn(|cx| send.poll_capacity(cx))
                    .await
                    .unwrap()
                    .unwrap();
                send.send_data(rest.split_to(n.min(rest.len())), false)
                    .unwrap();
            }
            send.send_data(Bytes::new(), true).unwrap();
        });
    }
}

/// A scripted HTTP/2 server's octets: its SETTINGS, the ACK of ours, a 200 to stream 1 and
/// a GOAWAY that covers stream 1 only (later streams were not processed).
pub(crate) fn goaway_after_stream_1() -> Vec<u8> {
    use pullhttp_test_support::frames::RawFrame;
    let mut script = Vec::new();
    script.extend(RawFrame::settings(&[]).to_vec());
    script.extend(RawFrame::settings_ack().to_vec());
    // HPACK: `:status: 200` is static index 8.
    script.extend(
        RawFrame::headers(1, &[0x88])
            .end_headers()
            .end_stream()
            .to_vec(),
    );
    script.extend(RawFrame::go_away(1, 0, b"").to_vec());
    script
}
