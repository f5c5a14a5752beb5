//! Per-call overhead of `#[trace_method]` and `#[metric]` against a plain call and the raw SDK,
//! in one run.
//!
//! `cargo bench --bench overhead`. Every traced case exports to the same discarding exporter
//! through the same batch processor. Timings are medians of several rounds; compare the ratios,
//! not the absolute numbers, on a shared machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use instrument::{Telemetry, metric, trace_method};
use opentelemetry::trace::{Span as _, SpanBuilder, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};

/// Drops every span.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        drop(batch);
        std::future::ready(Ok(()))
    }
}

impl PushMetricExporter for Discard {
    fn export(&self, _metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

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

const CALLS: u64 = 200_000;
const ROUNDS: usize = 7;

/// Median nanoseconds per call of `f` over [`ROUNDS`] rounds of [`CALLS`] calls.
fn measure(mut f: impl FnMut(u64) -> u64) -> f64 {
    let mut per_call: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            let mut sink = 0u64;
            for i in 0..CALLS {
                sink = sink.wrapping_add(f(black_box(i)));
            }
            black_box(sink);
            started.elapsed().as_nanos() as f64 / CALLS as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[ROUNDS / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut results: Vec<(&str, f64)> = Vec::new();

    results.push(("plain fn", measure(|i| plain(i, "abc"))));
    results.push(("#[trace_method] disabled", measure(|i| traced(i, "abc"))));
    results.push(("#[metric] disabled", measure(|i| timed(i, "abc"))));
    results.push((
        "#[trace_method] async disabled",
        measure(|i| runtime.block_on(traced_async(i, "abc"))),
    ));
    results.push((
        "plain async (block_on)",
        measure(|i| runtime.block_on(async { plain(i, "abc") })),
    ));

    let guard = Telemetry::builder()
        .ignore_env()
        .service_name("bench")
        .with_exporter(Discard)
        .with_metric_exporter(Discard)
        .install()
        .unwrap();
    results.push((
        "#[trace_method] enabled, 2 args",
        measure(|i| traced(i, "abc")),
    ));
    results.push(("#[metric] enabled", measure(|i| timed(i, "abc"))));
    results.push((
        "#[trace_method] async enabled, 2 args",
        measure(|i| runtime.block_on(traced_async(i, "abc"))),
    ));
    drop(guard);

    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    let tracer = provider.tracer("raw");
    results.push((
        "raw SDK start + 2 attributes + end",
        measure(|i| {
            let builder = SpanBuilder::from_name("raw").with_attributes(vec![
                KeyValue::new("parameter.a", i.to_string()),
                KeyValue::new("parameter.b", "abc"),
            ]);
            let mut span = tracer.build_with_context(builder, &Context::current());
            let out = plain(i, "abc");
            span.end();
            out
        }),
    ));
    let _ = provider.shutdown_with_timeout(Duration::from_secs(5));

    let base = results[0].1;
    let raw = results.last().unwrap().1;
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
