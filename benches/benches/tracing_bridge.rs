//! The `tracing` bridge against `tracing-opentelemetry` + `opentelemetry-appender-tracing`, in
//! one run: a `tracing::info!` with 2 fields inside an instrumented fn, and a `tracing` span
//! inside an instrumented fn. Each cost is the instrumented fn with the event or span minus the
//! same fn without it. `bash benches/instructions.sh tracing_bridge` counts instructions.

use std::hint::black_box;
use std::time::{Duration, Instant};

use instrument::{Telemetry, trace_method};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;

#[path = "support/discard.rs"]
mod discard;
use discard::Discard;

#[inline(never)]
#[trace_method]
fn bridge_fn(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
#[trace_method]
fn bridge_log(a: u64, b: &str) -> u64 {
    tracing::info!(a, b, "handled");
    a + b.len() as u64
}

#[inline(never)]
#[trace_method]
fn bridge_span(a: u64, b: &str) -> u64 {
    let span = tracing::info_span!("inner", a, b);
    let _entered = span.enter();
    a + b.len() as u64
}

#[inline(never)]
#[tracing::instrument]
fn peer_fn(a: u64, b: &str) -> u64 {
    a + b.len() as u64
}

#[inline(never)]
#[tracing::instrument]
fn peer_log(a: u64, b: &str) -> u64 {
    tracing::info!(a, b, "handled");
    a + b.len() as u64
}

#[inline(never)]
#[tracing::instrument]
fn peer_span(a: u64, b: &str) -> u64 {
    let span = tracing::info_span!("inner", a, b);
    let _entered = span.enter();
    a + b.len() as u64
}

#[inline(never)]
fn case_bridge_fn(i: u64) -> u64 {
    bridge_fn(black_box(i), black_box("agent-1"))
}
#[inline(never)]
fn case_bridge_log(i: u64) -> u64 {
    bridge_log(black_box(i), black_box("agent-1"))
}
#[inline(never)]
fn case_bridge_span(i: u64) -> u64 {
    bridge_span(black_box(i), black_box("agent-1"))
}
#[inline(never)]
fn case_peer_fn(i: u64) -> u64 {
    peer_fn(black_box(i), black_box("agent-1"))
}
#[inline(never)]
fn case_peer_log(i: u64) -> u64 {
    peer_log(black_box(i), black_box("agent-1"))
}
#[inline(never)]
fn case_peer_span(i: u64) -> u64 {
    peer_span(black_box(i), black_box("agent-1"))
}

/// Calls per case: `OVERHEAD_CALLS` (the instruction-count script sets it), or 200,000.
fn calls() -> u64 {
    std::env::var("OVERHEAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

/// Calls between two settles of the export.
const ROUND: u64 = 2_000;

/// Nanoseconds per call of `case`, with `settle` run every [`ROUND`] calls, untimed: the export
/// keeps up with both sides, so each is measured in its steady state rather than with its queue
/// full.
fn measure(case: fn(u64) -> u64, settle: &dyn Fn()) -> f64 {
    let n = calls();
    let mut elapsed = Duration::ZERO;
    let mut i = 0;
    while i < n {
        settle();
        let started = Instant::now();
        for _ in 0..ROUND.min(n - i) {
            black_box(case(i));
            i += 1;
        }
        elapsed += started.elapsed();
    }
    elapsed.as_nanos() as f64 / n as f64
}

fn main() {
    let guard = Telemetry::builder()
        .ignore_env()
        .service_name("bench")
        .with_exporter(Discard)
        .with_metric_exporter(Discard)
        .with_log_exporter(Discard)
        .install()
        .unwrap();
    let settle_ours = || {
        let _ = guard.force_flush();
    };
    let bridge = [
        measure(case_bridge_fn, &settle_ours),
        measure(case_bridge_log, &settle_ours),
        measure(case_bridge_span, &settle_ours),
    ];
    drop(guard);

    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    let logger_provider = SdkLoggerProvider::builder()
        .with_batch_exporter(Discard)
        .build();
    let settle_peer = || {
        let _ = tracer_provider.force_flush();
        let _ = logger_provider.force_flush();
    };
    let peer = {
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("peer")))
            .with(OpenTelemetryTracingBridge::new(&logger_provider));
        let _default = tracing::subscriber::set_default(subscriber);
        [
            measure(case_peer_fn, &settle_peer),
            measure(case_peer_log, &settle_peer),
            measure(case_peer_span, &settle_peer),
        ]
    };
    let _ = tracer_provider.shutdown_with_timeout(Duration::from_secs(5));
    let _ = logger_provider.shutdown_with_timeout(Duration::from_secs(5));

    let log = (bridge[1] - bridge[0], peer[1] - peer[0]);
    let span = (bridge[2] - bridge[0], peer[2] - peer[0]);
    println!(
        "{:<46} {:>10} {:>10} {:>8}",
        "ns per call", "bridge", "peer", "ratio"
    );
    println!(
        "{:<46} {:>10.1} {:>10.1}",
        "instrumented fn alone", bridge[0], peer[0]
    );
    println!(
        "{:<46} {:>10.1} {:>10.1} {:>7.2}x",
        "tracing::info! with 2 fields (log record)",
        log.0,
        log.1,
        log.0 / log.1
    );
    println!(
        "{:<46} {:>10.1} {:>10.1} {:>7.2}x",
        "tracing span inside the instrumented fn",
        span.0,
        span.1,
        span.0 / span.1
    );
}
