//! GenAI spans in headless Chromium: the trace list shows an agent trace's token totals in a
//! tokens column (empty for a trace without), the trace view shows them in its header, each
//! model call carries a badge with its token count, and a selected model call's panel opens with
//! a GenAI block (operation, provider, model request → response, tokens, finish reasons) above
//! its other attributes, which no longer repeat what the block shows. Values are text: an agent
//! named `<b>planner</b>` shows as that text.
//!
//! As in `metrics_page.rs`, the page is served with a probe script added: once the list is
//! rendered it records it and opens the agent trace with its first model call selected, then
//! records that view into `data-probe` on the body, which `--dump-dom` returns. Skipped, saying
//! so, where no Chromium is found (`$CHROMIUM`, or `chromium` / `chromium-browser` /
//! `google-chrome` on `PATH`); under CI a missing browser fails the test.

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use instrument_viewer::{Limits, Store};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use serde_json::{Value, json};

/// 2023-11-14 22:13:20 UTC, in nanoseconds since the Unix epoch.
const T0: u64 = 1_700_000_000_000_000_000;

/// The agent trace's id, in hex.
const AGENT_TRACE: &str = "000000000000000000000000000000a1";

/// The agent's span id, in hex.
const AGENT_SPAN: &str = "00000000000000c1";

/// The first model call's span id, in hex.
const FIRST_CALL: &str = "00000000000000c2";

/// Records the list, opens the agent trace, records it into `body[data-probe]`.
const PROBE: &str = r##""use strict";
let list = null;
function text(node) { return node ? node.textContent : null; }
function probe() {
  const rendered = document.body.dataset.rendered;
  if (rendered === "traces" && list === null) {
    const header = document.querySelector("#trace-list .header");
    list = {
      header: [...header.children].map((c) => c.textContent),
      rows: [...document.querySelectorAll(".trace-row")].map((row) => {
        const cell = row.querySelector(".tokens");
        return {
          root: text(row.querySelector(".root")),
          tokens: text(cell),
          title: cell ? cell.title : null,
          clipped: cell ? cell.scrollWidth > cell.clientWidth + 1 : null,
        };
      }),
    };
    location.hash = "#trace/AGENT_TRACE?span=FIRST_CALL";
  } else if (rendered === "trace" && list !== null && !document.body.dataset.probe) {
    const details = document.getElementById("details");
    const genai = document.getElementById("genai");
    const headings = [...details.querySelectorAll("h3")];
    const attributes = headings.find((h) => h.textContent === "Attributes");
    const table = attributes.nextElementSibling;
    const result = {
      list,
      traceTokens: text(document.getElementById("trace-tokens")),
      head: text(document.querySelector(".trace-head p")),
      selected: text(document.getElementById("detail-name")),
      genai: genai ? [...genai.querySelectorAll("tr")].map((tr) => [tr.dataset.genai, tr.cells[0].textContent, tr.cells[1].textContent]) : null,
      genaiFirst: genai ? Boolean(genai.compareDocumentPosition(attributes) & Node.DOCUMENT_POSITION_FOLLOWING) : null,
      genaiHeading: genai ? text(genai.querySelector("h3")) : null,
      attributes: [...table.querySelectorAll("tr")].map((tr) => tr.cells[0].textContent),
      rows: [...document.querySelectorAll(".waterfall .row")].map((row) => {
        const badge = row.querySelector(".badge.tokens");
        return { name: row.dataset.name, badge: text(badge), title: badge ? badge.title : null };
      }),
    };
    // The agent, clicked: its block names it, as text.
    document.querySelector('.row[data-span-id="AGENT_SPAN"]').click();
    const agent = document.getElementById("genai");
    result.agent = {
      selected: text(document.getElementById("detail-name")),
      genai: [...agent.querySelectorAll("tr")].map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]),
      elements: agent.querySelectorAll("b, script, img").length,
    };
    document.body.dataset.probe = JSON.stringify(result);
  }
}
new MutationObserver(probe).observe(document.body, { attributes: true, attributeFilter: ["data-rendered"] });
probe();
"##;

fn value(value: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

/// A string attribute.
fn string(key: &str, text: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value(any_value::Value::StringValue(text.into())),
        ..Default::default()
    }
}

/// An integer attribute.
fn int(key: &str, number: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value(any_value::Value::IntValue(number)),
        ..Default::default()
    }
}

/// A string-array attribute.
fn strings(key: &str, items: &[&str]) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value(any_value::Value::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|item| AnyValue {
                    value: Some(any_value::Value::StringValue((*item).into())),
                })
                .collect(),
        })),
        ..Default::default()
    }
}

/// Span `span` (hex id) of trace `trace`, under `parent`, from `start_ms` for 100 ms.
fn span(
    trace: &str,
    span: &str,
    parent: &str,
    name: &str,
    start_ms: u64,
    attributes: Vec<KeyValue>,
) -> Span {
    let bytes = |hex: &str| -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    };
    Span {
        trace_id: bytes(trace),
        span_id: bytes(span),
        parent_span_id: bytes(parent),
        name: name.into(),
        start_time_unix_nano: T0 + start_ms * 1_000_000,
        end_time_unix_nano: T0 + (start_ms + 100) * 1_000_000,
        attributes,
        ..Default::default()
    }
}

/// An agent trace (an agent, two model calls, a tool) and a trace with no GenAI span.
fn export() -> ExportTraceServiceRequest {
    let agent = AGENT_SPAN;
    let spans = vec![
        span(
            AGENT_TRACE,
            agent,
            "",
            "invoke_agent planner",
            0,
            vec![
                string("gen_ai.operation.name", "invoke_agent"),
                string("gen_ai.agent.name", "<b>planner</b>"),
            ],
        ),
        span(
            AGENT_TRACE,
            FIRST_CALL,
            agent,
            "chat gpt-4o",
            10,
            vec![
                string("gen_ai.operation.name", "chat"),
                string("gen_ai.provider.name", "openai"),
                string("gen_ai.request.model", "gpt-4o"),
                string("gen_ai.response.model", "gpt-4o-2024-08-06"),
                string("gen_ai.response.id", "chatcmpl-1"),
                int("gen_ai.usage.input_tokens", 1_000),
                int("gen_ai.usage.output_tokens", 200),
                strings("gen_ai.response.finish_reasons", &["tool_calls"]),
                string("server.address", "api.openai.com"),
            ],
        ),
        span(
            AGENT_TRACE,
            "00000000000000c3",
            agent,
            "execute_tool search",
            120,
            vec![
                string("gen_ai.operation.name", "execute_tool"),
                string("gen_ai.tool.name", "search"),
            ],
        ),
        span(
            AGENT_TRACE,
            "00000000000000c4",
            agent,
            "chat gpt-4o (2)",
            230,
            vec![
                string("gen_ai.operation.name", "chat"),
                int("gen_ai.usage.input_tokens", 234),
                int("gen_ai.usage.output_tokens", 367),
                strings("gen_ai.response.finish_reasons", &["stop", "length"]),
            ],
        ),
        span(
            "000000000000000000000000000000b1",
            "00000000000000d1",
            "",
            "GET /health",
            500,
            vec![string("http.route", "/health")],
        ),
    ];
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string("service.name", "agent-server")],
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
async fn token_totals_and_the_genai_block_show_on_the_page() {
    let Some(chromium) = support::chromium_or_skip() else {
        return;
    };
    let store = Store::new(Limits::default());
    store.add_traces(export());
    let probe = PROBE
        .replace("AGENT_TRACE", AGENT_TRACE)
        .replace("FIRST_CALL", FIRST_CALL)
        .replace("AGENT_SPAN", AGENT_SPAN);
    let (address, server) = support::serve_page_with_probe(Arc::clone(&store), probe).await;

    let url = format!("http://{address}/probe#traces");
    let probe = tokio::task::spawn_blocking(move || {
        support::probe_result(&support::dom(&chromium, &url, 1400, "genai-page"))
    })
    .await
    .unwrap();
    server.abort();

    // The list: a tokens column, the totals in the agent trace's row, nothing in the other's.
    let list = &probe["list"];
    assert_eq!(
        list["header"],
        json!(["service", "root", "start", "duration", "spans", "tokens"]),
        "{list}"
    );
    assert_eq!(
        list["rows"],
        json!([
            {"root": "GET /health", "tokens": "", "title": "", "clipped": false},
            {
                "root": "invoke_agent planner",
                "tokens": "1,234 in / 567 out",
                "title": "1,234 in / 567 out tokens",
                "clipped": false,
            },
        ]),
        "newest first; the totals are whole in their cell"
    );

    // The trace view: the totals in its header, the first call selected.
    assert_eq!(probe["traceTokens"], "1,234 in / 567 out tokens", "{probe}");
    assert!(
        probe["head"]
            .as_str()
            .unwrap()
            .contains("4 spans · 1,234 in / 567 out tokens · trace "),
        "{}",
        probe["head"]
    );
    assert_eq!(probe["selected"], "chat gpt-4o");

    // Its panel: the GenAI block first, then the other attributes only.
    assert_eq!(probe["genaiHeading"], "GenAI");
    assert_eq!(
        probe["genaiFirst"], true,
        "the GenAI block comes before the attributes"
    );
    assert_eq!(
        probe["genai"],
        json!([
            ["operation", "operation", "chat"],
            ["provider", "provider", "openai"],
            ["model", "model", "gpt-4o → gpt-4o-2024-08-06"],
            ["tokens", "tokens", "1,000 in / 200 out tokens"],
            ["finish reasons", "finish reasons", "tool_calls"],
        ]),
        "{probe}"
    );
    assert_eq!(
        probe["attributes"],
        json!(["gen_ai.response.id", "server.address"]),
        "the other attributes, as before, without what the block shows"
    );

    // The waterfall: a token badge on each model call, none on the agent or the tool.
    let rows: Vec<(String, Value, Value)> = probe["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["badge"].clone(),
                r["title"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("invoke_agent planner".to_owned(), Value::Null, Value::Null),
            (
                "chat gpt-4o".to_owned(),
                json!("1,200 tok"),
                json!("1,000 in / 200 out tokens")
            ),
            ("execute_tool search".to_owned(), Value::Null, Value::Null),
            (
                "chat gpt-4o (2)".to_owned(),
                json!("601 tok"),
                json!("234 in / 367 out tokens")
            ),
        ]
    );

    // The agent's block: its operation and name, the name as the text it was sent as.
    let agent = &probe["agent"];
    assert_eq!(agent["selected"], "invoke_agent planner");
    assert_eq!(
        agent["genai"],
        json!([["operation", "invoke_agent"], ["agent", "<b>planner</b>"]]),
        "{agent}"
    );
    assert_eq!(agent["elements"], 0, "no element made of a value: {agent}");
}
