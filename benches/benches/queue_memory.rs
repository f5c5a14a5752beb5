//! Memory per queued span: resident memory grown by 100,000 spans waiting for a collector that
//! never answers, through the toolkit (`#[trace_method]` with 2 args) and through the raw SDK
//! doing the same work (3 `code.*` attributes, 2 parameters), each in a fresh child process with
//! the same queue size: counted from before the pipeline was built (what its queue takes up
//! front is in it: the SDK's batch processor allocates and writes a slot for every span its
//! queue can hold when it is made), from after the first spans, and for the second 50,000 alone.
//! `cargo bench -p instrument-benches --bench queue_memory`.

use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

use instrument::{Telemetry, trace_method};
use opentelemetry::trace::{Span as _, SpanBuilder, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter,
};

/// Spans made and left queued.
const SPANS: u64 = 100_000;
/// The queue both pipelines get: room for every span.
const QUEUE: usize = 131_072;

/// An exporter whose first export never returns, so every other span stays queued.
#[derive(Debug)]
struct Stuck;

impl SpanExporter for Stuck {
    fn export(&self, _batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        std::future::pending()
    }
}

#[inline(never)]
#[trace_method]
fn traced(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

/// Resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resident memory, in KiB, once the spans made so far had time to reach the queue.
fn settled_resident_kib() -> u64 {
    std::thread::sleep(Duration::from_millis(500));
    resident_kib()
}

/// Builds the pipeline with `build`, makes the spans with `make` in two halves, waiting after
/// each for them to reach the queue, and prints the resident memory added per span from before
/// the pipeline was built, from after the first 100 spans, and per span of the second half alone
/// (what one more queued span costs, without what was set up once: the buffers and records of
/// the making thread, and a queue made whole up front).
fn measure<P>(build: impl FnOnce() -> P, make: impl Fn(&P, u64)) {
    let unbuilt = settled_resident_kib();
    let pipeline = build();
    // Warm up the allocator and the thread-locals with a few spans first.
    for i in 0..100 {
        make(&pipeline, i);
    }
    let before = settled_resident_kib();
    for i in 0..SPANS / 2 {
        make(&pipeline, i);
    }
    let half = settled_resident_kib();
    for i in SPANS / 2..SPANS {
        make(&pipeline, i);
    }
    let all = settled_resident_kib();
    let with_pipeline = all.saturating_sub(unbuilt) * 1024 / SPANS;
    let per_span = all.saturating_sub(before) * 1024 / SPANS;
    let per_more_span = all.saturating_sub(half) * 1024 / (SPANS / 2);
    println!("{with_pipeline} {per_span} {per_more_span}");
    // The stuck export would hold up an orderly shutdown.
    std::process::exit(0);
}

fn toolkit() {
    measure(
        || {
            Telemetry::builder()
                .ignore_env()
                .service_name("bench")
                .with_exporter(Stuck)
                .install()
                .unwrap()
        },
        |_, i| {
            black_box(traced(black_box(i), "queued"));
        },
    );
}

fn raw_sdk() {
    let build = || {
        let processor = BatchSpanProcessor::builder(Stuck)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_queue_size(QUEUE)
                    .build(),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .build();
        (provider.tracer("raw"), provider)
    };
    measure(build, |(tracer, _), i| {
        let builder = SpanBuilder::from_name("traced").with_attributes(vec![
            KeyValue::new("code.function.name", "queue_memory::traced"),
            KeyValue::new("code.file.path", file!()),
            KeyValue::new("code.line.number", i64::from(line!())),
            KeyValue::new("parameter.a", i.to_string()),
            // Copied, as any instrumentation must copy a borrowed `&str` argument it records.
            KeyValue::new("parameter.b", black_box("queued").to_owned()),
        ]);
        tracer
            .build_with_context(builder, &Context::current())
            .end();
    });
}

/// Runs `case` in a child process and reads the bytes per span it prints: from before the
/// pipeline, from after the first spans, and per span of the second half.
fn child(case: &str) -> (u64, u64, u64) {
    let output = Command::new(std::env::current_exe().unwrap())
        .env("QUEUE_MEMORY_CASE", case)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let mut numbers = text.split_whitespace().map(str::parse::<u64>);
    match (numbers.next(), numbers.next(), numbers.next()) {
        (Some(Ok(with_pipeline)), Some(Ok(all)), Some(Ok(more))) => (with_pipeline, all, more),
        _ => panic!("{case}: {text} {}", String::from_utf8_lossy(&output.stderr)),
    }
}

fn main() {
    match std::env::var("QUEUE_MEMORY_CASE").as_deref() {
        Ok("toolkit") => toolkit(),
        Ok("raw") => raw_sdk(),
        _ => {
            let ours = child("toolkit");
            let raw = child("raw");
            println!(
                "resident memory per queued span ({SPANS} spans queued, queue {QUEUE}): from \
                 before the pipeline / all spans / the second {} alone",
                SPANS / 2
            );
            println!(
                "#[trace_method], 2 args          {:>6} / {:>6} / {:>6} bytes",
                ours.0, ours.1, ours.2
            );
            println!(
                "raw SDK, same attributes         {:>6} / {:>6} / {:>6} bytes",
                raw.0, raw.1, raw.2
            );
            println!(
                "ratio                            {:>6.2} / {:>6.2} / {:>6.2}x",
                ours.0 as f64 / raw.0 as f64,
                ours.1 as f64 / raw.1 as f64,
                ours.2 as f64 / raw.2 as f64
            );
        }
    }
}
