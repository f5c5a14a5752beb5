//! A flood of 1,000,000 spans (100,000 traces of 10) into a viewer bounded at 100,000 spans and
//! 48 MiB: the bounds hold, eviction counts are exact, the process's resident memory grows at
//! most a quarter past the bound,
//! and the UI answers while the flood runs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use instrument_viewer::{Limits, Viewer, ViewerConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

const TRACES: u64 = 100_000;
const SPANS_PER_TRACE: u64 = 10;
const BATCH_TRACES: u64 = 100;

fn batch(first: u64) -> ExportTraceServiceRequest {
    let mut spans = Vec::new();
    for t in first..first + BATCH_TRACES {
        for s in 0..SPANS_PER_TRACE {
            spans.push(Span {
                trace_id: (u128::from(t) + 1).to_be_bytes().to_vec(),
                span_id: (t * 100 + s + 1).to_be_bytes().to_vec(),
                parent_span_id: if s == 0 {
                    Vec::new()
                } else {
                    (t * 100 + 1).to_be_bytes().to_vec()
                },
                name: "SELECT messages".into(),
                start_time_unix_nano: 1_000,
                end_time_unix_nano: 2_000,
                attributes: vec![KeyValue {
                    key: "db.query.text".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(
                            "SELECT * FROM messages WHERE agent_id = ?".into(),
                        )),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Resident memory of this process, in bytes.
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// `GET path` over a plain socket; the status line.
fn get(address: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: viewer\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_spans_stay_inside_the_bounds_and_the_ui_answers() {
    let limits = Limits {
        max_spans: 100_000,
        max_bytes: 48 << 20,
        max_logs: 1_000,
    };
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let viewer = Viewer::start(ViewerConfig {
        grpc: any,
        http: any,
        ui: any,
        limits,
        ..ViewerConfig::default()
    })
    .await
    .unwrap();
    let before = resident();
    let store = Arc::clone(viewer.store());
    let flooding = Arc::new(AtomicBool::new(true));
    let flood = {
        let flooding = Arc::clone(&flooding);
        std::thread::spawn(move || {
            let mut peak = 0usize;
            for first in (0..TRACES).step_by(BATCH_TRACES as usize) {
                store.add_traces(batch(first));
                let stats = store.stats();
                assert!(stats.spans <= limits.max_spans);
                assert!(stats.bytes <= limits.max_bytes);
                peak = peak.max(resident());
            }
            flooding.store(false, Ordering::Relaxed);
            peak
        })
    };
    let ui = viewer.ui_address();
    let answered = tokio::task::spawn_blocking(move || {
        let mut answered = 0;
        while flooding.load(Ordering::Relaxed) {
            assert_eq!(get(ui, "/api/stats"), "HTTP/1.1 200 OK");
            assert_eq!(get(ui, "/api/traces?limit=50"), "HTTP/1.1 200 OK");
            answered += 1;
        }
        answered
    })
    .await
    .unwrap();
    let peak = flood.join().unwrap();

    let stats = viewer.store().stats();
    let total_spans = TRACES * SPANS_PER_TRACE;
    assert_eq!(stats.spans as u64 + stats.evicted_spans, total_spans);
    assert_eq!(stats.traces as u64 + stats.evicted_traces, TRACES);
    assert_eq!(stats.evicted_spans, stats.evicted_traces * SPANS_PER_TRACE);
    assert!(stats.spans <= limits.max_spans && stats.bytes <= limits.max_bytes);
    let grown = peak.saturating_sub(before);
    println!(
        "held {} spans in {:.1} MiB (estimate); evicted {} traces / {} spans; resident memory grew \
         {:.1} MiB at most (bound {} MiB); the UI answered {answered} rounds during the flood",
        stats.spans,
        stats.bytes as f64 / 1_048_576.0,
        stats.evicted_traces,
        stats.evicted_spans,
        grown as f64 / 1_048_576.0,
        limits.max_bytes >> 20,
    );
    // The store's estimate is what the bound counts; the process may hold a little more: the batch
    // being converted and the allocator's slack.
    assert!(
        grown <= limits.max_bytes + limits.max_bytes / 4,
        "resident memory grew {grown} bytes for a {} byte bound",
        limits.max_bytes
    );
    assert!(answered > 0, "the UI answered while the flood ran");
}
