//! The local default exporter: a readable span tree on stderr.
//!
//! Spans reach an exporter children first. The console exporter keeps each trace's spans until
//! its root ends (a span with no parent, or a remote one) and then prints the whole tree:
//! name, duration, status, attributes and events, children indented under their parent.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Attribute values longer than this are shortened in the console view (not in the data).
const MAX_SHOWN_VALUE: usize = 120;

/// Name of the span event a log record becomes on the console, printed as a log line under its
/// span.
pub const LOG_EVENT: &str = "log";
/// Attribute of a console log event: the severity.
pub(crate) const LOG_LEVEL_KEY: &str = "level";
/// Attribute of a console log event: the message.
pub(crate) const LOG_MESSAGE_KEY: &str = "message";
/// Past this many spans waiting for their root, the waiting spans are printed as they are.
const MAX_PENDING_SPANS: usize = 10_000;

/// Prints finished traces as indented trees.
pub struct ConsoleExporter {
    out: Mutex<Box<dyn Write + Send>>,
    pending: Mutex<HashMap<TraceId, Vec<SpanData>>>,
}

impl fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleExporter").finish_non_exhaustive()
    }
}

impl ConsoleExporter {
    /// An exporter printing to stderr.
    pub fn stderr() -> Self {
        Self::to_writer(std::io::stderr())
    }

    /// An exporter printing to `out`.
    pub fn to_writer(out: impl Write + Send + 'static) -> Self {
        Self {
            out: Mutex::new(Box::new(out)),
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn accept(&self, batch: Vec<SpanData>) {
        let mut ready = Vec::new();
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            for span in batch {
                let trace_id = span.span_context.trace_id();
                let is_root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
                pending.entry(trace_id).or_default().push(span);
                if is_root {
                    if let Some(spans) = pending.remove(&trace_id) {
                        ready.push(spans);
                    }
                }
            }
            if pending.values().map(Vec::len).sum::<usize>() > MAX_PENDING_SPANS {
                ready.extend(pending.drain().map(|(_, spans)| spans));
            }
        }
        self.print(ready);
    }

    fn print(&self, traces: Vec<Vec<SpanData>>) {
        if traces.is_empty() {
            return;
        }
        let text: String = traces.iter().map(|spans| render_trace(spans)).collect();
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn flush_pending(&self) {
        let waiting: Vec<_> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.drain().map(|(_, spans)| spans).collect()
        };
        self.print(waiting);
    }
}

impl SpanExporter for ConsoleExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.accept(batch);
        std::future::ready(Ok(()))
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.flush_pending();
        Ok(())
    }
}

/// Renders the spans of one trace as a tree. Spans whose parent is missing are printed as roots.
pub fn render_trace(spans: &[SpanData]) -> String {
    let ids: std::collections::HashSet<SpanId> =
        spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
    let mut roots = Vec::new();
    for span in spans {
        if ids.contains(&span.parent_span_id) && !span.parent_span_is_remote {
            children.entry(span.parent_span_id).or_default().push(span);
        } else {
            roots.push(span);
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|s| s.start_time);
    }
    roots.sort_by_key(|s| s.start_time);
    let trace_id = spans
        .first()
        .map(|s| s.span_context.trace_id())
        .unwrap_or(TraceId::INVALID);
    let mut out = format!("trace {trace_id:032x}\n");
    for (i, root) in roots.iter().enumerate() {
        render_span(&mut out, root, &children, "", i + 1 == roots.len());
    }
    out
}

fn render_span(
    out: &mut String,
    span: &SpanData,
    children: &HashMap<SpanId, Vec<&SpanData>>,
    prefix: &str,
    last: bool,
) {
    let duration = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let branch = if last { "└─ " } else { "├─ " };
    let _ = write!(
        out,
        "{prefix}{branch}{}  {}",
        span.name,
        format_duration(duration)
    );
    match &span.status {
        Status::Unset => {}
        Status::Ok => out.push_str("  OK"),
        Status::Error { description } => {
            let _ = write!(out, "  ERROR {}", shorten(description));
        }
    }
    out.push('\n');
    let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    let kids = children.get(&span.span_context.span_id());
    let detail_prefix = format!(
        "{child_prefix}{}",
        if kids.is_some() { "│  " } else { "   " }
    );
    for kv in span
        .attributes
        .iter()
        .filter(|kv| !kv.key.as_str().starts_with("code."))
    {
        let _ = writeln!(out, "{detail_prefix}{}", format_attribute(kv));
    }
    for event in span.events.iter() {
        if event.name == LOG_EVENT {
            let _ = writeln!(out, "{detail_prefix}{}", log_line(&event.attributes));
            continue;
        }
        let attrs: Vec<String> = event.attributes.iter().map(format_attribute).collect();
        let _ = writeln!(out, "{detail_prefix}! {} {}", event.name, attrs.join(" "));
    }
    if let Some(kids) = kids {
        for (i, kid) in kids.iter().enumerate() {
            render_span(out, kid, children, &child_prefix, i + 1 == kids.len());
        }
    }
}

/// A log record printed under its span: `INFO message  key=value ...`.
fn log_line(attributes: &[KeyValue]) -> String {
    let text = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
            .unwrap_or_default()
    };
    let rest: Vec<String> = attributes
        .iter()
        .filter(|kv| {
            !matches!(kv.key.as_str(), LOG_LEVEL_KEY | LOG_MESSAGE_KEY)
                && !kv.key.as_str().starts_with("instrument.")
        })
        .map(format_attribute)
        .collect();
    let mut line = format!(
        "{} {}",
        text(LOG_LEVEL_KEY),
        shorten(&text(LOG_MESSAGE_KEY))
    );
    if !rest.is_empty() {
        line.push_str("  ");
        line.push_str(&rest.join(" "));
    }
    line
}

fn format_attribute(kv: &KeyValue) -> String {
    let value = match &kv.value {
        Value::String(s) => shorten(s.as_str()),
        other => other.to_string(),
    };
    format!("{}={}", kv.key, value)
}

fn shorten(text: &str) -> String {
    if text.len() <= MAX_SHOWN_VALUE {
        return text.replace('\n', "\\n");
    }
    let cut = crate::capture::floor_char_boundary(text.as_bytes(), MAX_SHOWN_VALUE);
    format!(
        "{}… ({} bytes)",
        text[..cut].replace('\n', "\\n"),
        text.len()
    )
}

fn format_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 1_000 {
        format!("{micros}µs")
    } else if micros < 1_000_000 {
        format!("{:.2}ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{TraceContextExt, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    fn spans() -> Vec<SpanData> {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let tracer = provider.tracer("test");
        tracer.in_span("root", |cx| {
            cx.span()
                .set_attribute(KeyValue::new("parameter.user", "ada"));
            tracer.in_span("child-a", |cx| cx.span().set_status(Status::error("boom")));
            tracer.in_span("child-b", |_| {});
        });
        exporter.get_finished_spans().unwrap()
    }

    #[test]
    fn renders_children_under_their_parent() {
        let text = render_trace(&spans());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("trace "));
        assert!(lines[1].starts_with("└─ root  "), "{text}");
        assert_eq!(lines[2], "   │  parameter.user=ada");
        assert!(
            lines[3].starts_with("   ├─ child-a  ") && lines[3].ends_with("ERROR boom"),
            "{text}"
        );
        assert!(lines[4].starts_with("   └─ child-b  "), "{text}");
    }

    #[test]
    fn log_events_print_as_log_lines_under_their_span() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        provider.tracer("t").in_span("handler", |cx| {
            cx.span().add_event(
                LOG_EVENT,
                vec![
                    KeyValue::new(LOG_LEVEL_KEY, "WARN"),
                    KeyValue::new(LOG_MESSAGE_KEY, "slow storage"),
                    KeyValue::new("instrument.tracing.target", "app"),
                    KeyValue::new("ms", 250),
                ],
            );
        });
        let text = render_trace(&exporter.get_finished_spans().unwrap());
        assert!(text.contains("   WARN slow storage  ms=250"), "{text}");
        assert!(!text.contains("instrument.tracing.target"), "{text}");
    }

    #[test]
    fn prints_a_trace_when_its_root_arrives() {
        #[derive(Clone, Default)]
        struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let shared = Shared::default();
        let exporter = ConsoleExporter::to_writer(shared.clone());
        let mut all = spans();
        let root = all.pop().unwrap();
        exporter.accept(all);
        assert!(shared.0.lock().unwrap().is_empty());
        exporter.accept(vec![root]);
        let text = String::from_utf8(shared.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("child-a") && text.contains("root"), "{text}");
    }

    #[test]
    fn long_values_are_shortened_for_display() {
        assert!(shorten(&"x".repeat(1000)).ends_with("… (1000 bytes)"));
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.50ms");
    }
}
