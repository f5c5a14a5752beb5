//! The store's bounds and queries on generated exports.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, status};

use super::*;

/// `traces` traces of `spans` spans each, trace ids numbered from `first`.
pub(crate) fn export(first: u64, traces: u64, spans: u64) -> ExportTraceServiceRequest {
    let mut all = Vec::new();
    for t in first..first + traces {
        for s in 0..spans {
            all.push(Span {
                trace_id: (u128::from(t) + 1).to_be_bytes().to_vec(),
                span_id: (t * 1000 + s + 1).to_be_bytes().to_vec(),
                parent_span_id: if s == 0 {
                    Vec::new()
                } else {
                    (t * 1000 + 1).to_be_bytes().to_vec()
                },
                name: if s == 0 {
                    format!("root {t}")
                } else {
                    "SELECT messages".into()
                },
                start_time_unix_nano: 1_000 + s,
                end_time_unix_nano: 2_000 + s,
                status: (t % 10 == 0 && s == 1).then(|| Status {
                    code: status::StatusCode::Error as i32,
                    message: "boom".into(),
                }),
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: all,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs(count: usize) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: (0..count)
                    .map(|i| LogRecord {
                        severity_number: if i % 2 == 0 { 9 } else { 17 },
                        time_unix_nano: i as u64,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn the_oldest_traces_go_first_and_every_eviction_is_counted() {
    let store = Store::new(Limits {
        max_spans: 100,
        ..Limits::default()
    });
    for batch in 0..10 {
        store.add_traces(export(batch * 10, 10, 5));
    }
    let stats = store.stats();
    assert_eq!(stats.spans, 100);
    assert_eq!(stats.traces, 20);
    assert_eq!(stats.evicted_traces, 80);
    assert_eq!(stats.evicted_spans, 400);
    let held = store.traces(&TraceFilter::default());
    assert_eq!(held[0].root, "root 99", "newest first");
    assert_eq!(held.last().unwrap().root, "root 80", "the oldest held");
}

#[test]
fn the_byte_bound_holds_and_counts_stay_exact() {
    let one_trace = {
        let store = Store::new(Limits::default());
        store.add_traces(export(0, 1, 10));
        store.stats().bytes
    };
    let store = Store::new(Limits {
        max_bytes: one_trace * 7 + one_trace / 2,
        ..Limits::default()
    });
    store.add_traces(export(0, 50, 10));
    let stats = store.stats();
    assert!(stats.bytes <= stats.max_bytes);
    assert_eq!(stats.traces, 7);
    assert_eq!(stats.evicted_traces, 43);
    assert_eq!(stats.spans as u64 + stats.evicted_spans, 500);
}

#[test]
fn a_late_span_joins_its_trace_and_leaves_with_it() {
    let store = Store::new(Limits {
        max_spans: 12,
        ..Limits::default()
    });
    store.add_traces(export(0, 1, 5));
    store.add_traces(export(1, 1, 5));
    store.add_traces(export(0, 1, 1));
    assert_eq!(store.stats().spans, 11);
    assert_eq!(store.traces(&TraceFilter::default()).len(), 2);
    store.add_traces(export(2, 1, 5));
    let stats = store.stats();
    assert_eq!((stats.evicted_traces, stats.evicted_spans), (1, 6));
    assert_eq!(stats.spans, 10);
}

#[test]
fn logs_are_bounded_by_count_and_filtered() {
    let store = Store::new(Limits {
        max_logs: 10,
        ..Limits::default()
    });
    store.add_logs(logs(25));
    let stats = store.stats();
    assert_eq!((stats.logs, stats.evicted_logs), (10, 15));
    let errors = store.logs(&LogFilter {
        severity: Some("error".into()),
        ..LogFilter::default()
    });
    assert_eq!(errors.len(), 5);
    assert!(errors.iter().all(|l| l.severity == "ERROR"));
}

#[test]
fn the_list_filters_by_status_name_duration_and_attribute() {
    let store = Store::new(Limits::default());
    store.add_traces(export(0, 30, 3));
    let filter = |f: TraceFilter| store.traces(&f).len();
    assert_eq!(
        filter(TraceFilter {
            status: Some("error".into()),
            ..TraceFilter::default()
        }),
        3
    );
    assert_eq!(
        filter(TraceFilter {
            name: Some("root 2".into()),
            ..TraceFilter::default()
        }),
        11
    );
    assert_eq!(
        filter(TraceFilter {
            min_ms: Some(1.0),
            ..TraceFilter::default()
        }),
        0
    );
    assert_eq!(
        filter(TraceFilter {
            attr: Some("missing=1".into()),
            ..TraceFilter::default()
        }),
        0
    );
    let detail = store.trace(&store.traces(&TraceFilter::default())[0].trace_id);
    assert_eq!(detail.unwrap().spans.len(), 3);
}

/// A one-span trace numbered `trace`, its root named `name`, started at `start_ns`.
fn started(trace: u64, start_ns: u64, name: &str) -> ExportTraceServiceRequest {
    let mut request = export(trace, 1, 1);
    let span = &mut request.resource_spans[0].scope_spans[0].spans[0];
    span.name = name.into();
    span.start_time_unix_nano = start_ns;
    span.end_time_unix_nano = start_ns + 1_000;
    request
}

/// The roots of the listed traces, in list order.
fn roots(store: &Store, filter: &TraceFilter) -> Vec<String> {
    store.traces(filter).into_iter().map(|t| t.root).collect()
}

#[test]
fn the_list_is_by_start_newest_first_whatever_the_arrival_order() {
    let store = Store::new(Limits::default());
    for (trace, start, name) in [
        (0, 3_000, "c"),
        (1, 1_000, "a"),
        (2, 5_000, "e"),
        (3, 2_000, "b first"),
        (4, 4_000, "d"),
        (5, 2_000, "b second"),
    ] {
        store.add_traces(started(trace, start, name));
    }
    assert_eq!(
        roots(&store, &TraceFilter::default()),
        ["e", "d", "c", "b second", "b first", "a"],
        "newest start first; of equal starts, the later arrival first"
    );
    let starts: Vec<u64> = store
        .traces(&TraceFilter::default())
        .iter()
        .map(|t| t.start_ns)
        .collect();
    assert_eq!(starts, [5_000, 4_000, 3_000, 2_000, 2_000, 1_000]);
    assert_eq!(
        roots(
            &store,
            &TraceFilter {
                limit: Some(2),
                ..TraceFilter::default()
            }
        ),
        ["e", "d"],
        "the limit keeps the newest"
    );
    assert_eq!(
        roots(
            &store,
            &TraceFilter {
                name: Some("b".into()),
                limit: Some(1),
                ..TraceFilter::default()
            }
        ),
        ["b second"],
        "a filter, then the limit, in the same order"
    );
}

#[test]
fn a_late_span_that_started_earlier_moves_its_trace_down_the_list() {
    let store = Store::new(Limits::default());
    store.add_traces(started(0, 3_000, "x"));
    store.add_traces(started(1, 2_000, "y"));
    assert_eq!(roots(&store, &TraceFilter::default()), ["x", "y"]);
    let mut late = export(0, 1, 2);
    let spans = &mut late.resource_spans[0].scope_spans[0].spans;
    spans.remove(0);
    spans[0].start_time_unix_nano = 1_000;
    store.add_traces(late);
    let listed = store.traces(&TraceFilter::default());
    let order: Vec<(&str, u64, usize)> = listed
        .iter()
        .map(|t| (t.root.as_str(), t.start_ns, t.spans))
        .collect();
    assert_eq!(order, [("y", 2_000, 1), ("x", 1_000, 2)]);
}

#[test]
fn the_trace_that_started_first_is_evicted_first_whatever_its_arrival() {
    let store = Store::new(Limits {
        max_spans: 3,
        ..Limits::default()
    });
    store.add_traces(started(0, 2_000, "b"));
    store.add_traces(started(1, 4_000, "d"));
    store.add_traces(started(2, 3_000, "c"));
    store.add_traces(started(3, 1_000, "a, the oldest, arrived last"));
    assert_eq!(roots(&store, &TraceFilter::default()), ["d", "c", "b"]);
    store.add_traces(started(4, 5_000, "e"));
    assert_eq!(roots(&store, &TraceFilter::default()), ["e", "d", "c"]);
    let stats = store.stats();
    assert_eq!((stats.traces, stats.spans), (3, 3));
    assert_eq!((stats.evicted_traces, stats.evicted_spans), (2, 2));
    assert!(
        store.trace(&format!("{:032x}", 3 + 1)).is_none(),
        "the trace that started first went, though it arrived last"
    );
}

/// An integer attribute.
fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

#[test]
fn a_trace_sums_its_spans_tokens_across_batches() {
    let store = Store::new(Limits::default());
    let mut first = export(0, 1, 3);
    let spans = &mut first.resource_spans[0].scope_spans[0].spans;
    spans[1].attributes = vec![
        int(GEN_AI_INPUT_TOKENS, 1_000),
        int(GEN_AI_OUTPUT_TOKENS, 500),
    ];
    spans[2].attributes = vec![int(GEN_AI_INPUT_TOKENS, 200)];
    store.add_traces(first);
    let mut late = export(0, 1, 4);
    let spans = &mut late.resource_spans[0].scope_spans[0].spans;
    spans.drain(..3);
    spans[0].attributes = vec![int(GEN_AI_INPUT_TOKENS, 34), int(GEN_AI_OUTPUT_TOKENS, 67)];
    store.add_traces(late);
    store.add_traces(export(1, 1, 2));
    let mut negative = export(2, 1, 1);
    negative.resource_spans[0].scope_spans[0].spans[0].attributes =
        vec![int(GEN_AI_OUTPUT_TOKENS, -5)];
    store.add_traces(negative);

    let listed = store.traces(&TraceFilter::default());
    let totals = |root: &str| {
        let t = listed.iter().find(|t| t.root == root).unwrap();
        (t.input_tokens, t.output_tokens)
    };
    assert_eq!(totals("root 0"), (Some(1_234), Some(567)));
    assert_eq!(totals("root 1"), (None, None), "no span has tokens");
    assert_eq!(totals("root 2"), (None, None), "a negative count is none");
    let detail = store.trace(&listed.iter().find(|t| t.root == "root 0").unwrap().trace_id);
    assert_eq!(detail.unwrap().summary.input_tokens, Some(1_234));
    let json = serde_json::to_value(&listed).unwrap();
    let one = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["root"] == "root 1")
        .unwrap();
    assert!(
        one.get("input_tokens").is_none() && one.get("output_tokens").is_none(),
        "left out when none: {one}"
    );
}
