//! The original `otel` package's agent metrics, declared with `#[derive(Metrics)]` and recorded
//! by a simulated agent loop: `cargo run --example agent_metrics`.
//!
//! With no collector configured, the summary of every instrument is printed on stderr when the
//! telemetry guard drops.

use std::time::{Duration, Instant};

use instrument::metrics::{Counter, Histogram};
use instrument::{KeyValue, Metrics, context, metric, trace_method};

/// The agent metrics of the original registry, under their original names.
#[derive(Metrics)]
#[metrics(scope = "agent")]
struct AgentMetrics {
    /// Time spent in LLM calls, in milliseconds.
    #[metric(name = "hist_llm_execution_time_ms", unit = "ms")]
    llm_execution_time: Histogram<f64>,
    /// Time spent executing tools, in milliseconds.
    #[metric(name = "hist_tool_execution_time_ms", unit = "ms")]
    tool_execution_time: Histogram<f64>,
    /// Time spent in one agent step, in milliseconds.
    #[metric(name = "hist_step_execution_time_ms", unit = "ms")]
    step_execution_time: Histogram<f64>,
    /// Time to first token of a streamed reply, in milliseconds.
    #[metric(name = "hist_ttft_ms", unit = "ms", buckets = [50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0])]
    ttft: Histogram<f64>,
    /// Number of user messages received.
    #[metric(name = "count_user_message", unit = "1")]
    user_messages: Counter<u64>,
    /// Number of tool executions.
    #[metric(name = "count_tool_execution", unit = "1")]
    tool_executions: Counter<u64>,
    /// Output tokens per message.
    #[metric(name = "hist_message_output_tokens", unit = "1")]
    message_output_tokens: Histogram<u64>,
    /// Cost of a message, in US dollars.
    #[metric(name = "hist_message_cost_usd", unit = "USD")]
    message_cost: Histogram<f64>,
}

fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1_000.0
}

#[trace_method]
async fn call_llm(model: &str, prompt_tokens: u64) -> u64 {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(3)).await;
    AgentMetrics::global().ttft.record(
        elapsed_ms(started) * 40.0,
        &[KeyValue::new("model", model.to_owned())],
    );
    tokio::time::sleep(Duration::from_millis(2)).await;
    let metrics = AgentMetrics::global();
    let attributes = [KeyValue::new("model", model.to_owned())];
    metrics
        .llm_execution_time
        .record(elapsed_ms(started), &attributes);
    let output_tokens = prompt_tokens / 3 + 17;
    metrics
        .message_output_tokens
        .record(output_tokens, &attributes);
    metrics
        .message_cost
        .record(output_tokens as f64 * 0.000_002, &attributes);
    output_tokens
}

#[trace_method]
#[metric(histogram = "hist_tool_call_ms", counter = "count_tool_call")]
async fn run_tool(tool: &str) -> Result<String, String> {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let metrics = AgentMetrics::global();
    let attributes = [KeyValue::new("tool.name", tool.to_owned())];
    metrics.tool_executions.add(1, &attributes);
    metrics
        .tool_execution_time
        .record(elapsed_ms(started), &attributes);
    if tool == "flaky_search" {
        Err("search backend timed out".to_owned())
    } else {
        Ok(format!("{tool} ok"))
    }
}

#[trace_method]
async fn step(agent_id: &str, user_message: &str) -> u64 {
    let started = Instant::now();
    AgentMetrics::global().user_messages.add(1, &[]);
    let tokens = call_llm("gpt-4o-mini", user_message.len() as u64 * 4).await;
    let _ = run_tool("web_search").await;
    let _ = run_tool("flaky_search").await;
    AgentMetrics::global().step_execution_time.record(
        elapsed_ms(started),
        &[KeyValue::new("agent.id", agent_id.to_owned())],
    );
    tokens
}

#[tokio::main]
async fn main() {
    let _telemetry = instrument::Telemetry::builder()
        .service_name("agent_metrics")
        .install()
        .unwrap_or_else(|error| {
            eprintln!("telemetry off: {error}");
            instrument::TelemetryGuard::inert()
        });
    for (agent, message) in [
        ("agent-1", "What is the weather in Paris?"),
        ("agent-2", "Summarize my notes"),
    ] {
        let tokens = context::scope([KeyValue::new("agent.id", agent)], step(agent, message)).await;
        println!("{agent}: {tokens} output tokens");
    }
}
