//! Frame decoding throughput on a realistic mixed byte stream: what a server reads from a
//! browser-like client (SETTINGS, WINDOW_UPDATE, request HEADERS, a few split by
//! CONTINUATION, request bodies in DATA frames of assorted sizes, PING, RST_STREAM,
//! PRIORITY and SETTINGS ACK).
//!
//! `cargo bench -p pullhttp-proto --bench frame`; throughput is in frames per second.

#![allow(missing_docs, reason = "criterion_group! generates undocumented items")]

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use pullhttp_proto::h2::frame::{
    Data, Frame, FrameReader, Headers, Ping, Priority, PrioritySpec, RstStream, SettingId,
    Settings, WindowUpdate,
};
use pullhttp_proto::h2::hpack::{Encoder, FieldRef};
use pullhttp_proto::h2::{ErrorCode, StreamId};

/// Builds the stream and returns it with its count of frames on the wire.
fn mixed_stream() -> (Bytes, u64) {
    let mut buf = BytesMut::new();
    let push = |f: Frame, buf: &mut BytesMut| f.encode(buf);
    push(
        Frame::Settings(Settings {
            ack: false,
            params: vec![
                (SettingId::HEADER_TABLE_SIZE, 65536),
                (SettingId::INITIAL_WINDOW_SIZE, 6_291_456),
                (SettingId::MAX_HEADER_LIST_SIZE, 262_144),
            ],
        }),
        &mut buf,
    );
    push(
        Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::ZERO,
            increment: 15_663_105,
        }),
        &mut buf,
    );
    let mut encoder = Encoder::new();
    let payload = Bytes::from(vec![0x5a; 16_384]);
    for i in 0..200u32 {
        let stream_id = StreamId::new(2 * i + 1);
        let path = format!("/assets/item-{i}.js");
        let mut block = BytesMut::new();
        encoder.encode(
            [
                FieldRef::new(b":method", if i % 4 == 0 { b"POST" } else { b"GET" }),
                FieldRef::new(b":scheme", b"https"),
                FieldRef::new(b":authority", b"www.example.com"),
                FieldRef::new(b":path", path.as_bytes()),
                FieldRef::new(
                    b"user-agent",
                    b"Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0",
                ),
                FieldRef::new(b"accept", b"*/*"),
                FieldRef::new(b"accept-encoding", b"gzip, deflate, br"),
                FieldRef::new(b"cookie", b"session=0123456789abcdef0123456789abcdef"),
            ],
            &mut block,
        );
        let post = i % 4 == 0;
        let headers = Headers::new(stream_id, block.freeze(), !post);
        if i % 25 == 0 {
            // A small max frame size splits this block into HEADERS + CONTINUATION frames.
            headers.encode(40, &mut buf);
        } else {
            push(Frame::Headers(headers), &mut buf);
        }
        if post {
            for (n, len) in [1024usize, 16_384, 300, 0].into_iter().enumerate() {
                let data = Data::new(stream_id, payload.slice(..len), n == 3);
                push(Frame::Data(data), &mut buf);
            }
        }
        if i % 10 == 0 {
            push(
                Frame::Ping(Ping {
                    ack: false,
                    payload: i.to_be_bytes().repeat(2).try_into().unwrap(),
                }),
                &mut buf,
            );
        }
        if i % 20 == 7 {
            push(
                Frame::RstStream(RstStream {
                    stream_id,
                    code: ErrorCode::CANCEL,
                }),
                &mut buf,
            );
        }
        if i % 30 == 3 {
            let spec = PrioritySpec {
                dependency: StreamId::ZERO,
                exclusive: false,
                weight: 15,
            };
            push(Frame::Priority(Priority { stream_id, spec }), &mut buf);
        }
        if i % 50 == 0 {
            push(Frame::Settings(Settings::ack()), &mut buf);
        }
    }
    let frames = count_frames(&buf);
    (buf.freeze(), frames)
}

/// Counts the frames in a well-formed buffer.
fn count_frames(mut buf: &[u8]) -> u64 {
    let mut n = 0;
    while buf.len() >= 9 {
        let len = usize::from(buf[0]) << 16 | usize::from(buf[1]) << 8 | usize::from(buf[2]);
        buf = &buf[9 + len..];
        n += 1;
    }
    n
}

fn frames(c: &mut Criterion) {
    let (stream, frames) = mixed_stream();
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Elements(frames));
    group.bench_function("decode_mixed", |b| {
        b.iter(|| {
            let mut reader = FrameReader::new();
            let mut src = BytesMut::from(&stream[..]);
            let mut n = 0;
            while let Some(frame) = reader.decode(&mut src).expect("valid stream") {
                black_box(&frame);
                n += 1;
            }
            n
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = frames
}
criterion_main!(benches);
