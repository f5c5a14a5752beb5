//! The N+1 found at the ORM level, in headless Chromium: the parent of lazy loads repeated under
//! it carries the N+1 badge in the waterfall, and its panel says the finding in words (the
//! relationship, the count, the select-in loader); a repeated statement is named by its summary.
//!
//! As in `genai_page.rs`, the page is served with a probe script that opens the trace with the
//! parent selected and records the view into `data-probe` on the body. Skipped, saying so, where
//! no Chromium is found; under CI a missing browser fails the test.

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use instrument_viewer::{Limits, Store};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// 2023-11-14 22:13:20 UTC, in nanoseconds since the Unix epoch.
const T0: u64 = 1_700_000_000_000_000_000;
const TRACE: &str = "000000000000000000000000000000e1";
const ROOT: &str = "00000000000000e1";
const FINDING: &str = "N+1: agent.messages loaded lazily 12 times under one parent; load it for \
                       all parents in one statement with the select-in loader \
                       (LoaderTrait::load_many / load_one)";

const PROBE: &str = r##""use strict";
let opened = false;
function text(node) { return node ? node.textContent : null; }
function probe() {
  const rendered = document.body.dataset.rendered;
  if (rendered === "traces" && !opened) {
    opened = true;
    location.hash = "#trace/TRACE?span=ROOT";
  } else if (rendered === "trace" && !document.body.dataset.probe) {
    const result = {
      selected: text(document.getElementById("detail-name")),
      findings: [...document.querySelectorAll("#details .finding")].map(text),
      badges: [...document.querySelectorAll(".waterfall .row")].map((row) =>
        [row.dataset.name, text(row.querySelector(".badge.repeated"))]),
    };
    document.body.dataset.probe = JSON.stringify(result);
  }
}
new MutationObserver(probe).observe(document.body, { attributes: true, attributeFilter: ["data-rendered"] });
probe();
"##;

fn string(key: &str, text: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(text.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, number: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(number)),
        }),
        ..Default::default()
    }
}

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn span(id: &str, parent: &str, name: &str, start_ms: u64, events: Vec<Event>) -> Span {
    Span {
        trace_id: bytes(TRACE),
        span_id: bytes(id),
        parent_span_id: bytes(parent),
        name: name.into(),
        start_time_unix_nano: T0 + start_ms * 1_000_000,
        end_time_unix_nano: T0 + (start_ms + 10) * 1_000_000,
        events,
        ..Default::default()
    }
}

/// A root with the ORM finding and a repeated statement, over three lazy loads.
fn export() -> ExportTraceServiceRequest {
    let events = vec![
        Event {
            time_unix_nano: T0 + 50_000_000,
            name: "instrument.db.orm.repeated_lazy_load".into(),
            attributes: vec![
                string("db.orm.relationship.key", "agent.messages"),
                string("db.orm.loader.type", "lazy"),
                int("instrument.db.repeated_query.count", 12),
                string("instrument.db.orm.finding", FINDING),
            ],
            ..Default::default()
        },
        Event {
            time_unix_nano: T0 + 50_000_000,
            name: "instrument.db.repeated_query".into(),
            attributes: vec![
                string("db.query.summary", "SELECT tools"),
                int("instrument.db.repeated_query.count", 10),
            ],
            ..Default::default()
        },
    ];
    let mut spans = vec![span(ROOT, "", "load_and_write", 0, events)];
    for n in 0..3u64 {
        spans.push(span(
            &format!("00000000000000f{n}"),
            ROOT,
            "load agent.messages",
            n * 10,
            Vec::new(),
        ));
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string("service.name", "orm")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orm_finding_shows_in_words_with_its_badge() {
    let Some(chromium) = support::chromium_or_skip() else {
        return;
    };
    let store = Store::new(Limits::default());
    store.add_traces(export());
    let probe = PROBE.replace("TRACE", TRACE).replace("ROOT", ROOT);
    let (address, server) = support::serve_page_with_probe(Arc::clone(&store), probe).await;

    let url = format!("http://{address}/probe#traces");
    let probe = tokio::task::spawn_blocking(move || {
        support::probe_result(&support::dom(&chromium, &url, 1400, "orm-finding"))
    })
    .await
    .unwrap();
    server.abort();

    assert_eq!(probe["selected"], "load_and_write", "{probe}");
    assert_eq!(
        probe["findings"],
        serde_json::json!([
            format!("N+1 {FINDING}"),
            "N+1 repeated query: SELECT tools ×10"
        ]),
        "{probe}"
    );
    let badges = probe["badges"].as_array().unwrap();
    assert_eq!(
        badges[0],
        serde_json::json!(["load_and_write", "N+1"]),
        "{probe}"
    );
    assert!(
        badges[1..].iter().all(|b| b[1].is_null()),
        "only the parent is marked: {probe}"
    );
}
