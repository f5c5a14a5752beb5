//! The trace list over the API: traces received out of start-time order, over OTLP/HTTP as JSON,
//! come back from `/api/traces` newest start first, filtered and limited in that order, and a
//! late span that started earlier moves its trace down.

#[allow(dead_code)]
mod support;

use std::net::SocketAddr;

use instrument_viewer::{Viewer, ViewerConfig};
use serde_json::json;

/// A span of `trace`, started `start_s` seconds into the test's minute, under `parent` if set.
struct TestSpan<'a> {
    /// Its trace's number.
    trace: u64,
    /// Its number.
    span: u64,
    /// Its parent's number.
    parent: Option<u64>,
    /// Its name.
    name: &'a str,
    /// Its sender's `service.name`.
    service: &'a str,
    /// When it started, in seconds from the test's origin.
    start_s: u64,
}

/// Sends one span as an OTLP/JSON trace export to `/v1/traces`.
fn send_span(address: SocketAddr, span: &TestSpan<'_>) {
    let TestSpan {
        trace,
        span,
        parent,
        name,
        service,
        start_s,
    } = *span;
    let start = 1_700_000_000_000_000_000 + start_s * 1_000_000_000;
    let export = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"spans": [{
            "traceId": format!("{trace:032x}"),
            "spanId": format!("{span:016x}"),
            "parentSpanId": parent.map(|p| format!("{p:016x}")).unwrap_or_default(),
            "name": name,
            "startTimeUnixNano": start.to_string(),
            "endTimeUnixNano": (start + 1_000_000).to_string(),
        }]}]
    }]})
    .to_string();
    let (status, body) = support::exchange(
        address,
        &format!(
            "POST /v1/traces HTTP/1.1\r\nHost: viewer\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{export}",
            export.len()
        ),
    );
    assert_eq!(status, 200, "POST /v1/traces: {body}");
}

/// The roots of `/api/traces` with `query`, in the order answered, and their start times.
fn listed(ui: SocketAddr, query: &str) -> (Vec<String>, Vec<u64>) {
    let traces = support::get(ui, &format!("/api/traces{query}"));
    let traces = traces.as_array().unwrap();
    (
        traces
            .iter()
            .map(|t| t["root"].as_str().unwrap().to_owned())
            .collect(),
        traces
            .iter()
            .map(|t| t["start_ns"].as_u64().unwrap())
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_received_out_of_start_order_are_listed_newest_start_first() {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let viewer = Viewer::start(ViewerConfig {
        grpc: any,
        http: any,
        ui: any,
        ..ViewerConfig::default()
    })
    .await
    .unwrap();
    let (http, ui) = (viewer.http_address(), viewer.ui_address());
    tokio::task::spawn_blocking(move || {
        // Arrival order: 30 s, 10 s, 50 s, 20 s, 40 s, 20 s (a tie with the fourth).
        for (trace, start_s, name, service) in [
            (1, 30, "t30", "api"),
            (2, 10, "t10", "worker"),
            (3, 50, "t50", "api"),
            (4, 20, "t20 first", "worker"),
            (5, 40, "t40", "worker"),
            (6, 20, "t20 second", "api"),
        ] {
            send_span(
                http,
                &TestSpan {
                    trace,
                    span: 1,
                    parent: None,
                    name,
                    service,
                    start_s,
                },
            );
        }

        let (roots, starts) = listed(ui, "");
        assert_eq!(
            roots,
            ["t50", "t40", "t30", "t20 second", "t20 first", "t10"],
            "newest start first; of equal starts, the later arrival first"
        );
        assert!(
            starts.windows(2).all(|w| w[0] >= w[1]),
            "start_ns never grows down the list: {starts:?}"
        );
        assert_eq!(listed(ui, "?limit=3").0, ["t50", "t40", "t30"]);
        assert_eq!(
            listed(ui, "?service=worker&limit=2").0,
            ["t40", "t20 first"],
            "filtered, then limited, in the same order"
        );

        // A late span of the 30 s trace that started at 5 s: that trace is now the oldest.
        send_span(
            http,
            &TestSpan {
                trace: 1,
                span: 2,
                parent: Some(1),
                name: "late child",
                service: "api",
                start_s: 5,
            },
        );
        let (roots, starts) = listed(ui, "");
        assert_eq!(
            roots,
            ["t50", "t40", "t20 second", "t20 first", "t10", "t30"]
        );
        assert_eq!(
            starts.last(),
            Some(&(1_700_000_000_000_000_000 + 5_000_000_000)),
            "its start is its late span's"
        );
    })
    .await
    .unwrap();
}
