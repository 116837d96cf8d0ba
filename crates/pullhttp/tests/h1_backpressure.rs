//! HTTP/1.1 bodies through the handle API stay bounded: when a `RecvBody` is not read, the
//! driver stops reading the transport (the peer's writes block) instead of queueing the
//! whole body. Paused time: a blocked peer leaves the runtime idle, so the timeout fires;
//! a peer whose writes went through would finish first.

use std::time::Duration;

use http::{Request, Response};
use pullhttp::{client, server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: usize = 8 << 20;

#[tokio::test(start_paused = true)]
async fn an_unread_client_response_body_pauses_reading() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let (mut send, conn) = client::handshake(a);
    tokio::spawn(conn);
    let (response, _) = send
        .send_request(
            Request::get("/big").header("host", "x").body(()).unwrap(),
            true,
        )
        .unwrap();
    let mut head = vec![0; 1024];
    let n = b.read(&mut head).await.unwrap();
    assert!(head[..n].ends_with(b"\r\n\r\n"), "one request head");
    let server = tokio::spawn(async move {
        b.write_all(format!("HTTP/1.1 200 OK\r\ncontent-length: {BODY}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        b.write_all(&vec![7; BODY]).await.unwrap();
        b
    });
    let mut response = response.await.unwrap();
    let mut server = server;
    let blocked = tokio::time::timeout(Duration::from_secs(5), &mut server).await;
    assert!(
        blocked.is_err(),
        "the client read the whole body into memory although nobody took it"
    );
    let mut got = 0;
    while let Some(chunk) = response.body_mut().data().await {
        let chunk = chunk.unwrap();
        assert!(chunk.iter().all(|&o| o == 7));
        got += chunk.len();
    }
    assert_eq!(got, BODY);
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_unread_server_request_body_pauses_reading() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let mut acceptor = server::acceptor(a);
    let client = tokio::spawn(async move {
        b.write_all(
            format!("POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: {BODY}\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        b.write_all(&vec![9; BODY]).await.unwrap();
        let mut answer = Vec::new();
        let mut buf = [0; 4096];
        while !answer.ends_with(b"done") {
            let n = b.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the answer");
            answer.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(answer).unwrap()
    });
    let (request, mut responder) = acceptor.accept().await.unwrap().unwrap();
    let mut client = client;
    let blocked = acceptor
        .drive_while(tokio::time::timeout(Duration::from_secs(5), &mut client))
        .await;
    assert!(
        blocked.is_err(),
        "the server read the whole body into memory although nobody took it"
    );
    let mut body = request.into_body();
    let read = async {
        let mut got = 0;
        while let Some(chunk) = body.data().await {
            got += chunk.unwrap().len();
        }
        got
    };
    assert_eq!(acceptor.drive_while(read).await, BODY);
    let answer = Response::new("done".to_string());
    acceptor
        .drive_while(responder.send_response_with(answer))
        .await
        .unwrap();
    let answer = acceptor.drive_while(client).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn four_tasks_sharing_a_connection_get_every_body_whole() {
    // Four tasks share one HTTP/1.1 connection (queued, one exchange after another) and
    // read 256 KiB responses as they come: the read gate never stalls the shared connection.
    use http_body_util::Full;
    use hyper_util::rt::TokioIo;
    let (a, b) = tokio::io::duplex(64 << 10);
    tokio::spawn(async move {
        let big = bytes::Bytes::from(vec![5u8; 256 << 10]);
        let service = hyper::service::service_fn(move |_req| {
            let big = big.clone();
            async move { Ok::<_, std::convert::Infallible>(Response::new(Full::new(big))) }
        });
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(b), service)
            .await
    });
    let (send, conn) = client::handshake(a);
    tokio::spawn(conn);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut send = send.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                send.ready().await.unwrap();
                let request = Request::get("/big").header("host", "x").body(()).unwrap();
                let (response, _) = send.send_request(request, true).unwrap();
                let mut response = response.await.unwrap();
                let mut got = 0;
                while let Some(chunk) = response.body_mut().data().await {
                    got += chunk.unwrap().len();
                }
                assert_eq!(got, 256 << 10);
            }
        }));
    }
    let all = async {
        for task in tasks {
            task.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(30), all)
        .await
        .expect("200 responses of 256 KiB on one connection: it stalled");
}

#[tokio::test]
async fn a_body_read_only_after_it_has_all_arrived_reopens_reading() {
    // The driver takes each 512 KiB body whole (under the 1 MiB gate) and the exchange ends
    // before the application reads a byte of it: those late reads must count.
    const EACH: usize = 512 << 10;
    let (a, mut b) = tokio::io::duplex(1 << 20);
    let (mut send, conn) = client::handshake(a);
    tokio::spawn(conn);
    for round in 0..6u8 {
        let one = async {
            let (response, _) = send
                .send_request(
                    Request::get("/r").header("host", "x").body(()).unwrap(),
                    true,
                )
                .unwrap();
            let mut head = vec![0; 1024];
            let n = b.read(&mut head).await.unwrap();
            assert!(head[..n].ends_with(b"\r\n\r\n"));
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {EACH}\r\n\r\n");
            b.write_all(head.as_bytes()).await.unwrap();
            let mut response = response.await.unwrap();
            b.write_all(&vec![round; EACH]).await.unwrap();
            // Let the driver take it all (its exchange ends) before reading.
            send.ready().await.unwrap();
            let mut got = 0;
            while let Some(chunk) = response.body_mut().data().await {
                got += chunk.unwrap().len();
            }
            got
        };
        let got = tokio::time::timeout(Duration::from_secs(10), one)
            .await
            .unwrap_or_else(|_| panic!("round {round}: the connection stopped reading"));
        assert_eq!(got, EACH, "round {round}");
    }
}
