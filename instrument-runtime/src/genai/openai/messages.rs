//! OpenAI chat messages in the conventions' shape (`gen_ai.input.messages`,
//! `gen_ai.output.messages`): each message a `role` and its `parts` — `text` with `content`,
//! `tool_call` with `id`, `name` and `arguments`, `tool_call_response` with `id` and `result`.

use serde_json::{Map, Value, json};

/// The request's `messages` as input messages.
pub(super) fn input_messages(messages: &[Value]) -> Value {
    Value::Array(messages.iter().map(input_message).collect())
}

fn input_message(message: &Value) -> Value {
    let role = message["role"].as_str().unwrap_or("user");
    let mut parts = Vec::new();
    if role == "tool" {
        parts.push(json!({
            "type": "tool_call_response",
            "id": message["tool_call_id"],
            "result": message["content"],
        }));
    } else {
        text_parts(&message["content"], &mut parts);
        tool_call_parts(&message["tool_calls"], &mut parts);
    }
    let mut shaped = Map::new();
    shaped.insert("role".into(), Value::from(role));
    shaped.insert("parts".into(), Value::Array(parts));
    if let Some(name) = message["name"].as_str() {
        shaped.insert("name".into(), Value::from(name));
    }
    Value::Object(shaped)
}

/// A reply's message (`role`, `content`, `tool_calls`) and finish reason as an output message.
pub(super) fn output_message(message: &Value, finish_reason: Option<&str>) -> Value {
    let mut parts = Vec::new();
    text_parts(&message["content"], &mut parts);
    tool_call_parts(&message["tool_calls"], &mut parts);
    json!({
        "role": message["role"].as_str().unwrap_or("assistant"),
        "parts": parts,
        "finish_reason": finish_reason,
    })
}

/// `content` as text parts: a string, or the `text` entries of a list of content parts.
fn text_parts(content: &Value, parts: &mut Vec<Value>) {
    match content {
        Value::String(text) => parts.push(json!({"type": "text", "content": text})),
        Value::Array(items) => parts.extend(
            items
                .iter()
                .filter_map(|item| item["text"].as_str())
                .map(|text| json!({"type": "text", "content": text})),
        ),
        _ => {}
    }
}

/// `tool_calls` as tool-call parts, the arguments as JSON when they parse.
fn tool_call_parts(tool_calls: &Value, parts: &mut Vec<Value>) {
    let Some(calls) = tool_calls.as_array() else {
        return;
    };
    for call in calls {
        let function = &call["function"];
        let arguments = match function["arguments"].as_str() {
            Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::from(text)),
            None => function["arguments"].clone(),
        };
        parts.push(json!({
            "type": "tool_call",
            "id": call["id"],
            "name": function["name"],
            "arguments": arguments,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_messages_take_the_conventions_shape() {
        let messages = [
            json!({"role": "system", "content": "You add numbers."}),
            json!({"role": "user", "content": [{"type": "text", "text": "2+2?"}]}),
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": "call-1", "type": "function",
                "function": {"name": "calculator", "arguments": "{\"a\":2,\"b\":2}"}
            }]}),
            json!({"role": "tool", "tool_call_id": "call-1", "content": "4"}),
        ];
        assert_eq!(
            input_messages(&messages),
            json!([
                {"role": "system", "parts": [{"type": "text", "content": "You add numbers."}]},
                {"role": "user", "parts": [{"type": "text", "content": "2+2?"}]},
                {"role": "assistant", "parts": [{
                    "type": "tool_call", "id": "call-1", "name": "calculator",
                    "arguments": {"a": 2, "b": 2}
                }]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call-1", "result": "4"}]},
            ])
        );
        assert_eq!(
            output_message(&json!({"role": "assistant", "content": "4"}), Some("stop")),
            json!({"role": "assistant", "parts": [{"type": "text", "content": "4"}], "finish_reason": "stop"})
        );
    }
}
