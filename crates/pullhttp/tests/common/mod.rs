//! Helpers shared by the driver's test files.
#![allow(dead_code, reason = "each test file uses its own part of the helpers")]

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
