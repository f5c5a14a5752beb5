//! The store's bounds and queries on generated exports.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
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
