//! Every corpus variant, run inside `instrument::testing::capture`: it returns what the plain
//! corpus returns, and records exactly one span (tracing variants) and one metric measurement
//! (metric variants) per call of an instrumented fn, none with the `off` feature.

#![deny(warnings)]

mod support;

use std::collections::BTreeMap;

use instrument::testing::{Captured, capture};
use support::Rows;

/// What one call of an instrumented fn records, for each kind: all of it, or nothing when
/// instrumentation is compiled out.
fn expected_records() -> usize {
    if cfg!(feature = "off") {
        0
    } else {
        instrument_corpus::traced_calls()
    }
}

/// Runs `run` under a capture, checks its rows against the plain corpus, and returns what was
/// captured.
fn run_captured(variant: &str, run: fn() -> Rows) -> Captured {
    let (got, captured) = capture(run);
    support::assert_same_as_plain(variant, &got);
    captured
}

fn assert_spans(variant: &str, captured: &Captured) {
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for span in captured.spans() {
        *by_name.entry(span.name.to_string()).or_default() += 1;
    }
    assert_eq!(
        captured.spans().len(),
        expected_records(),
        "variant `{variant}`: spans captured by name: {by_name:#?}"
    );
}

fn assert_metrics(variant: &str, captured: &Captured) {
    let calls: f64 = captured
        .metric_points("corpus_calls")
        .iter()
        .map(|p| p.value)
        .sum();
    let timed: u64 = captured
        .metric_points("corpus_ms")
        .iter()
        .map(|p| p.count)
        .sum();
    assert_eq!(
        calls as usize + timed as usize,
        expected_records(),
        "variant `{variant}`: {calls} counted calls + {timed} timed calls; points: {:#?} {:#?}",
        captured.metric_points("corpus_calls"),
        captured.metric_points("corpus_ms"),
    );
}

/// The recorded values of the parameters named `x`.
fn x_values(captured: &Captured) -> Vec<String> {
    captured
        .spans()
        .iter()
        .filter_map(|span| captured.attribute(span, "parameter.x"))
        .collect()
}

#[test]
fn traced() {
    let captured = run_captured("traced", support::traced::run_all);
    assert_spans("traced", &captured);
    let xs = x_values(&captured);
    assert_eq!(xs.is_empty(), expected_records() == 0, "{xs:?}");
    assert!(
        xs.iter().all(|x| !x.contains("(excluded")),
        "without `exclude`, `x` is recorded: {xs:?}"
    );
}

#[test]
fn skip_all() {
    let captured = run_captured("skip_all", support::skip_all::run_all);
    assert_spans("skip_all", &captured);
    let recorded: Vec<String> = captured
        .spans()
        .iter()
        .flat_map(|span| span.attributes.iter())
        .map(|kv| kv.key.to_string())
        .filter(|key| key.starts_with("parameter."))
        .collect();
    assert!(
        recorded.is_empty(),
        "`skip_all` records no parameter: {recorded:?}"
    );
}

#[test]
fn named() {
    let captured = run_captured("named", support::named::run_all);
    assert_spans("named", &captured);
    assert_eq!(
        captured.spans_named("corpus.shape").len(),
        expected_records(),
        "every span is named by the `name` option"
    );
    assert!(
        captured
            .spans()
            .iter()
            .all(|span| matches!(span.span_kind, instrument::SpanKind::Client)),
        "every span has the `kind` option's kind"
    );
}

#[test]
fn exclude() {
    let captured = run_captured("exclude", support::exclude::run_all);
    assert_spans("exclude", &captured);
    let xs = x_values(&captured);
    assert_eq!(xs.is_empty(), expected_records() == 0, "{xs:?}");
    assert!(
        xs.iter().all(|x| x.contains("(excluded")),
        "`exclude = [x]` records `x` as a placeholder: {xs:?}"
    );
}

#[test]
fn metric() {
    let captured = run_captured("metric", support::metric::run_all);
    assert_metrics("metric", &captured);
}

#[test]
fn traced_then_metric() {
    let captured = run_captured("traced_then_metric", support::traced_then_metric::run_all);
    assert_spans("traced_then_metric", &captured);
    assert_metrics("traced_then_metric", &captured);
}

#[test]
fn metric_then_traced() {
    let captured = run_captured("metric_then_traced", support::metric_then_traced::run_all);
    assert_spans("metric_then_traced", &captured);
    assert_metrics("metric_then_traced", &captured);
}
