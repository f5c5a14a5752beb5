//! What the store keeps of each span, log record and resource: plain values converted from the
//! OTLP messages once, on arrival, ready to be served as JSON.

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{Span, span, status};
use serde::Serialize;

/// The name of the event the toolkit adds to a span whose children ran one query shape many times.
pub const REPEATED_QUERY_EVENT: &str = "instrument.db.repeated_query";
/// The event the ORM level adds to the parent of lazy loads of one relationship repeated past
/// the threshold (the N+1 named by relationship).
pub const REPEATED_LAZY_LOAD_EVENT: &str = "instrument.db.orm.repeated_lazy_load";

/// The OpenTelemetry GenAI conventions' attribute counting the tokens an operation read.
pub const GEN_AI_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";

/// The OpenTelemetry GenAI conventions' attribute counting the tokens an operation wrote.
pub const GEN_AI_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";

/// An attribute: key and value, the value as display text.
pub type Attribute = (String, String);

/// Heap bytes a string costs: the allocator's chunk (its 8-byte header, 16-byte steps, 32 at
/// least), nothing for an empty one.
pub(crate) fn text_bytes(text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        (text.len() + 8).div_ceil(16).max(2) * 16
    }
}

fn attributes_bytes(attributes: &[Attribute]) -> usize {
    let heap: usize = attributes
        .iter()
        .map(|(k, v)| std::mem::size_of::<Attribute>() + text_bytes(k) + text_bytes(v))
        .sum();
    if heap == 0 { 0 } else { heap + 16 }
}

/// The service and attributes of the process that sent a batch; shared by its spans and logs.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ResourceRecord {
    /// `service.name`, or `unknown_service`.
    pub service: String,
    /// Every resource attribute.
    pub attributes: Vec<Attribute>,
}

impl ResourceRecord {
    /// The record of `resource`.
    pub fn from_proto(resource: Option<&Resource>) -> Arc<Self> {
        let attributes = resource.map_or_else(Vec::new, |r| attributes(&r.attributes));
        let service = attributes
            .iter()
            .find(|(k, _)| k == "service.name")
            .map_or_else(|| "unknown_service".to_owned(), |(_, v)| v.clone());
        Arc::new(Self {
            service,
            attributes,
        })
    }
}

/// An event recorded on a span.
#[derive(Clone, Debug, Serialize)]
pub struct EventRecord {
    /// The event's name.
    pub name: String,
    /// When it happened, in nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

/// A link from a span to another span.
#[derive(Clone, Debug, Serialize)]
pub struct LinkRecord {
    /// The linked span's trace, in hex.
    pub trace_id: String,
    /// The linked span, in hex.
    pub span_id: String,
    /// The link's attributes.
    pub attributes: Vec<Attribute>,
}

/// One span as the store keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct SpanRecord {
    /// The trace, in hex.
    pub trace_id: String,
    /// The span, in hex.
    pub span_id: String,
    /// The parent span in hex; empty for a root.
    pub parent_span_id: String,
    /// The span's name.
    pub name: String,
    /// `internal`, `server`, `client`, `producer`, `consumer` or `unspecified`.
    pub kind: &'static str,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_ns: u64,
    /// End, in nanoseconds since the Unix epoch.
    pub end_ns: u64,
    /// `unset`, `ok` or `error`.
    pub status: &'static str,
    /// The status message, if any.
    pub status_message: String,
    /// The span's attributes.
    pub attributes: Vec<Attribute>,
    /// The span's events.
    pub events: Vec<EventRecord>,
    /// The span's links.
    pub links: Vec<LinkRecord>,
    /// The instrumentation scope's name.
    pub scope: String,
    /// The sending process.
    pub resource: Arc<ResourceRecord>,
}

impl SpanRecord {
    /// The record of `span`, sent by `resource` under `scope`.
    pub fn from_proto(span: Span, scope: &str, resource: &Arc<ResourceRecord>) -> Self {
        let status = span.status.as_ref();
        Self {
            trace_id: hex(&span.trace_id),
            span_id: hex(&span.span_id),
            parent_span_id: hex(&span.parent_span_id),
            kind: match span::SpanKind::try_from(span.kind) {
                Ok(span::SpanKind::Internal) => "internal",
                Ok(span::SpanKind::Server) => "server",
                Ok(span::SpanKind::Client) => "client",
                Ok(span::SpanKind::Producer) => "producer",
                Ok(span::SpanKind::Consumer) => "consumer",
                _ => "unspecified",
            },
            start_ns: span.start_time_unix_nano,
            end_ns: span.end_time_unix_nano.max(span.start_time_unix_nano),
            status: match status.map(|s| status::StatusCode::try_from(s.code)) {
                Some(Ok(status::StatusCode::Error)) => "error",
                Some(Ok(status::StatusCode::Ok)) => "ok",
                _ => "unset",
            },
            status_message: status.map(|s| s.message.clone()).unwrap_or_default(),
            attributes: attributes(&span.attributes),
            events: span
                .events
                .iter()
                .map(|e| EventRecord {
                    name: e.name.clone(),
                    time_ns: e.time_unix_nano,
                    attributes: attributes(&e.attributes),
                })
                .collect(),
            links: span
                .links
                .iter()
                .map(|l| LinkRecord {
                    trace_id: hex(&l.trace_id),
                    span_id: hex(&l.span_id),
                    attributes: attributes(&l.attributes),
                })
                .collect(),
            name: span.name,
            scope: scope.to_owned(),
            resource: Arc::clone(resource),
        }
    }

    /// The heap and inline bytes this record costs (the shared resource not counted).
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + [
                &self.trace_id,
                &self.span_id,
                &self.parent_span_id,
                &self.name,
                &self.status_message,
                &self.scope,
            ]
            .iter()
            .map(|t| text_bytes(t))
            .sum::<usize>()
            + attributes_bytes(&self.attributes)
            + self
                .events
                .iter()
                .map(|e| {
                    std::mem::size_of::<EventRecord>()
                        + text_bytes(&e.name)
                        + attributes_bytes(&e.attributes)
                })
                .sum::<usize>()
            + self
                .links
                .iter()
                .map(|l| std::mem::size_of::<LinkRecord>() + 64 + attributes_bytes(&l.attributes))
                .sum::<usize>()
    }

    /// Whether the span ended in error.
    pub fn is_error(&self) -> bool {
        self.status == "error"
    }

    /// Its `gen_ai.usage.input_tokens` and `gen_ai.usage.output_tokens`, each where set to a
    /// whole number of at least 0 (an integer, or a whole double or string).
    pub fn tokens(&self) -> (Option<u64>, Option<u64>) {
        let mut tokens = (None, None);
        for (key, value) in &self.attributes {
            if key == GEN_AI_INPUT_TOKENS {
                tokens.0 = token_count(value);
            } else if key == GEN_AI_OUTPUT_TOKENS {
                tokens.1 = token_count(value);
            }
        }
        tokens
    }

    /// Whether the toolkit found an N+1 under this span: a repeated statement, or lazy loads of
    /// one relationship.
    pub fn has_repeated_query(&self) -> bool {
        self.events
            .iter()
            .any(|e| e.name == REPEATED_QUERY_EVENT || e.name == REPEATED_LAZY_LOAD_EVENT)
    }
}

/// A token count from its display text: a whole number of at least 0, else none.
fn token_count(text: &str) -> Option<u64> {
    let text = text.trim();
    text.parse::<u64>().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0 && v.fract() == 0.0 && *v < u64::MAX as f64)
            .map(|v| v as u64)
    })
}

/// One log record as the store keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// Arrival order, for paging and links.
    pub seq: u64,
    /// When it happened (or was observed), in nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// The severity number (1–24; 0 unspecified).
    pub severity_number: i32,
    /// The severity text, or one derived from the number.
    pub severity: String,
    /// The body as text.
    pub body: String,
    /// The record's attributes.
    pub attributes: Vec<Attribute>,
    /// The trace it belongs to, in hex; empty outside a trace.
    pub trace_id: String,
    /// The span it belongs to, in hex; empty outside a span.
    pub span_id: String,
    /// The instrumentation scope's name.
    pub scope: String,
    /// The sending process.
    pub resource: Arc<ResourceRecord>,
}

impl LogEntry {
    /// The entry of `record`, sent by `resource` under `scope`.
    pub fn from_proto(
        record: LogRecord,
        seq: u64,
        scope: &str,
        resource: &Arc<ResourceRecord>,
    ) -> Self {
        let severity = if record.severity_text.is_empty() {
            severity_name(record.severity_number).to_owned()
        } else {
            record.severity_text.clone()
        };
        let time_ns = if record.time_unix_nano != 0 {
            record.time_unix_nano
        } else {
            record.observed_time_unix_nano
        };
        Self {
            seq,
            time_ns,
            severity_number: record.severity_number,
            severity,
            body: record.body.as_ref().map(display).unwrap_or_default(),
            attributes: attributes(&record.attributes),
            trace_id: hex(&record.trace_id),
            span_id: hex(&record.span_id),
            scope: scope.to_owned(),
            resource: Arc::clone(resource),
        }
    }

    /// The bytes this entry costs (the shared resource not counted).
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + [
                &self.severity,
                &self.body,
                &self.trace_id,
                &self.span_id,
                &self.scope,
            ]
            .iter()
            .map(|t| text_bytes(t))
            .sum::<usize>()
            + attributes_bytes(&self.attributes)
    }
}

/// The OpenTelemetry name of a severity number's range.
pub fn severity_name(number: i32) -> &'static str {
    match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "UNSPECIFIED",
    }
}

/// Lower-case hex of an id; empty for an empty or all-zero id.
pub fn hex(bytes: &[u8]) -> String {
    if bytes.iter().all(|b| *b == 0) {
        return String::new();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The attributes as key and display text.
pub fn attributes(attributes: &[KeyValue]) -> Vec<Attribute> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(display).unwrap_or_default(),
            )
        })
        .collect()
}

/// A value as display text: strings as they are, arrays and maps in a JSON-like form.
pub fn display(value: &AnyValue) -> String {
    match &value.value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => hex(b),
        Some(Value::StringValueStrindex(index)) => format!("(string #{index})"),
        Some(Value::ArrayValue(array)) => {
            let items: Vec<String> = array.values.iter().map(display).collect();
            format!("[{}]", items.join(", "))
        }
        Some(Value::KvlistValue(list)) => {
            let items: Vec<String> = list
                .values
                .iter()
                .map(|kv| {
                    let value = kv.value.as_ref().map(display).unwrap_or_default();
                    format!("{}: {value}", kv.key)
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};

    fn string(s: &str) -> AnyValue {
        AnyValue {
            value: Some(Value::StringValue(s.into())),
        }
    }

    #[test]
    fn values_display_as_text() {
        let list = AnyValue {
            value: Some(Value::KvlistValue(KeyValueList {
                values: vec![KeyValue {
                    key: "a".into(),
                    value: Some(AnyValue {
                        value: Some(Value::ArrayValue(ArrayValue {
                            values: vec![
                                string("x"),
                                AnyValue {
                                    value: Some(Value::IntValue(2)),
                                },
                            ],
                        })),
                    }),
                    ..Default::default()
                }],
            })),
        };
        assert_eq!(display(&list), "{a: [x, 2]}");
        assert_eq!(display(&string("<b>")), "<b>");
    }

    #[test]
    fn token_counts_are_whole_numbers_of_at_least_zero() {
        for (text, count) in [
            ("1234", Some(1234)),
            (" 7 ", Some(7)),
            ("0", Some(0)),
            ("12.0", Some(12)),
            ("1e3", Some(1000)),
            ("12.5", None),
            ("-3", None),
            ("NaN", None),
            ("inf", None),
            ("[1, 2]", None),
            ("", None),
        ] {
            assert_eq!(token_count(text), count, "{text:?}");
        }
    }

    #[test]
    fn zero_ids_are_empty_and_others_hex() {
        assert_eq!(hex(&[0; 8]), "");
        assert_eq!(hex(&[0, 1, 0xab]), "0001ab");
    }

    #[test]
    fn severity_names_follow_the_ranges() {
        assert_eq!(severity_name(9), "INFO");
        assert_eq!(severity_name(13), "WARN");
        assert_eq!(severity_name(17), "ERROR");
        assert_eq!(severity_name(0), "UNSPECIFIED");
    }
}
