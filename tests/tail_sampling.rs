//! Tail sampling (`keep_errors_and_slow`): 1,000 traces of two spans, 1 % ending in error and
//! three slow, with ratio 0.01 — every error trace and every slow trace is kept whole, the others
//! are kept exactly when their trace id falls under the ratio (about 1 %: between 0 and 30 of
//! the 987 are expected), late spans follow their trace's decision, and the counts add up.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use instrument::{TailSampling, Telemetry, trace_method};
use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[trace_method]
fn handle(i: u32) -> Result<u32, String> {
    let checked = check(i);
    if i % 100 == 0 {
        return Err(format!("request {i} failed"));
    }
    if i % 333 == 1 {
        std::thread::sleep(Duration::from_millis(30));
    }
    Ok(checked)
}

#[trace_method]
fn check(i: u32) -> u32 {
    i + 1
}

fn under_ratio(trace_id: TraceId, ratio: f64) -> bool {
    let low = u64::from_be_bytes(trace_id.to_bytes()[8..16].try_into().unwrap());
    (low as f64) < ratio * (u64::MAX as f64)
}

#[test]
fn error_and_slow_traces_are_kept_and_the_rest_by_ratio() {
    let exporter = InMemorySpanExporter::default();
    let guard = Telemetry::builder()
        .ignore_env()
        .tail_sampling(TailSampling::keep_errors_and_slow(
            0.01,
            Duration::from_millis(20),
        ))
        .with_simple_exporter(exporter.clone())
        .install()
        .unwrap();
    // The trace id of each kept request: the root its call added to the exporter, if any.
    let mut ids: HashMap<u32, TraceId> = HashMap::new();
    let mut seen = 0;
    for i in 0..1_000 {
        let _ = handle(i);
        let spans = exporter.get_finished_spans().unwrap();
        if let Some(root) = spans[seen..].iter().find(|s| s.name == "handle") {
            ids.insert(i, root.span_context.trace_id());
        }
        seen = spans.len();
    }
    let stats = instrument::export::export_stats();
    let exported = exporter.get_finished_spans().unwrap();
    drop(guard);

    let kept: HashSet<TraceId> = exported.iter().map(|s| s.span_context.trace_id()).collect();
    for trace in &kept {
        let spans: Vec<_> = exported
            .iter()
            .filter(|s| s.span_context.trace_id() == *trace)
            .collect();
        assert_eq!(spans.len(), 2, "a kept trace is kept whole");
    }
    let errors: Vec<u32> = (0..1_000).filter(|i| i % 100 == 0).collect();
    let slow: Vec<u32> = (0..1_000).filter(|i| i % 333 == 1).collect();
    for i in errors.iter().chain(&slow) {
        assert!(ids.contains_key(i), "trace of request {i} kept");
    }
    let others = kept.len() - errors.len() - slow.len();
    assert!(others <= 30, "{others} of 987 kept by a 1 % ratio");
    for (i, trace) in &ids {
        if !errors.contains(i) && !slow.contains(i) {
            assert!(
                under_ratio(*trace, 0.01),
                "request {i} kept only by the ratio"
            );
        }
    }
    assert_eq!(stats.traces_kept as usize, kept.len());
    assert_eq!(stats.traces_kept + stats.traces_sampled_out, 1_000);
    assert_eq!(stats.spans_sampled_out, 2 * stats.traces_sampled_out);
    assert_eq!(stats.spans_dropped(), 0, "sampled-out spans are not drops");
}
