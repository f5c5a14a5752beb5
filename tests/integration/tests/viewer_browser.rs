//! The viewer's page in headless Chromium, fed by the agent-server demo: the trace list shows the
//! demo's requests, a trace opens as a waterfall nested server → manager → step → LLM client →
//! fake LLM server, with the database spans under the manager; the logs view shows the demo's
//! log lines; the metrics view draws the histograms; a hostile span name renders as text. A
//! screenshot of the trace view is kept at `target/viewer/trace-view.png`.

#[path = "support/demo.rs"]
mod demo;
#[allow(dead_code)]
#[path = "support/missing.rs"]
mod missing;

#[path = "support/browser.rs"]
mod browser;

use std::net::SocketAddr;

use browser::{Browser, chromium};
use demo::{printed_trace_ids, run_demo};
use instrument_viewer::{Viewer, ViewerConfig};
use serde_json::json;

const HOSTILE: &str = "<script>window.pwned=1</script><img src=x onerror=alert(1)>";

/// `(depth, name)` of every waterfall row, in order.
fn rows(dom: &str) -> Vec<(usize, String)> {
    dom.split("data-depth=\"")
        .skip(1)
        .map(|rest| {
            let depth = rest[..rest.find('"').unwrap()].parse().unwrap();
            let name = rest.split("data-name=\"").nth(1).unwrap();
            (depth, name[..name.find('"').unwrap()].to_owned())
        })
        .collect()
}

/// The depth of the first row named `name` after row `from`.
fn depth_of(rows: &[(usize, String)], name: &str) -> usize {
    rows.iter()
        .find(|(_, n)| n == name)
        .unwrap_or_else(|| panic!("{name} in the waterfall: {rows:?}"))
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_demo_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        missing::skip_unless_ci(
            "no chromium on PATH (set CHROMIUM, or install Debian's chromium; .ci/run does)",
        );
        return;
    };
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let viewer = Viewer::start(ViewerConfig {
        grpc: any,
        http: any,
        ui: any,
        ..ViewerConfig::default()
    })
    .await
    .unwrap();
    let endpoint = format!("http://{}", viewer.grpc_address());
    let ids = tokio::task::spawn_blocking(move || {
        printed_trace_ids(&run_demo(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_SERVICE_NAME", "agent-server"),
        ]))
    })
    .await
    .unwrap();
    let hostile = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "00000000000000000000000000c0ffee",
        "spanId": "00000000000000aa",
        "name": HOSTILE,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000000001000",
        "attributes": [{"key": "payload", "value": {"stringValue": HOSTILE}}]
    }]}]}]});
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/traces", viewer.http_address()))
        .json(&hostile)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let message = viewer
        .store()
        .traces(&Default::default())
        .into_iter()
        .find(|t| t.root == "POST /v1/agents/{agent_id}/messages")
        .expect("the demo's message trace");
    let step = viewer
        .store()
        .trace(&message.trace_id)
        .expect("held")
        .spans
        .into_iter()
        .find(|s| s.name == "AgentManager.call_llm")
        .expect("the LLM call's span")
        .span_id;
    let ui = viewer.ui_address();

    let pages = tokio::task::spawn_blocking(move || {
        let browser = Browser::new(chromium);
        let list = browser.dom(&format!("http://{ui}/#traces"));
        let trace = browser.dom(&format!("http://{ui}/#trace/{}", message.trace_id));
        let logs = browser.dom(&format!("http://{ui}/#logs"));
        let metrics = browser.dom(&format!("http://{ui}/#metrics"));
        let hostile = browser.dom(&format!(
            "http://{ui}/#trace/00000000000000000000000000c0ffee"
        ));
        let shots = std::env::current_exe().unwrap();
        let shots = shots.ancestors().nth(3).unwrap().join("viewer");
        std::fs::create_dir_all(&shots).unwrap();
        let selected = browser.dom(&format!(
            "http://{ui}/#trace/{}?span={step}",
            message.trace_id
        ));
        browser.screenshot(
            &format!("http://{ui}/#trace/{}?span={step}", message.trace_id),
            &shots.join("trace-view.png"),
        );
        [list, trace, logs, metrics, hostile, selected]
    })
    .await
    .unwrap();
    let [list, trace, logs, metrics, hostile_page, selected] = pages;
    assert!(
        selected.contains("id=\"detail-name\">AgentManager.call_llm<"),
        "a span named in the address opens with its details"
    );
    assert!(
        selected.contains("code.function"),
        "its attributes are shown"
    );

    assert!(list.contains("data-rendered=\"traces\""), "{list}");
    for id in &ids {
        assert!(
            list.contains(&format!("data-trace-id=\"{id}\"")),
            "{id} listed"
        );
    }
    assert!(list.contains("POST /v1/agents/{agent_id}/messages"));

    assert!(trace.contains("data-rendered=\"trace\""), "{trace}");
    let rows = rows(&trace);
    assert_eq!(
        rows[0],
        (0, "POST /v1/agents/{agent_id}/messages".to_owned())
    );
    let manager = depth_of(&rows, "AgentManager.send_message");
    assert_eq!(manager, 1);
    assert_eq!(depth_of(&rows, "AgentManager.step"), manager + 1);
    assert_eq!(
        depth_of(&rows, "invoke_agent support"),
        manager + 2,
        "the GenAI agent span"
    );
    assert_eq!(depth_of(&rows, "AgentManager.call_llm"), manager + 3);
    assert_eq!(
        depth_of(&rows, "chat gpt-4o-mini"),
        manager + 4,
        "the model call"
    );
    assert_eq!(depth_of(&rows, "POST"), manager + 5, "the LLM client span");
    assert_eq!(
        depth_of(&rows, "POST /v1/chat/completions"),
        manager + 6,
        "the fake server's span"
    );
    assert_eq!(
        depth_of(&rows, "SELECT messages"),
        manager + 1,
        "the N+1 under the manager"
    );
    assert!(
        trace.contains("N+1"),
        "the repeated-query finding is marked"
    );

    assert!(logs.contains("data-rendered=\"logs\""), "{logs}");
    assert!(logs.contains("message received"), "the demo's log line");

    assert!(
        metrics.contains("data-metric=\"hist_step_execution_time_ms\""),
        "{metrics}"
    );
    assert!(metrics.contains("<svg"), "drawn as SVG");
    assert!(metrics.contains("p95"));

    for page in [&list, &hostile_page] {
        assert!(
            page.contains(
                "&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
            ),
            "the hostile name is text"
        );
        assert!(
            !page.contains("<script>window.pwned"),
            "no script was injected"
        );
        assert!(!page.contains("<img src=\"x\""), "no element was injected");
    }
    assert!(hostile_page.contains("data-rendered=\"trace\""));
}
