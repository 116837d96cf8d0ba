//! `pullhttp get --repeat N --concurrency M`: N requests over the one connection, M in
//! flight at once, then a summary (requests/s, latency percentiles, statuses).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::Request;
use pullhttp::client::{self, SendRequest};

use super::{Args, Body, exchange, request};
use crate::BoxError;

/// One request's outcome.
#[derive(Debug)]
enum Sample {
    Done {
        status: u16,
        latency: Duration,
        bytes: u64,
    },
    Failed(String),
}

pub(super) async fn run(
    args: &Args,
    send: SendRequest,
    version: client::Version,
) -> Result<ExitCode, BoxError> {
    let body = Body::from_args(args)?;
    let template = Arc::new((request(args, version, &body)?, body));
    let total = args.repeat.max(1);
    let workers = args.concurrency.clamp(1, total);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (mut send, template, next) = (send.clone(), template.clone(), next.clone());
        tasks.spawn(async move {
            let mut samples = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                samples.push(one(&mut send, &template.0, template.1.clone()).await);
            }
            samples
        });
    }
    drop(send);
    let mut samples = Vec::with_capacity(total);
    while let Some(done) = tasks.join_next().await {
        samples.extend(done?);
    }
    let elapsed = started.elapsed();
    let summary = summarize(&samples, elapsed);
    print!("{summary}");
    let failed = samples.iter().any(|s| matches!(s, Sample::Failed(_)));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn one(send: &mut SendRequest, template: &Request<()>, body: Body) -> Sample {
    let mut request = Request::new(());
    *request.method_mut() = template.method().clone();
    *request.uri_mut() = template.uri().clone();
    *request.headers_mut() = template.headers().clone();
    let started = Instant::now();
    let result: Result<(u16, u64), BoxError> = async {
        let (mut response, _upload) = exchange(send, request, body).await?;
        let mut bytes = 0;
        while let Some(chunk) = response.body_mut().data().await {
            bytes += chunk?.len() as u64;
        }
        Ok((response.status().as_u16(), bytes))
    }
    .await;
    match result {
        Ok((status, bytes)) => Sample::Done {
            status,
            latency: started.elapsed(),
            bytes,
        },
        Err(e) => Sample::Failed(e.to_string()),
    }
}

/// The summary printed after a load test.
fn summarize(samples: &[Sample], elapsed: Duration) -> String {
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let mut bytes = 0;
    for sample in samples {
        match sample {
            Sample::Done {
                status,
                latency,
                bytes: n,
            } => {
                latencies.push(*latency);
                *statuses.entry(*status).or_insert(0usize) += 1;
                bytes += n;
            }
            Sample::Failed(e) => *errors.entry(e.clone()).or_insert(0usize) += 1,
        }
    }
    latencies.sort_unstable();
    let secs = elapsed.as_secs_f64().max(1e-9);
    let failed: usize = errors.values().sum();
    let mut out = format!(
        "requests: {} ({} done, {failed} failed) in {:.3} s: {:.1} requests/s, {:.2} MiB/s\n",
        samples.len(),
        latencies.len(),
        secs,
        latencies.len() as f64 / secs,
        bytes as f64 / secs / f64::from(1 << 20),
    );
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s} × {n}")).collect();
    out.push_str(&format!("statuses: {}\n", statuses.join(", ")));
    if let (Some(min), Some(max)) = (latencies.first(), latencies.last()) {
        // The sample nearest the quantile, given in thousandths.
        let at = |per_mille: usize| {
            let i = ((latencies.len() - 1) * per_mille + 500) / 1000;
            ms(latencies[i.min(latencies.len() - 1)])
        };
        out.push_str(&format!(
            "latency: min {}, p50 {}, p90 {}, p99 {}, max {}\n",
            ms(*min),
            at(500),
            at(900),
            at(990),
            ms(*max)
        ));
    }
    for (e, n) in &errors {
        out.push_str(&format!("error × {n}: {e}\n"));
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.3}ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_and_percentiles() {
        let mut samples: Vec<Sample> = (1..=100)
            .map(|i| Sample::Done {
                status: if i % 10 == 0 { 404 } else { 200 },
                latency: Duration::from_millis(i),
                bytes: 1 << 20,
            })
            .collect();
        samples.push(Sample::Failed("reset".into()));
        let text = summarize(&samples, Duration::from_secs(2));
        assert!(
            text.starts_with(
                "requests: 101 (100 done, 1 failed) in 2.000 s: 50.0 requests/s, 50.00 MiB/s\n"
            ),
            "{text}"
        );
        assert!(text.contains("statuses: 200 × 90, 404 × 10\n"), "{text}");
        assert!(
            text.contains(
                "latency: min 1.000ms, p50 51.000ms, p90 90.000ms, p99 99.000ms, max 100.000ms"
            ),
            "{text}"
        );
        assert!(text.contains("error × 1: reset"), "{text}");
    }
}
