//! The local default exporter: each trace as a waterfall on stderr.
//!
//! Spans reach an exporter children first. The console exporter keeps each trace's spans until
//! its root ends — a span with no parent, or one with a remote parent once every span of the
//! trace waiting here is under it (a call from this process to itself, such as a client span
//! and the server span continuing it, stays one trace) — and then prints the whole tree (see
//! [`render`]). So that one trace prints as one tree, a span still running that is known (a child
//! of it ended) holds the tree until it ends too — for two seconds at most, looked at whenever
//! spans arrive, and never past shutdown; a span that ends after its trace was printed goes
//! under a line naming its parent, in a block marked `(continued)` (see [`assembly`]):
//!
//! ```text
//! trace 4bf92f3577b34da6a3ce929d0e0e4736  45.20ms  (continued)
//! └─ POST /orders (continued)
//!    └─ send_confirmation_email  45.20ms  |████████████████████████████████|
//! ```
//!
//! A log record outside any recorded span prints as a line of its own (see `standalone`).

mod assembly;
pub(crate) mod names;
mod render;
#[cfg(feature = "tracing")]
mod standalone;

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use assembly::{Assembly, Block};
pub use names::LOG_EVENT;
pub use render::render_trace;
#[cfg(any(test, feature = "testing"))]
use render::render_trace_styled;
use render::{Style, render_block};
#[cfg(feature = "tracing")]
pub(crate) use standalone::print_log_line;

/// The spans of one trace as the console tree with ids and times left out (for snapshots).
#[cfg(any(test, feature = "testing"))]
pub(crate) fn render_normalized(spans: &[SpanData]) -> String {
    render_trace_styled(
        spans,
        Style {
            color: false,
            normalized: true,
        },
    )
}

/// Prints finished traces as indented trees.
pub struct ConsoleExporter {
    out: Mutex<Box<dyn Write + Send>>,
    assembly: Mutex<Assembly>,
    style: Style,
}

impl fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleExporter").finish_non_exhaustive()
    }
}

impl ConsoleExporter {
    /// An exporter printing to stderr, in color when stderr is a terminal.
    pub fn stderr() -> Self {
        let color =
            std::io::stderr().is_terminal() && crate::environment::preference("NO_COLOR").is_none();
        Self {
            style: Style {
                color,
                normalized: false,
            },
            ..Self::to_writer(std::io::stderr())
        }
    }

    /// An exporter printing plain text to `out`.
    pub fn to_writer(out: impl Write + Send + 'static) -> Self {
        Self {
            out: Mutex::new(Box::new(out)),
            assembly: Mutex::new(Assembly::default()),
            style: Style::default(),
        }
    }

    fn accept(&self, batch: Vec<SpanData>) {
        self.accept_at(batch, Instant::now());
    }

    /// Takes in `batch` at `now` and prints the blocks that are ready.
    fn accept_at(&self, batch: Vec<SpanData>, now: Instant) {
        let ready = self
            .assembly
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(batch, now);
        self.print(ready);
    }

    fn print(&self, blocks: Vec<Block>) {
        if blocks.is_empty() {
            return;
        }
        let text: String = blocks
            .iter()
            .map(|block| render_block(&block.spans, &block.printed, self.style))
            .collect();
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn flush_pending(&self) {
        let waiting = self
            .assembly
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain();
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

#[cfg(test)]
mod tests {
    use super::names::{LOG_LEVEL_KEY, LOG_MESSAGE_KEY};
    use super::*;
    use opentelemetry::KeyValue;
    use opentelemetry::trace::{
        Span as _, Status, TraceContextExt, Tracer as _, TracerProvider as _,
    };
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
            lines[3].starts_with("   ├─ child-a  ") && lines[3].contains("ERROR boom"),
            "{text}"
        );
        assert!(
            lines[1].ends_with(&format!("|{}|", "█".repeat(32))),
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

    #[test]
    fn prints_a_trace_when_its_root_arrives() {
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

    /// A request whose root `handler` ended while `send_email`, spawned under it, ran on: `load`
    /// and `send_email`'s child `smtp connect` ended before the root; `send_email` after it.
    /// The spans in the order they ended.
    fn spawned_work() -> Vec<SpanData> {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let tracer = provider.tracer("t");
        let root = opentelemetry::Context::new().with_span(tracer.start("handler"));
        tracer.start_with_context("load", &root).end();
        let spawned = root.with_span(tracer.start_with_context("send_email", &root));
        tracer.start_with_context("smtp connect", &spawned).end();
        root.span().end();
        spawned.span().end();
        exporter.get_finished_spans().unwrap()
    }

    fn printed(shared: &Shared) -> String {
        String::from_utf8(shared.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn spawned_work_with_an_ended_child_prints_in_its_trace() {
        let shared = Shared::default();
        let exporter = ConsoleExporter::to_writer(shared.clone());
        let mut spans = spawned_work();
        let spawned = spans.pop().unwrap();
        exporter.accept(spans);
        assert_eq!(
            printed(&shared),
            "",
            "the root ended, send_email is known to run on: held"
        );
        exporter.accept(vec![spawned]);
        let text = printed(&shared);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(text.matches("trace ").count(), 1, "{text}");
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[1].starts_with("└─ handler  "), "{text}");
        assert!(lines[2].starts_with("   ├─ load  "), "{text}");
        assert!(lines[3].starts_with("   └─ send_email  "), "{text}");
        assert!(lines[4].starts_with("      └─ smtp connect  "), "{text}");
    }

    #[test]
    fn a_span_ending_after_its_trace_printed_goes_under_its_parent() {
        let shared = Shared::default();
        let exporter = ConsoleExporter::to_writer(shared.clone());
        let spans = spawned_work();
        let by_name = |name: &str| spans.iter().find(|s| s.name == name).unwrap().clone();
        exporter.accept(vec![by_name("load"), by_name("handler")]);
        let first = printed(&shared);
        assert!(
            first.contains("└─ handler  ") && first.contains("load"),
            "{first}"
        );
        exporter.accept(vec![by_name("smtp connect")]);
        assert_eq!(printed(&shared), first, "smtp connect waits for send_email");
        exporter.accept(vec![by_name("send_email")]);
        let text = printed(&shared);
        let continued: Vec<&str> = text[first.len()..].lines().collect();
        let trace_id = spans[0].span_context.trace_id();
        assert!(
            continued[0].starts_with(&format!("trace {trace_id:032x}  "))
                && continued[0].ends_with("  (continued)"),
            "{text}"
        );
        assert_eq!(continued[1], "└─ handler (continued)", "{text}");
        assert!(continued[2].starts_with("   └─ send_email  "), "{text}");
        assert!(
            continued[3].starts_with("      └─ smtp connect  "),
            "{text}"
        );
        assert_eq!(continued.len(), 4, "{text}");
    }

    #[test]
    fn in_flight_spans_hold_a_trace_for_a_bounded_time() {
        let shared = Shared::default();
        let exporter = ConsoleExporter::to_writer(shared.clone());
        let mut spans = spawned_work();
        spans.pop();
        let start = Instant::now();
        exporter.accept_at(spans, start);
        exporter.accept_at(Vec::new(), start + assembly::GRACE / 2);
        assert_eq!(printed(&shared), "", "within the grace period");
        let mut other = spawned_work();
        other.truncate(1);
        exporter.accept_at(other, start + assembly::GRACE);
        let text = printed(&shared);
        assert!(
            text.contains("─ handler  ") && text.contains("─ smtp connect  "),
            "printed as it is once the grace period is over: {text}"
        );

        let shared = Shared::default();
        let exporter = ConsoleExporter::to_writer(shared.clone());
        let mut spans = spawned_work();
        spans.pop();
        exporter.accept(spans);
        exporter
            .shutdown_with_timeout(Duration::from_secs(1))
            .unwrap();
        assert!(
            printed(&shared).contains("─ handler  "),
            "printed at shutdown"
        );
    }

    #[test]
    fn long_values_are_shortened_for_display() {
        assert!(render::shorten(&"x".repeat(1000)).ends_with("… (1000 bytes)"));
        assert_eq!(
            render::format_duration(Duration::from_micros(1500)),
            "1.50ms"
        );
    }

    #[test]
    fn identical_leaf_siblings_collapse_to_one_line() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let tracer = provider.tracer("t");
        tracer.in_span("step", |cx| {
            for _ in 0..20 {
                tracer.in_span("SELECT messages", |_| {});
            }
            cx.span().add_event("instrument.db.repeated_query", vec![]);
            tracer.in_span("save", |_| {});
        });
        let text = render_trace(&exporter.get_finished_spans().unwrap());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[3].starts_with("   ├─ ×20 SELECT messages  "),
            "{text}"
        );
        assert!(
            lines[3].contains("total ") && lines[3].contains(", max "),
            "{text}"
        );
        assert!(lines[3].contains("repeated query (N+1)"), "{text}");
        assert!(lines[4].starts_with("   └─ save  "), "{text}");
        let columns: Vec<usize> = lines[1..]
            .iter()
            .filter(|l| l.contains('|'))
            .map(|l| l.chars().position(|c| c == '|').unwrap())
            .collect();
        assert!(
            columns.windows(2).all(|w| w[0] == w[1]),
            "bars aligned: {text}"
        );
    }

    #[test]
    fn snapshot_of_an_n_plus_one_and_an_error() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let tracer = provider.tracer("t");
        tracer.in_span("POST /v1/agents/{agent_id}/messages", |cx| {
            for _ in 0..20 {
                tracer.in_span("SELECT messages", |_| {});
            }
            cx.span().add_event(
                "instrument.db.repeated_query",
                vec![KeyValue::new("instrument.db.repeated_query.count", 20)],
            );
            tracer.in_span("call_llm", |cx| {
                cx.span().set_status(Status::error("timed out"));
            });
        });
        assert_eq!(
            render_normalized(&exporter.get_finished_spans().unwrap()),
            "trace 1\n\
             └─ POST /v1/agents/{agent_id}/messages\n\
             \x20  │  ! instrument.db.repeated_query instrument.db.repeated_query.count=20\n\
             \x20  ├─ ×20 SELECT messages  repeated query (N+1)\n\
             \x20  └─ call_llm  ERROR timed out\n"
        );
    }

    #[test]
    fn a_client_call_to_this_process_stays_one_trace() {
        use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let tracer = provider.tracer("t");
        tracer.in_span("handler", |cx| {
            tracer.in_span("SELECT 1", |_| {});
            tracer.in_span("POST", |client| {
                let remote = SpanContext::new(
                    cx.span().span_context().trace_id(),
                    client.span().span_context().span_id(),
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::default(),
                );
                let parent = opentelemetry::Context::new().with_remote_span_context(remote);
                let _server = tracer.start_with_context("POST /v1/chat", &parent);
            });
        });
        let shared = Shared::default();
        let console = ConsoleExporter::to_writer(shared.clone());
        for span in exporter.get_finished_spans().unwrap() {
            console.accept(vec![span]);
        }
        let text = String::from_utf8(shared.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("trace ").count(), 1, "{text}");
        assert!(
            text.contains("      └─ POST /v1/chat"),
            "the server span nests under its client span: {text}"
        );
    }
}
