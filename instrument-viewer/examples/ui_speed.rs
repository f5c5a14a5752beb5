//! How fast the page is: fills a viewer with 10,000 traces and one 5,000-span trace, then loads
//! the trace list and the big trace in headless Chromium and prints, for each, the wall time of a
//! headless run that loads, fetches and renders it, less that of a run rendering an empty view
//! (the browser's own start and stop), best of three. The page's own clock cannot be used: the
//! virtual time that lets `--dump-dom` wait for the page's fetches also stops its clock.
//!
//! `cargo run -p instrument-viewer --example ui_speed` (needs `chromium` on PATH, or `CHROMIUM`).

use std::net::SocketAddr;
use std::process::Command;
use std::time::Instant;

use instrument_viewer::{Viewer, ViewerConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn span(trace: u64, index: u64, parent: Option<u64>, name: String) -> Span {
    Span {
        trace_id: (u128::from(trace) + 1).to_be_bytes().to_vec(),
        span_id: (trace * 10_000 + index + 1).to_be_bytes().to_vec(),
        parent_span_id: parent
            .map(|p| (trace * 10_000 + p + 1).to_be_bytes().to_vec())
            .unwrap_or_default(),
        name,
        kind: 2,
        start_time_unix_nano: 1_700_000_000_000_000_000 + trace * 1_000_000 + index * 1_000,
        end_time_unix_nano: 1_700_000_000_000_000_000 + trace * 1_000_000 + index * 1_000 + 900,
        ..Default::default()
    }
}

fn export(spans: Vec<Span>) -> ExportTraceServiceRequest {
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

/// The page's DOM and the best wall time of three headless runs, in milliseconds.
fn timed(chromium: &str, url: &str) -> (String, f64) {
    let mut best = f64::MAX;
    let mut dom = String::new();
    for _ in 0..3 {
        let started = Instant::now();
        dom = load(chromium, url);
        best = best.min(started.elapsed().as_secs_f64() * 1_000.0);
    }
    (dom, best)
}

fn load(chromium: &str, url: &str) -> String {
    let profile = std::env::temp_dir().join("instrument-viewer-ui-speed");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=30000",
            "--window-size=1400,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium starts");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let viewer = Viewer::start(ViewerConfig {
        grpc: any,
        http: any,
        ui: any,
        ..ViewerConfig::default()
    })
    .await?;
    for first in (0..10_000u64).step_by(1_000) {
        let spans = (first..first + 1_000)
            .flat_map(|t| {
                [
                    span(t, 0, None, format!("GET /v1/agents/{t}")),
                    span(t, 1, Some(0), "AgentManager.get_agent".into()),
                    span(t, 2, Some(1), "SELECT agents".into()),
                ]
            })
            .collect();
        viewer.store().add_traces(export(spans));
    }
    let big = 20_000u64;
    let spans = (0..5_000)
        .map(|i| {
            let parent = (i > 0).then(|| {
                if i % 50 == 1 {
                    0
                } else {
                    i - 1 - (i - 1) % 50 + 1
                }
            });
            span(big, i, parent, format!("step {i}"))
        })
        .collect();
    viewer.store().add_traces(export(spans));
    let ui = viewer.ui_address();
    let big_id = format!("{:032x}", u128::from(big) + 1);
    let (empty, list, trace) = tokio::task::spawn_blocking(move || {
        (
            timed(&chromium, &format!("http://{ui}/#logs")),
            timed(&chromium, &format!("http://{ui}/#traces")),
            timed(&chromium, &format!("http://{ui}/#trace/{big_id}")),
        )
    })
    .await
    .expect("chromium ran");
    println!(
        "trace list, 10,000 traces ({} rows in the DOM, the rest as you scroll): {:.0} ms over an empty view (headless run {:.0} ms, empty view {:.0} ms)",
        list.0.matches("trace-row").count(),
        list.1 - empty.1,
        list.1,
        empty.1
    );
    println!(
        "one trace, 5,000 spans ({} rows in the DOM, the rest as you scroll): {:.0} ms over an empty view (headless run {:.0} ms, empty view {:.0} ms)",
        trace.0.matches("data-depth=").count(),
        trace.1 - empty.1,
        trace.1,
        empty.1
    );
    Ok(())
}
