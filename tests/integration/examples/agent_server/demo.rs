//! The scripted requests of `--demo`, sent as a client of the service would, each printed with
//! its status, trace id and body.

use std::net::SocketAddr;

use serde_json::json;

/// One scripted request.
struct Step {
    method: &'static str,
    path: &'static str,
    body: Option<serde_json::Value>,
    what: &'static str,
}

/// Sends the script to the server at `address` and prints what happened.
pub async fn run(address: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let client = reqwest::Client::new();
    let script = [
        Step {
            method: "GET",
            path: "/v1/health",
            body: None,
            what: "health check (not traced)",
        },
        Step {
            method: "GET",
            path: "/v1/agents/agent-1",
            body: None,
            what: "look the agent up",
        },
        Step {
            method: "POST",
            path: "/v1/agents/agent-1/messages",
            body: Some(
                json!({"message": "What is 2+2?", "api_key": "sk-user-secret", "max_tokens": 64}),
            ),
            what: "a message: step, LLM call, calculator tool, second LLM call",
        },
        Step {
            method: "POST",
            path: "/v1/agents/agent-1/messages/stream",
            body: Some(json!({"message": "Tell me a story"})),
            what: "a streamed reply",
        },
        Step {
            method: "GET",
            path: "/v1/agents/agent-404",
            body: None,
            what: "an unknown agent: a 404 whose body carries the trace id",
        },
    ];
    println!("agent server demo on http://{address}");
    for step in script {
        let url = format!("http://{address}{}", step.path);
        let mut request = match step.method {
            "POST" => client.post(&url),
            _ => client.get(&url),
        }
        .header("x-organization-id", "org-1")
        .header("x-agent-id", "agent-1");
        if let Some(body) = &step.body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let trace_id = response
            .headers()
            .get("x-trace-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let body = response.text().await?;
        println!(
            "{} {:<36} {} trace {trace_id}  ({})\n    {}",
            step.method,
            step.path,
            status.as_u16(),
            step.what,
            body.replace("\n\n", " ").trim()
        );
    }
    Ok(())
}
