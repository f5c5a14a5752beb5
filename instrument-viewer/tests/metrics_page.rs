//! The metrics view in headless Chromium, at a wide and a narrow window: labels (metric names,
//! attribute sets) break only between their parts, never inside a word, and a part too wide for
//! its room is ellipsized with its whole text as its tooltip; a counter and a gauge holding one
//! point each are drawn as charts (a dot, the value, the time), as a longer series is.
//!
//! The page is served with a probe script added (the viewer's own page allows no script but its
//! own): once the view is rendered it measures, in the laid-out page, where every label's lines
//! break, what is clipped and how, and each chart's marks, and writes that to `data-probe` on the
//! body, which `--dump-dom` returns. Skipped, saying so, where no Chromium is found (`$CHROMIUM`,
//! or `chromium` / `chromium-browser` / `google-chrome` on `PATH`).

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use instrument_viewer::{Limits, Store};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric::Data,
    number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::Value;

/// 2023-11-14 22:13:20 UTC, in nanoseconds since the Unix epoch.
const T0: u64 = 1_700_000_000_000_000_000;

/// A metric name long enough not to fit the narrow window's header.
const LONG_NAME: &str = "instrument.db.client.connection_pool.wait_time_before_a_connection_was_handed_out_to_the_caller";

/// Measures the rendered metrics view into `body[data-probe]`.
const PROBE: &str = r#""use strict";
// The line breaks inside the text nodes under `root`: the text from the last character drawn
// before each (with any collapsed white space after it) and the first one drawn after.
function breaks(root) {
  const found = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let previous = null;
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect || rect.width === 0) continue;
      if (previous !== null && rect.top > previous.top + 1) {
        found.push({ before: node.data.slice(previous.index, i), after: node.data[i], text: node.data });
      }
      previous = { top: rect.top, index: i };
    }
  }
  return found;
}
// Every element under `root` (itself included) whose text is wider than its box.
function clipped(root) {
  return [root, ...root.querySelectorAll("*")].filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => ({
    text: e.textContent, title: e.title, textOverflow: getComputedStyle(e).textOverflow,
  }));
}
function label(root) {
  const parts = [...root.querySelectorAll(".label-part")];
  return {
    text: root.textContent,
    breaks: breaks(root),
    clipped: clipped(root),
    lines: new Set(parts.map((p) => Math.round(p.getBoundingClientRect().top))).size,
    styles: [root, ...parts].map((e) => {
      const style = getComputedStyle(e);
      return { wordBreak: style.wordBreak, overflowWrap: style.overflowWrap };
    }),
    parts: parts.map((p) => ({ text: p.textContent, title: p.title })),
  };
}
function chart(svg) {
  const box = svg.getBoundingClientRect();
  return {
    dots: [...svg.querySelectorAll("circle")].filter((c) => {
      const r = c.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
    }).length,
    lines: svg.querySelectorAll("polyline").length,
    texts: [...svg.querySelectorAll("text")].map((t) => t.textContent),
  };
}
function probe() {
  if (document.body.dataset.rendered !== "metrics" || document.body.dataset.probe) return;
  const metrics = [...document.querySelectorAll("[data-metric]")].map((m) => ({
    name: m.dataset.metric,
    header: label(m.querySelector("h3")),
    series: [...m.querySelectorAll(".series")].map((s) => ({
      attrs: label(s.querySelector(".attrs") || s.firstElementChild),
      chart: s.querySelector("svg") ? chart(s.querySelector("svg")) : null,
    })),
  }));
  document.body.dataset.probe = JSON.stringify({ width: window.innerWidth, metrics });
}
new MutationObserver(probe).observe(document.body, { attributes: true, attributeFilter: ["data-rendered"] });
probe();
"#;

/// A string attribute.
fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

/// A number point at `seconds` past [`T0`].
fn point(
    attributes: &[KeyValue],
    seconds: u64,
    value: number_data_point::Value,
) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attributes.to_vec(),
        time_unix_nano: T0 + seconds * 1_000_000_000,
        value: Some(value),
        ..Default::default()
    }
}

/// A cumulative monotonic sum named `name`.
fn counter(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: name.into(),
        unit: "1".into(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: 2,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

/// The metrics the page shows: one-point counter and gauge, a long-labelled three-point counter,
/// a metric with a long name.
fn export() -> ExportMetricsServiceRequest {
    let long_set = [
        attribute("organization.id", "org-1"),
        attribute("http.route", "/v1/agents/{agent_id}/messages"),
        attribute("http.request.method", "POST"),
        attribute("http.response.status_code", "200"),
        attribute("server.address", "agent-server.internal.example.com"),
        attribute(
            "db.query.text",
            "SELECT messages.id, messages.body, messages.created_at FROM messages \
             WHERE messages.agent_id = $1 ORDER BY messages.created_at DESC LIMIT 100",
        ),
    ];
    let org = [attribute("organization.id", "org-1")];
    let metrics = vec![
        counter(
            "one_point_counter",
            vec![point(&org, 0, number_data_point::Value::AsInt(42))],
        ),
        Metric {
            name: "one_point_gauge".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: vec![point(&org, 5, number_data_point::Value::AsDouble(2.5))],
            })),
            ..Default::default()
        },
        counter(
            "http.server.request_count",
            (0..3)
                .map(|i| point(&long_set, i * 10, number_data_point::Value::AsInt(i as i64)))
                .collect(),
        ),
        counter(
            LONG_NAME,
            vec![
                point(&org, 0, number_data_point::Value::AsInt(1)),
                point(&org, 10, number_data_point::Value::AsInt(3)),
            ],
        ),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![attribute("service.name", "agent-server")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The probe's record of metric `name`.
fn metric<'a>(probe: &'a Value, name: &str) -> &'a Value {
    probe["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} shown: {probe}"))
}

/// Every label of `probe` breaks only between parts, at white space or after a separator
/// (`,` `.` `_` `=` `/`), and whatever is
/// clipped is ellipsized with its whole text as its tooltip.
fn check_labels(probe: &Value) {
    let width = &probe["width"];
    for metric in probe["metrics"].as_array().unwrap() {
        let series = metric["series"].as_array().unwrap();
        let labels = std::iter::once(&metric["header"]).chain(series.iter().map(|s| &s["attrs"]));
        for label in labels {
            for line_break in label["breaks"].as_array().unwrap() {
                let before = line_break["before"].as_str().unwrap();
                assert!(
                    before.contains(char::is_whitespace)
                        || before.ends_with([',', '.', '_', '=', '/']),
                    "at {width} px, {:?} breaks inside a word, after {before:?} before {}",
                    line_break["text"],
                    line_break["after"]
                );
            }
            for clipped in label["clipped"].as_array().unwrap() {
                assert_eq!(
                    clipped["textOverflow"], "ellipsis",
                    "at {width} px, clipped text is ellipsized: {clipped}"
                );
                assert_eq!(
                    clipped["title"], clipped["text"],
                    "at {width} px, clipped text has its whole self as its tooltip"
                );
            }
            for style in label["styles"].as_array().unwrap() {
                assert_ne!(style["wordBreak"], "break-all", "{label}");
                assert_eq!(style["overflowWrap"], "normal", "{label}");
            }
        }
    }
}

/// The counter and the gauge of one point each are charts: a dot inside the chart, the value,
/// the time.
fn check_one_point_charts(probe: &Value) {
    for (name, value, time) in [
        ("one_point_counter", "42", "22:13:20"),
        ("one_point_gauge", "2.5", "22:13:25"),
    ] {
        let chart = &metric(probe, name)["series"][0]["chart"];
        assert_eq!(
            chart["dots"], 1,
            "{name}: one dot, drawn inside its chart: {chart}"
        );
        let texts: Vec<&str> = chart["texts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(texts.contains(&value), "{name}: its value: {texts:?}");
        assert!(texts.contains(&time), "{name}: its time: {texts:?}");
    }
    let longer = &metric(probe, "http.server.request_count")["series"][0]["chart"];
    assert_eq!(longer["lines"], 1, "a longer series is a line: {longer}");
    assert_eq!(longer["dots"], 3, "with a dot on each point: {longer}");
    let texts = longer["texts"].as_array().unwrap();
    for expected in ["2", "22:13:20", "22:13:40"] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected} in {texts:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_break_only_between_parts_and_one_point_series_are_charts() {
    let Some(chromium) = support::chromium_or_skip() else {
        return;
    };
    let store = Store::new(Limits::default());
    store.add_metrics(export());
    let (address, server) =
        support::serve_page_with_probe(Arc::clone(&store), PROBE.to_owned()).await;

    let url = format!("http://{address}/probe#metrics");
    let (wide, narrow) = tokio::task::spawn_blocking(move || {
        (
            support::probe_result(&support::dom(&chromium, &url, 1400, "metrics-page")),
            support::probe_result(&support::dom(&chromium, &url, 600, "metrics-page")),
        )
    })
    .await
    .unwrap();
    server.abort();

    for probe in [&wide, &narrow] {
        check_labels(probe);
        check_one_point_charts(probe);
        let set = &metric(probe, "http.server.request_count")["series"][0]["attrs"];
        let parts: Vec<&Value> = set["parts"].as_array().unwrap().iter().collect();
        assert_eq!(parts.len(), 6, "one part per attribute: {set}");
        assert!(
            parts.iter().all(|p| p["title"] == p["text"]),
            "each part's tooltip is its whole text: {set}"
        );
        assert_eq!(parts[1]["text"], "http.request.method=POST", "{set}");
        assert!(
            set["lines"].as_u64().unwrap() > 1,
            "the long set wraps, between attributes: {set}"
        );
        assert!(
            set["clipped"].as_array().unwrap().iter().any(|c| c["text"]
                .as_str()
                .unwrap()
                .starts_with("db.query.text=SELECT")),
            "the query is too long for the column and is ellipsized: {set}"
        );
    }
    let header = &metric(&narrow, LONG_NAME)["header"];
    assert!(
        header["clipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["text"] == LONG_NAME),
        "in a narrow window the long name is ellipsized, whole in its tooltip: {header}"
    );
    assert_eq!(
        metric(&wide, LONG_NAME)["header"]["clipped"],
        serde_json::json!([]),
        "in a wide window it shows whole"
    );
}
