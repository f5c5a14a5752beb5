//! Memory per queued span: resident memory grown by 100,000 spans waiting for a collector that
//! never answers, through the toolkit (`#[trace_method]` with 2 args) and through the raw SDK
//! doing the same work (3 `code.*` attributes, 2 parameters), each in a fresh child process with
//! the same queue size. `cargo bench -p instrument-benches --bench queue_memory`.

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

/// Makes the spans with `make`, waits for them to reach the queue, and prints the resident
/// memory they added per span.
fn measure(make: impl Fn(u64)) {
    // Warm up the allocator and the thread-locals with a few spans first.
    for i in 0..100 {
        make(i);
    }
    std::thread::sleep(Duration::from_millis(200));
    let before = resident_kib();
    for i in 0..SPANS {
        make(i);
    }
    std::thread::sleep(Duration::from_millis(500));
    let grown = resident_kib().saturating_sub(before);
    println!("{}", grown * 1024 / SPANS);
    // The stuck export would hold up an orderly shutdown.
    std::process::exit(0);
}

fn toolkit() {
    let _guard = Telemetry::builder()
        .ignore_env()
        .service_name("bench")
        .with_exporter(Stuck)
        .install()
        .unwrap();
    measure(|i| {
        black_box(traced(black_box(i), "queued"));
    });
}

fn raw_sdk() {
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
    let tracer = provider.tracer("raw");
    measure(|i| {
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

/// Runs `case` in a child process and reads the bytes per span it prints.
fn child(case: &str) -> u64 {
    let output = Command::new(std::env::current_exe().unwrap())
        .env("QUEUE_MEMORY_CASE", case)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{case}: {}", String::from_utf8_lossy(&output.stderr)))
}

fn main() {
    match std::env::var("QUEUE_MEMORY_CASE").as_deref() {
        Ok("toolkit") => toolkit(),
        Ok("raw") => raw_sdk(),
        _ => {
            let ours = child("toolkit");
            let raw = child("raw");
            println!("resident memory per queued span ({SPANS} spans queued, queue {QUEUE})");
            println!("#[trace_method], 2 args          {ours:>6} bytes");
            println!("raw SDK, same attributes         {raw:>6} bytes");
            println!(
                "ratio                            {:>6.2}x",
                ours as f64 / raw as f64
            );
        }
    }
}
