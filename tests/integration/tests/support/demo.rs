//! Running the agent-server demo (`examples/agent_server`) from a test.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The example binary `cargo test` built beside the test's binary.
pub fn example_binary() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().and_then(|d| d.parent()).unwrap();
    let binary = profile.join("examples").join("agent_server");
    assert!(
        binary.exists(),
        "{} is missing: `cargo test` builds the examples before running the tests",
        binary.display()
    );
    binary
}

/// Runs `agent_server --demo` with `env` set, and checks it exits 0.
pub fn run_demo(env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(example_binary());
    command
        .arg("--demo")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "the demo exits 0\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The trace ids the demo printed for its traced requests.
pub fn printed_trace_ids(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split(" trace ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|id| id.len() == 32)
        .map(str::to_owned)
        .collect()
}
