//! Quickstart: `cargo run --example quickstart`.
//!
//! With no `OTEL_EXPORTER_OTLP_ENDPOINT` set, the span tree is printed on stderr. Set the
//! endpoint (and `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` for port 4317) to send the same spans to a
//! collector instead.

use std::fmt;

use instrument::{KeyValue, context, metric, trace_method};
use serde::Serialize;

#[derive(Serialize, Clone)]
struct Message {
    id: String,
    text: String,
}

#[derive(Debug)]
struct ToolError(String);

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tool `{}` is not installed", self.0)
    }
}

struct Agent {
    name: String,
}

impl Agent {
    /// `messages` is on the default exclusion list: recorded as its type and ids only.
    /// `#[metric]` times each step into a histogram.
    #[trace_method]
    #[metric(histogram = "hist_step_execution_time_ms")]
    async fn step(&self, user_id: &str, messages: &[Message]) -> Result<String, ToolError> {
        let summary = summarize(&messages[0].text);
        let _ = self.call_tool("search").await;
        self.call_tool("calculator").await?;
        Ok(format!("{} answered {user_id}: {summary}", self.name))
    }

    #[trace_method]
    async fn call_tool(&self, tool: &str) -> Result<u32, ToolError> {
        tokio::task::yield_now().await;
        if tool == "calculator" {
            return Err(ToolError(tool.to_owned()));
        }
        Ok(42)
    }
}

/// A synchronous child span; its long argument is cut with a marker past `max_value_bytes`.
#[trace_method]
fn summarize(text: &str) -> usize {
    text.split_whitespace().count()
}

#[tokio::main]
async fn main() {
    let mut limits = instrument::capture::CaptureConfig::default();
    limits.max_value_bytes = 64;
    let _telemetry = instrument::Telemetry::builder()
        .service_name("quickstart")
        .service_version(env!("CARGO_PKG_VERSION"))
        .config(limits)
        .install()
        .unwrap_or_else(|error| {
            eprintln!("telemetry off: {error}");
            instrument::TelemetryGuard::inert()
        });

    let agent = Agent { name: "ada".into() };
    let messages: Vec<Message> = (1..=8)
        .map(|i| Message {
            id: format!("msg-{i}"),
            text: "the quick brown fox jumps over the lazy dog ".repeat(4),
        })
        .collect();
    // Every span and metric recorded inside the scope carries `organization.id`.
    let scoped = context::scope(
        [KeyValue::new("organization.id", "org-42")],
        agent.step("user-7", &messages),
    );
    match scoped.await {
        Ok(reply) => println!("reply: {reply}"),
        Err(error) => println!("step failed: {error}"),
    }
    println!(
        "(the span tree and a metrics summary are printed on stderr when the telemetry guard drops)"
    );
}
