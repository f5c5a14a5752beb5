//! Per-call overhead of `#[trace_method]`, `#[metric]` and a recorded model call
//! (`instrument::genai::chat`) against a plain call, the raw SDK and the peers
//! (`tracing::instrument` + tracing-opentelemetry over the same SDK provider, and
//! `fastrace::trace`), in one run; then the cost of capturing a 100 MB argument against a 2 MiB
//! one, the spans per second exported over OTLP/gRPC to the test receiver with the number
//! dropped, and the peak resident memory while 1,000,000 spans pass at full speed.
//!
//! `cargo bench --bench overhead` (see `BENCHMARKS.md`). Every traced case exports to the same
//! discarding exporter through a batch processor. Timings are medians of several rounds; compare
//! the ratios, not the absolute numbers, on a shared machine (`benches/instructions.sh` gives
//! instruction counts, the stable figure).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use instrument::{CurrentSpan, Telemetry, metric, trace_method};

#[path = "support/counting_receiver.rs"]
mod counting_receiver;
#[path = "support/discard.rs"]
mod discard;
#[allow(dead_code)]
#[path = "../../tests/integration/tests/support/receiver.rs"]
mod receiver;
use counting_receiver::CountingReceiver;
use discard::Discard;
use opentelemetry::trace::{Span as _, SpanBuilder, Tracer as _, TracerProvider as _};
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use receiver::{Receiver, Wire};

#[inline(never)]
#[metric(histogram = "bench_ms")]
fn timed(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
fn plain(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

/// `traced` without the attribute: the baseline of the off path.
#[inline(never)]
fn untraced(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

/// `traced_async` without the attribute: the baseline of the async off path.
#[inline(never)]
async fn untraced_async(a: u64, b: &str) -> u64 {
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

/// `traced` whose body hands its span to OpenTelemetry code: `current_context()` attached.
#[inline(never)]
#[trace_method]
fn traced_with_context(a: u64, b: &str) -> u64 {
    let _current = instrument::current_context().attach();
    a + b.len() as u64
}

#[inline(never)]
#[tracing::instrument]
fn tracing_traced(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
#[tracing::instrument]
async fn tracing_traced_async(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
#[fastrace::trace(properties = { "a": "{a}", "b": "{b}" })]
fn fastrace_traced(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
#[trace_method]
fn capture_text(payload: &str) -> usize {
    payload.len()
}

/// Drops every fastrace span.
struct DiscardReporter;

impl fastrace::collector::Reporter for DiscardReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        drop(spans);
    }
}

/// Calls per round; `OVERHEAD_CALLS` overrides it (a small number for an instruction count
/// under callgrind, see `benches/instructions.sh`). A round of 100,000 spans fits in the batch
/// queue (131,072), so that no span is dropped: a round outrunning the export measures how cheaply
/// each side drops spans.
fn calls() -> u64 {
    std::env::var("OVERHEAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Rounds per case (the median is reported); when `OVERHEAD_CALLS` is set (an instruction
/// count), `OVERHEAD_ROUNDS` or one, each settled as a timed round is, so that the count covers
/// the steady state and not only a first round.
fn rounds() -> usize {
    if std::env::var_os("OVERHEAD_CALLS").is_some() {
        std::env::var("OVERHEAD_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
    } else {
        7
    }
}

/// Median nanoseconds per call of `case` over [`rounds`] rounds of [`calls`] calls.
fn measure(case: fn(u64) -> u64) -> f64 {
    measure_settled(case, &|| {})
}

/// [`measure`], with `settle` run between rounds, untimed: the export keeps up with every case,
/// so each is measured in its steady state rather than with its queue full (where the SDK's
/// batch processor drops spans cheaply and the toolkit's threads hand theirs over themselves).
fn measure_settled(case: fn(u64) -> u64, settle: &dyn Fn()) -> f64 {
    let (calls, rounds) = (calls(), rounds());
    let mut per_call: Vec<f64> = (0..rounds)
        .map(|_| {
            settle();
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
/// Inlined into every case, as an `.await` of a small future is: left to the compiler, it is
/// inlined where one case polls a future type (the uninstrumented baselines) and called where
/// several do (the four cases of `traced_async`), which compared a call with an inlined poll.
#[inline(always)]
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
/// The raw SDK's tracer under `TraceIdRatioBased(1.0)`.
static RAW_RATIO_TRACER: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracer> =
    std::sync::OnceLock::new();
static RAW_HISTOGRAM: std::sync::OnceLock<opentelemetry::metrics::Histogram<f64>> =
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
// The off-path cases and their baselines pass their text through `black_box`: a constant
// argument lets the compiler fold `b.len()` into a function that is not instrumented (every
// caller passes three bytes), which no real call gets.
#[inline(never)]
fn case_untraced(i: u64) -> u64 {
    untraced(i, black_box("abr"))
}
#[inline(never)]
fn case_untraced_async(i: u64) -> u64 {
    poll_once(untraced_async(i, black_box("abs")))
}
#[inline(never)]
fn case_trace_method_sync_disabled(i: u64) -> u64 {
    traced(i, black_box("abe"))
}
#[inline(never)]
fn case_trace_method_async_disabled(i: u64) -> u64 {
    poll_once(traced_async(i, black_box("abf")))
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
fn case_trace_method_sync_ratio(i: u64) -> u64 {
    traced(i, "abr")
}
#[inline(never)]
fn case_trace_method_async_ratio(i: u64) -> u64 {
    poll_once(traced_async(i, "abs"))
}
#[inline(never)]
fn case_trace_method_sync_thread_stack(i: u64) -> u64 {
    traced(i, "abt")
}
#[inline(never)]
fn case_trace_method_async_thread_stack(i: u64) -> u64 {
    poll_once(traced_async(i, "abu"))
}
#[inline(never)]
fn case_trace_method_current_context(i: u64) -> u64 {
    traced_with_context(i, "abq")
}
#[inline(never)]
fn case_metric_enabled(i: u64) -> u64 {
    timed(i, "abj")
}
#[inline(never)]
fn case_tracing_no_subscriber(i: u64) -> u64 {
    tracing_traced(i, "abl")
}
#[inline(never)]
fn case_tracing_otel_sync(i: u64) -> u64 {
    tracing_traced(i, "abm")
}
#[inline(never)]
fn case_tracing_otel_async(i: u64) -> u64 {
    poll_once(tracing_traced_async(i, "abn"))
}
#[inline(never)]
fn case_fastrace(i: u64) -> u64 {
    fastrace_traced(i, "abo")
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

/// A model call recorded with `instrument::genai`: the CLIENT span `chat gpt-4o` with its
/// request, response and usage attributes, then `gen_ai.client.operation.duration`,
/// `gen_ai.client.token.usage` (an input and an output point) and `hist_llm_execution_time_ms`.
#[inline(never)]
fn case_genai_chat(i: u64) -> u64 {
    let mut call = instrument::genai::chat("openai", "gpt-4o")
        .max_tokens(256)
        .start();
    call.response("gpt-4o-2024-08-06", "chatcmpl-1")
        .finish_reasons(["stop"])
        .usage(42, 9);
    drop(call);
    plain(i, "abv")
}

/// What `#[trace_method]` records, done by hand on the raw SDK: the three `code.*` attributes,
/// both parameters as text, and the span made current while the body runs.
#[inline(never)]
fn case_raw_sdk_same_work(i: u64) -> u64 {
    let tracer = RAW_TRACER.get().expect("installed before the raw case");
    raw_same_work(tracer, i, "abp")
}

/// [`case_raw_sdk_same_work`] under `TraceIdRatioBased(1.0)`.
#[inline(never)]
fn case_raw_sdk_same_work_ratio(i: u64) -> u64 {
    let tracer = RAW_RATIO_TRACER
        .get()
        .expect("installed before the raw case");
    raw_same_work(tracer, i, "abq")
}

/// A span that records nothing: its ids only.
#[derive(Debug)]
struct IdsOnly(SpanContext);

impl opentelemetry::trace::Span for IdsOnly {
    fn add_event_with_timestamp<T: Into<std::borrow::Cow<'static, str>>>(
        &mut self,
        _name: T,
        _timestamp: std::time::SystemTime,
        _attributes: Vec<KeyValue>,
    ) {
    }
    fn span_context(&self) -> &SpanContext {
        &self.0
    }
    fn is_recording(&self) -> bool {
        false
    }
    fn set_attribute(&mut self, _attribute: KeyValue) {}
    fn set_status(&mut self, _status: opentelemetry::trace::Status) {}
    fn update_name<T: Into<std::borrow::Cow<'static, str>>>(&mut self, _new_name: T) {}
    fn add_link(&mut self, _span_context: SpanContext, _attributes: Vec<KeyValue>) {}
    fn end_with_timestamp(&mut self, _timestamp: std::time::SystemTime) {}
}

/// The OpenTelemetry API's own part of a span current in `Context::current()`, which every
/// enabled case above pays: a span that records nothing put in a context, attached while the
/// body runs, detached, ended through the context and dropped.
#[inline(never)]
fn case_otel_context_alone(i: u64) -> u64 {
    use opentelemetry::trace::TraceContextExt as _;
    let ids = SpanContext::new(
        TraceId::from(u128::from(i) + 1),
        SpanId::from(i + 1),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    let cx = Context::current().with_span(IdsOnly(ids));
    let out = {
        let _current = cx.clone().attach();
        plain(i, "abw")
    };
    cx.span().end();
    out
}

#[inline(always)]
fn raw_same_work(tracer: &opentelemetry_sdk::trace::SdkTracer, i: u64, b: &'static str) -> u64 {
    use opentelemetry::trace::TraceContextExt as _;
    let builder = SpanBuilder::from_name("raw").with_attributes(vec![
        KeyValue::new("code.function.name", "overhead::raw"),
        KeyValue::new("code.file.path", file!()),
        KeyValue::new("code.line.number", i64::from(line!())),
        KeyValue::new("parameter.a", i.to_string()),
        KeyValue::new("parameter.b", b),
    ]);
    let parent = Context::current();
    let span = tracer.build_with_context(builder, &parent);
    let cx = parent.with_span(span);
    let out = {
        let _current = cx.clone().attach();
        plain(i, b)
    };
    cx.span().end();
    out
}

/// What `#[metric]` records, done by hand on the raw SDK: the call timed, then one histogram
/// record with `function`, `module` and `result`.
#[inline(never)]
fn case_raw_histogram(i: u64) -> u64 {
    let histogram = RAW_HISTOGRAM.get().expect("installed before the raw case");
    let started = Instant::now();
    let out = plain(i, "abh");
    histogram.record(
        started.elapsed().as_secs_f64() * 1_000.0,
        &[
            KeyValue::new("function", "raw"),
            KeyValue::new("module", "overhead"),
            KeyValue::new("result", "ok"),
        ],
    );
    out
}

/// Median nanoseconds per capture of a `bytes`-long argument.
fn capture_cost(bytes: usize) -> f64 {
    let payload = "x".repeat(bytes);
    let mut per_call: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..50 {
                black_box(capture_text(black_box(&payload)));
            }
            started.elapsed().as_nanos() as f64 / 50.0
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[3]
}

/// Peak resident memory of this process so far, in KiB.
fn peak_resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Telemetry with the toolkit's defaults, exporting over OTLP/gRPC to `endpoint`.
fn install_grpc(endpoint: &str) -> instrument::TelemetryGuard {
    Telemetry::builder()
        .ignore_env()
        .service_name("bench")
        .endpoint(endpoint)
        .protocol(instrument::Protocol::Grpc)
        .install()
        .unwrap()
}

/// Makes `rate` spans/s for `seconds` (in steps of 10 ms), and returns how long it took.
fn run_paced(rate: u64, seconds: u64) -> f64 {
    let started = Instant::now();
    let per_tick = rate / 100;
    for tick in 0..seconds * 100 {
        for i in 0..per_tick {
            black_box(traced(i, "pace"));
        }
        let due = Duration::from_millis(10 * (tick + 1));
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    started.elapsed().as_secs_f64()
}

/// The paced run of [`export_throughput`] again, to a receiver that only counts spans (see
/// `support/counting_receiver.rs`): what the pipeline delivers when the receiver's decoding does
/// not share the machine with it.
fn export_to_counting_receiver(rate: u64, seconds: u64) {
    let receiver = CountingReceiver::start();
    let guard = install_grpc(&receiver.endpoint());
    let before = instrument::export::export_stats();
    let paced_secs = run_paced(rate, seconds);
    guard.force_flush().unwrap();
    let after = instrument::export::export_stats();
    drop(guard);
    println!(
        "OTLP/gRPC export to a receiver that only counts, paced: {} spans in {paced_secs:.1} s \
         ({:.0} spans/s made), {} received, {} dropped",
        after.spans_ended - before.spans_ended,
        (after.spans_ended - before.spans_ended) as f64 / paced_secs,
        receiver.span_count(),
        after.spans_dropped() - before.spans_dropped(),
    );
}

/// Spans per second through OTLP/gRPC to the test receiver with the toolkit's defaults: a
/// paced run at `rate` spans/s for `seconds`, then `burst` spans at full speed; the spans
/// received and dropped, and the growth of peak resident memory.
fn export_throughput(rate: u64, seconds: u64, burst: u64) {
    let receiver = Receiver::start(Wire::Grpc);
    receiver.count_only();
    let guard = install_grpc(&receiver.endpoint());
    let before = instrument::export::export_stats();
    let paced_secs = run_paced(rate, seconds);
    guard.force_flush().unwrap();
    let paced = instrument::export::export_stats();
    // Resets the peak to the current resident size, so the burst's own peak is measured.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let peak_before_burst = peak_resident_kib();
    let burst_started = Instant::now();
    for i in 0..burst {
        black_box(traced(i, "burst"));
    }
    let burst_secs = burst_started.elapsed().as_secs_f64();
    let peak_in_burst = peak_resident_kib();
    let backlog = instrument::export::export_stats().spans_unaccounted();
    let shutdown_started = Instant::now();
    let _ = guard.shutdown();
    let shutdown_secs = shutdown_started.elapsed().as_secs_f64();
    let after = instrument::export::export_stats();
    println!(
        "OTLP/gRPC shutdown with a backlog of {backlog} spans (healthy collector): {shutdown_secs:.2} s"
    );
    println!();
    println!(
        "OTLP/gRPC export, paced: {} spans in {paced_secs:.1} s ({:.0} spans/s made), {} \
         received, {} dropped",
        paced.spans_ended - before.spans_ended,
        (paced.spans_ended - before.spans_ended) as f64 / paced_secs,
        paced.spans_exported - before.spans_exported,
        paced.spans_dropped() - before.spans_dropped(),
    );
    println!(
        "OTLP/gRPC export, full speed: {burst} spans made in {burst_secs:.2} s ({:.0} spans/s), \
         {} received, {} dropped (queue of {}); peak resident memory {} MiB before the burst, \
         {} MiB during it",
        burst as f64 / burst_secs,
        after.spans_exported - paced.spans_exported,
        after.spans_dropped() - paced.spans_dropped(),
        instrument::export::DEFAULT_MAX_QUEUE_SIZE,
        peak_before_burst / 1024,
        peak_in_burst / 1024,
    );
    println!("receiver got {} spans in all", receiver.span_count());
}

/// The toolkit's pipeline as `builder` sets it, exporting spans and metrics to [`Discard`].
fn install_discarding(builder: instrument::TelemetryBuilder) -> instrument::TelemetryGuard {
    builder
        .ignore_env()
        .service_name("bench")
        .with_exporter(CountingDiscard)
        .with_metric_exporter(Discard)
        .install()
        .unwrap()
}

/// The raw SDK's provider under `sampler`, batching to [`CountingDiscard`] with the toolkit's
/// batch settings (queue, batch size, delay): the same work, and a round of calls fits in either
/// queue, so that neither side drops spans (a dropped span costs less than an exported one).
fn raw_provider(sampler: Sampler) -> SdkTracerProvider {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(instrument::export::DEFAULT_MAX_QUEUE_SIZE)
        .with_max_export_batch_size(instrument::export::DEFAULT_MAX_EXPORT_BATCH_SIZE)
        .with_scheduled_delay(instrument::export::DEFAULT_SCHEDULED_DELAY)
        .build();
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(
            BatchSpanProcessor::builder(CountingDiscard)
                .with_batch_config(config)
                .build(),
        )
        .build()
}

/// Spans the [`CountingDiscard`] exporters were handed.
static RECEIVED: AtomicU64 = AtomicU64::new(0);

/// Drops every span, counting them: the timed run reports the spans each case dropped.
#[derive(Debug)]
struct CountingDiscard;

impl SpanExporter for CountingDiscard {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        RECEIVED.fetch_add(batch.len() as u64, Ordering::Relaxed);
        drop(batch);
        std::future::ready(Ok(()))
    }
}

/// The timed cases: nanoseconds per call, and for a case making one span per call, the spans of
/// its timed rounds that never reached the exporter (dropped with the queue full).
#[derive(Default)]
struct Timed(Vec<(&'static str, f64, Option<u64>)>);

impl Timed {
    fn plain(&mut self, name: &'static str, case: fn(u64) -> u64) {
        self.0.push((name, measure(case), None));
    }

    fn settled(&mut self, name: &'static str, case: fn(u64) -> u64, settle: &dyn Fn()) {
        self.0.push((name, measure_settled(case, settle), None));
    }

    fn spans(&mut self, name: &'static str, case: fn(u64) -> u64, settle: &dyn Fn()) {
        settle();
        let before = RECEIVED.load(Ordering::Relaxed);
        let ns = measure_settled(case, settle);
        settle();
        let received = RECEIVED.load(Ordering::Relaxed) - before;
        let made = calls() * rounds() as u64;
        self.0.push((name, ns, Some(made.saturating_sub(received))));
    }

    fn ns(&self, name: &str) -> f64 {
        self.0
            .iter()
            .find(|case| case.0 == name)
            .map_or(f64::NAN, |case| case.1)
    }

    /// The table: each case against the plain fn and against `raw`.
    fn print(&self, raw: f64) {
        let base = self.0[0].1;
        println!(
            "{:<40} {:>12} {:>12} {:>12} {:>14}",
            "case", "ns/call", "vs plain", "vs raw SDK", "spans dropped"
        );
        for (name, ns, dropped) in &self.0 {
            let dropped = dropped.map_or_else(String::new, |n| n.to_string());
            println!(
                "{name:<40} {ns:>12.1} {:>11.2}x {:>11.2}x {dropped:>14}",
                ns / base,
                ns / raw
            );
        }
    }
}

/// `OVERHEAD_ONLY=<case>`: only that case, [`calls`] × [`rounds`] calls settled between rounds,
/// then the pipeline shut down: what every thread spends on it is the process's count (the
/// difference between two call counts, in `benches/instructions.sh overhead_all`).
fn run_only(case: &str) {
    let (calls, rounds) = (calls(), rounds());
    let run = |case: fn(u64) -> u64, settle: &dyn Fn()| {
        for _ in 0..rounds {
            settle();
            let mut sink = 0u64;
            for i in 0..calls {
                sink = sink.wrapping_add(case(black_box(i)));
            }
            black_box(sink);
        }
    };
    let ours = |builder: instrument::TelemetryBuilder, case: fn(u64) -> u64| {
        let guard = install_discarding(builder);
        run(case, &|| {
            let _ = guard.force_flush();
        });
    };
    let raw = |sampler: Sampler, tracer: &std::sync::OnceLock<_>, case: fn(u64) -> u64| {
        let provider = raw_provider(sampler);
        let _ = tracer.set(provider.tracer("raw"));
        run(case, &|| {
            let _ = provider.force_flush();
        });
        let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
    };
    let ratio = || Sampler::TraceIdRatioBased(1.0);
    let default = || Sampler::ParentBased(Box::new(Sampler::AlwaysOn));
    match case {
        "trace_sync" => ours(Telemetry::builder(), case_trace_method_sync_enabled),
        "trace_async" => ours(Telemetry::builder(), case_trace_method_async_enabled),
        "trace_sync_ratio" => ours(
            Telemetry::builder().sampler(ratio()),
            case_trace_method_sync_ratio,
        ),
        "trace_async_ratio" => ours(
            Telemetry::builder().sampler(ratio()),
            case_trace_method_async_ratio,
        ),
        "genai_chat" => ours(Telemetry::builder(), case_genai_chat),
        "raw_same_work" => raw(default(), &RAW_TRACER, case_raw_sdk_same_work),
        "raw_same_work_ratio" => raw(ratio(), &RAW_RATIO_TRACER, case_raw_sdk_same_work_ratio),
        other => panic!("OVERHEAD_ONLY={other:?} is not a case"),
    }
}

fn main() {
    if let Ok(case) = std::env::var("OVERHEAD_ONLY") {
        run_only(&case);
        return;
    }
    let resident_at_start = peak_resident_kib();
    let mut results = Timed::default();
    results.plain("plain fn", case_plain);
    results.plain("plain async fn", case_plain_async);
    results.plain("same fn, not instrumented", case_untraced);
    results.plain("same async fn, not instrumented", case_untraced_async);
    results.plain("#[trace_method] disabled", case_trace_method_sync_disabled);
    results.plain(
        "#[trace_method] async disabled",
        case_trace_method_async_disabled,
    );
    results.plain("#[metric] disabled", case_metric_disabled);
    results.plain(
        "tracing::instrument, no subscriber",
        case_tracing_no_subscriber,
    );

    let guard = install_discarding(Telemetry::builder());
    let flush_ours = || {
        let _ = guard.force_flush();
    };
    results.spans(
        "#[trace_method] enabled, 2 args",
        case_trace_method_sync_enabled,
        &flush_ours,
    );
    results.spans(
        "#[trace_method] async enabled, 2 args",
        case_trace_method_async_enabled,
        &flush_ours,
    );
    results.spans(
        "... + current_context() attached",
        case_trace_method_current_context,
        &flush_ours,
    );
    results.settled("#[metric] enabled", case_metric_enabled, &flush_ours);
    results.spans(
        "genai::chat (span + 3 histograms, 4 points)",
        case_genai_chat,
        &flush_ours,
    );
    drop(guard);

    let guard = install_discarding(Telemetry::builder().sampler(Sampler::TraceIdRatioBased(1.0)));
    let flush_ours = || {
        let _ = guard.force_flush();
    };
    results.spans(
        "#[trace_method], TraceIdRatioBased(1.0)",
        case_trace_method_sync_ratio,
        &flush_ours,
    );
    results.spans(
        "#[trace_method] async, TraceIdRatioBased",
        case_trace_method_async_ratio,
        &flush_ours,
    );
    drop(guard);

    let guard = install_discarding(Telemetry::builder().current_span(CurrentSpan::ThreadStack));
    let flush_ours = || {
        let _ = guard.force_flush();
    };
    results.spans(
        "#[trace_method], CurrentSpan::ThreadStack",
        case_trace_method_sync_thread_stack,
        &flush_ours,
    );
    results.spans(
        "#[trace_method] async, ThreadStack",
        case_trace_method_async_thread_stack,
        &flush_ours,
    );
    drop(guard);

    let meters = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_periodic_exporter(Discard)
        .build();
    let _ = RAW_HISTOGRAM.set(
        opentelemetry::metrics::MeterProvider::meter(&meters, "raw")
            .f64_histogram("raw_ms")
            .build(),
    );
    results.plain("raw SDK histogram record", case_raw_histogram);
    results.plain(
        "OpenTelemetry context alone (span current)",
        case_otel_context_alone,
    );
    let _ = meters.shutdown();

    let provider = raw_provider(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
    let _ = RAW_TRACER.set(provider.tracer("raw"));
    let flush_raw = || {
        let _ = provider.force_flush();
    };
    results.spans(
        "raw SDK start + 2 attributes + end",
        case_raw_sdk,
        &flush_raw,
    );
    let raw = results.ns("raw SDK start + 2 attributes + end");
    results.spans(
        "raw SDK doing what #[trace_method] does",
        case_raw_sdk_same_work,
        &flush_raw,
    );
    let ratio_provider = raw_provider(Sampler::TraceIdRatioBased(1.0));
    let _ = RAW_RATIO_TRACER.set(ratio_provider.tracer("raw"));
    results.spans(
        "same, TraceIdRatioBased(1.0)",
        case_raw_sdk_same_work_ratio,
        &|| {
            let _ = ratio_provider.force_flush();
        },
    );
    let _ = ratio_provider.shutdown_with_timeout(Duration::from_secs(5));

    {
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tracing")));
        let _default = tracing::subscriber::set_default(subscriber);
        results.spans(
            "tracing::instrument + tracing-opentelemetry",
            case_tracing_otel_sync,
            &flush_raw,
        );
        results.spans(
            "tracing::instrument async + tracing-otel",
            case_tracing_otel_async,
            &flush_raw,
        );
    }
    let _ = provider.shutdown_with_timeout(Duration::from_secs(5));

    fastrace::set_reporter(DiscardReporter, fastrace::collector::Config::default());
    {
        let root = fastrace::Span::root("bench", fastrace::collector::SpanContext::random());
        let _parent = root.set_local_parent();
        results.settled(
            "fastrace::trace (2 properties)",
            case_fastrace,
            &fastrace::flush,
        );
    }
    fastrace::flush();

    results.print(raw);

    if std::env::var_os("OVERHEAD_CALLS").is_some() {
        return;
    }
    let ours = results.ns("#[trace_method] enabled, 2 args");
    println!();
    println!(
        "#[trace_method] enabled: {:.2}x the raw SDK doing the same work, {:.2}x cheaper than \
         tracing + tracing-opentelemetry",
        ours / results.ns("raw SDK doing what #[trace_method] does"),
        results.ns("tracing::instrument + tracing-opentelemetry") / ours
    );

    let guard = Telemetry::builder()
        .ignore_env()
        .service_name("bench")
        .with_exporter(Discard)
        .install()
        .unwrap();
    let (small, huge) = (capture_cost(2 << 20), capture_cost(100 << 20));
    drop(guard);
    println!(
        "capture of a 2 MiB argument {:.0} us, of a 100 MB argument {:.0} us: {:.2}x",
        small / 1e3,
        huge / 1e3,
        huge / small
    );

    println!(
        "peak resident memory before telemetry: {} MiB",
        resident_at_start / 1024
    );
    // `EXPORT_RATE` spans/s for the paced run (default 100,000).
    let rate = std::env::var("EXPORT_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    export_throughput(rate, 10, 1_000_000);
    export_to_counting_receiver(rate, 10);
}
