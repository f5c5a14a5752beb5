//! Per-call overhead of `#[trace_method]` and `#[metric]` against a plain call and the raw SDK,
//! in one run.
//!
//! `cargo bench --bench overhead`. Every traced case exports to the same discarding exporter
//! through the same batch processor. Timings are medians of several rounds; compare the ratios,
//! not the absolute numbers, on a shared machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use instrument::{Telemetry, metric, trace_method};

#[path = "support/discard.rs"]
mod discard;
use discard::Discard;
use opentelemetry::trace::{Span as _, SpanBuilder, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;

#[inline(never)]
#[metric(histogram = "bench_ms")]
fn timed(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
fn plain(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
#[trace_method]
fn traced(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
#[trace_method]
async fn traced_async(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

/// Calls per round; `OVERHEAD_CALLS` overrides it (a small number for an instruction count
/// under callgrind, see `benches/instructions.sh`).
fn calls() -> u64 {
    std::env::var("OVERHEAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

/// Rounds per case (the median is reported); one when `OVERHEAD_CALLS` is set.
fn rounds() -> usize {
    if std::env::var_os("OVERHEAD_CALLS").is_some() {
        1
    } else {
        7
    }
}

/// Median nanoseconds per call of `case` over [`rounds`] rounds of [`calls`] calls.
fn measure(case: fn(u64) -> u64) -> f64 {
    let (calls, rounds) = (calls(), rounds());
    let mut per_call: Vec<f64> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            let mut sink = 0u64;
            for i in 0..calls {
                sink = sink.wrapping_add(case(black_box(i)));
            }
            black_box(sink);
            started.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[rounds / 2]
}

/// Polls a future that completes without waiting, as an executor would, minus the executor.
fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => unreachable!("the benchmarked futures never wait"),
    }
}

static RAW_TRACER: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracer> =
    std::sync::OnceLock::new();

// One named function per case, so an instruction profile can attribute costs to each; each
// passes its own three-byte string so that the linker cannot fold two cases into one.
#[inline(never)]
fn case_plain(i: u64) -> u64 {
    plain(i, "abc")
}
#[inline(never)]
fn case_plain_async(i: u64) -> u64 {
    poll_once(async { plain(i, "abd") })
}
#[inline(never)]
fn case_trace_method_sync_disabled(i: u64) -> u64 {
    traced(i, "abe")
}
#[inline(never)]
fn case_trace_method_async_disabled(i: u64) -> u64 {
    poll_once(traced_async(i, "abf"))
}
#[inline(never)]
fn case_metric_disabled(i: u64) -> u64 {
    timed(i, "abg")
}
#[inline(never)]
fn case_trace_method_sync_enabled(i: u64) -> u64 {
    traced(i, "abh")
}
#[inline(never)]
fn case_trace_method_async_enabled(i: u64) -> u64 {
    poll_once(traced_async(i, "abi"))
}
#[inline(never)]
fn case_metric_enabled(i: u64) -> u64 {
    timed(i, "abj")
}
#[inline(never)]
fn case_raw_sdk(i: u64) -> u64 {
    let tracer = RAW_TRACER.get().expect("installed before the raw case");
    let builder = SpanBuilder::from_name("raw").with_attributes(vec![
        KeyValue::new("parameter.a", i.to_string()),
        KeyValue::new("parameter.b", "abk"),
    ]);
    let mut span = tracer.build_with_context(builder, &Context::current());
    let out = plain(i, "abk");
    span.end();
    out
}

fn main() {
    let mut results: Vec<(&str, f64)> = vec![
        ("plain fn", measure(case_plain)),
        ("plain async fn", measure(case_plain_async)),
        (
            "#[trace_method] disabled",
            measure(case_trace_method_sync_disabled),
        ),
        (
            "#[trace_method] async disabled",
            measure(case_trace_method_async_disabled),
        ),
        ("#[metric] disabled", measure(case_metric_disabled)),
    ];

    let guard = Telemetry::builder()
        .ignore_env()
        .service_name("bench")
        .with_exporter(Discard)
        .with_metric_exporter(Discard)
        .install()
        .unwrap();
    results.push((
        "#[trace_method] enabled, 2 args",
        measure(case_trace_method_sync_enabled),
    ));
    results.push((
        "#[trace_method] async enabled, 2 args",
        measure(case_trace_method_async_enabled),
    ));
    results.push(("#[metric] enabled", measure(case_metric_enabled)));
    drop(guard);

    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    let _ = RAW_TRACER.set(provider.tracer("raw"));
    results.push(("raw SDK start + 2 attributes + end", measure(case_raw_sdk)));
    let _ = provider.shutdown_with_timeout(Duration::from_secs(5));

    let base = results[0].1;
    let raw = results.last().map_or(1.0, |r| r.1);
    println!(
        "{:<40} {:>12} {:>12} {:>12}",
        "case", "ns/call", "vs plain", "vs raw SDK"
    );
    for (name, ns) in &results {
        println!(
            "{name:<40} {ns:>12.1} {:>11.2}x {:>11.2}x",
            ns / base,
            ns / raw
        );
    }
}
