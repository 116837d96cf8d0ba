//! HTTP/1.1 head parsing and whole exchanges, in memory.
//!
//! `cargo bench -p pullhttp-proto --bench h1`. Three groups, throughput in heads (or
//! exchanges) per second:
//!
//! - `h1 parse request`: our request-head parser (the limits checked, the `http` types
//!   built, the fields' case kept) beside `httparse` alone on the same octets — the
//!   tokenizer underneath, which builds nothing: the anchor shows what the rest costs.
//! - `h1 parse response`: the same for a response head.
//! - `h1 server exchange`: one request in, its event out, a 13-octet response written and
//!   flushed, on one keep-alive server connection — what the pull API's HTTP/1.1 path costs
//!   a request apart from IO.

#![allow(missing_docs, reason = "criterion_group! generates undocumented items")]

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use http::{Response, StatusCode};
use pullhttp_proto::__private::{h1_parse_request, h1_parse_response};
use pullhttp_proto::h1::{Config, Connection, Event};

/// What curl sends.
const CURL: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

/// What a browser sends for a page (fields as Chromium sends them).
const BROWSER: &[u8] = b"GET /articles/2026/11/pull-mode-http?ref=front HTTP/1.1\r\n\
Host: www.example.com\r\n\
Connection: keep-alive\r\n\
sec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n\
sec-ch-ua-mobile: ?0\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
Upgrade-Insecure-Requests: 1\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n\
Sec-Fetch-Site: same-origin\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-User: ?1\r\n\
Sec-Fetch-Dest: document\r\n\
Referer: https://www.example.com/\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-GB,en;q=0.9\r\n\
Cookie: session=8f2e0c4a9b7d6e5f4a3b2c1d0e9f8a7b; theme=dark; consent=1\r\n\r\n";

/// A typical response head from a server.
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: nginx/1.22.1\r\n\
Date: Sun, 22 Nov 2026 10:00:00 GMT\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 51234\r\n\
Last-Modified: Sat, 21 Nov 2026 18:12:40 GMT\r\n\
Connection: keep-alive\r\n\
ETag: \"673f7a38-c822\"\r\n\
Cache-Control: max-age=300\r\n\
Accept-Ranges: bytes\r\n\r\n";

fn httparse_request(buf: &[u8]) -> usize {
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut fields);
    match request.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("the fixture parses: {other:?}"),
    }
}

fn httparse_response(buf: &[u8]) -> usize {
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut fields);
    match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("the fixture parses: {other:?}"),
    }
}

fn parse_request(c: &mut Criterion) {
    let mut group = c.benchmark_group("h1 parse request");
    group.throughput(Throughput::Elements(1));
    for (name, head) in [("curl", CURL), ("browser", BROWSER)] {
        assert_eq!(h1_parse_request(head).ok().flatten(), Some(head.len()));
        group.bench_function(format!("ours/{name}"), |b| {
            b.iter(|| h1_parse_request(black_box(head)))
        });
        group.bench_function(format!("httparse/{name}"), |b| {
            b.iter(|| httparse_request(black_box(head)))
        });
    }
    group.finish();
}

fn parse_response(c: &mut Criterion) {
    let mut group = c.benchmark_group("h1 parse response");
    group.throughput(Throughput::Elements(1));
    assert_eq!(
        h1_parse_response(RESPONSE).ok().flatten(),
        Some(RESPONSE.len())
    );
    group.bench_function("ours", |b| {
        b.iter(|| h1_parse_response(black_box(RESPONSE)))
    });
    group.bench_function("httparse", |b| {
        b.iter(|| httparse_response(black_box(RESPONSE)))
    });
    group.finish();
}

/// One exchange on `conn`: the request in, the response out and flushed.
fn exchange(
    conn: &mut Connection,
    head: &[u8],
    response: &http::response::Parts,
    out: &mut BytesMut,
) {
    let now = Instant::now();
    conn.handle_input(head, now);
    let Some(Event::Request { key, .. }) = conn.next_event() else {
        panic!("a request event");
    };
    conn.send_response(key, response, false)
        .expect("a response");
    conn.send_data(key, Bytes::from_static(b"hello, world\n"), true)
        .expect("the body");
    out.clear();
    conn.write_output(out);
    conn.on_flushed();
    while conn.next_event().is_some() {}
}

fn server_exchange(c: &mut Criterion) {
    let mut group = c.benchmark_group("h1 server exchange");
    group.throughput(Throughput::Elements(1));
    let (response, ()) = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/plain")
        .header("content-length", "13")
        .body(())
        .expect("a valid head")
        .into_parts();
    for (name, head) in [("curl", CURL), ("browser", BROWSER)] {
        let mut conn = Connection::new(Config::server(), Instant::now());
        let mut out = BytesMut::with_capacity(4096);
        exchange(&mut conn, head, &response, &mut out);
        assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n") && out.ends_with(b"hello, world\n"));
        group.bench_function(name, |b| {
            b.iter(|| exchange(&mut conn, black_box(head), &response, &mut out))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_request, parse_response, server_exchange);
criterion_main!(benches);
