//! HPACK throughput on the shared stories: decode and encode of the `nghttp2` stories (as
//! nghttp2 encoded them) and of the `raw-data` stories (as our encoder encodes them).
//!
//! `cargo bench -p pullhttp-proto --bench hpack`. Throughput is reported twice per shape:
//! as header octets (name + value) per second and as header fields per second.

#![allow(missing_docs, reason = "criterion_group! generates undocumented items")]

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use pullhttp_proto::h2::hpack::{Decoder, Encoder, FieldRef};
use pullhttp_test_support::fixtures;

/// A header list and its encoded block.
type Case = (Vec<(Vec<u8>, Vec<u8>)>, Bytes);

/// One folder of stories: each story a sequence of cases sharing one context.
struct Corpus {
    name: &'static str,
    stories: Vec<Vec<Case>>,
}

impl Corpus {
    fn load(name: &'static str) -> Corpus {
        let dir = fixtures::hpack_dir().join(name);
        let stories = fixtures::load_folder(&dir)
            .into_iter()
            .map(|story| {
                let mut encoder = Encoder::new();
                story
                    .cases
                    .into_iter()
                    .map(|case| {
                        let wire = match case.wire {
                            Some(wire) => Bytes::from(wire),
                            None => {
                                let mut buf = BytesMut::new();
                                encoder.encode(
                                    case.headers.iter().map(|(n, v)| FieldRef::new(n, v)),
                                    &mut buf,
                                );
                                buf.freeze()
                            }
                        };
                        (case.headers, wire)
                    })
                    .collect()
            })
            .collect();
        Corpus { name, stories }
    }

    fn header_octets(&self) -> u64 {
        self.cases()
            .flat_map(|(h, _)| h.iter())
            .map(|(n, v)| (n.len() + v.len()) as u64)
            .sum()
    }

    fn fields(&self) -> u64 {
        self.cases().map(|(h, _)| h.len() as u64).sum()
    }

    fn cases(&self) -> impl Iterator<Item = &Case> {
        self.stories.iter().flatten()
    }

    fn decode_all(&self) -> usize {
        let mut count = 0;
        for story in &self.stories {
            let mut decoder = Decoder::default();
            decoder.set_max_header_list_size(usize::MAX);
            for (_, wire) in story {
                decoder
                    .decode(wire, |f| {
                        black_box(&f);
                        count += 1;
                    })
                    .expect("stories decode");
            }
        }
        count
    }

    fn encode_all(&self, buf: &mut BytesMut) -> usize {
        let mut total = 0;
        for story in &self.stories {
            let mut encoder = Encoder::new();
            for (headers, _) in story {
                buf.clear();
                encoder.encode(headers.iter().map(|(n, v)| FieldRef::new(n, v)), buf);
                total += buf.len();
            }
        }
        total
    }
}

fn hpack(c: &mut Criterion) {
    for corpus in [Corpus::load("nghttp2"), Corpus::load("raw-data")] {
        for (unit, throughput) in [
            ("octets", Throughput::Bytes(corpus.header_octets())),
            ("fields", Throughput::Elements(corpus.fields())),
        ] {
            let mut group = c.benchmark_group(format!("hpack/{}/{unit}", corpus.name));
            group.throughput(throughput);
            group.bench_function("decode", |b| b.iter(|| corpus.decode_all()));
            let mut buf = BytesMut::with_capacity(64 * 1024);
            group.bench_function("encode", |b| b.iter(|| corpus.encode_all(&mut buf)));
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = hpack
}
criterion_main!(benches);
