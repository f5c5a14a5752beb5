//! One trace as a waterfall: a tree of spans, each line aligned with its duration and a bar on
//! the trace's shared time axis; attributes, events and log lines under their span; runs of
//! identical siblings (an N+1: the same leaf, or the same subtree such as a lazy load and its
//! statement) collapsed to one line; the toolkit's findings printed in words.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

use super::names::{LOG_EVENT, LOG_LEVEL_KEY, LOG_MESSAGE_KEY};

/// Attribute values longer than this are shortened in the console view (not in the data).
const MAX_SHOWN_VALUE: usize = 120;
/// Characters of the time axis.
const BAR_WIDTH: usize = 32;
/// Identical leaf siblings in a row from which they print as one line.
const COLLAPSE_FROM: usize = 3;
/// The event the repeated-query detection adds to the parent of an N+1.
const REPEATED_QUERY_EVENT: &str = "instrument.db.repeated_query";
/// The event the ORM level adds to the parent of lazy loads repeated past the threshold.
const REPEATED_LAZY_LOAD_EVENT: &str = "instrument.db.orm.repeated_lazy_load";
/// How a relation load loaded.
const LOADER_TYPE_KEY: &str = "db.orm.loader.type";
/// The attribute of an ORM finding that says it in words.
const FINDING_KEY: &str = "instrument.db.orm.finding";

/// How the text is decorated: ANSI colors when it goes to a terminal.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Style {
    pub color: bool,
    /// Ids and times left out, so the text is the same on every run.
    pub normalized: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// One printed span line before alignment, and the lines under it.
struct Row {
    head: String,
    duration: String,
    status: String,
    error: bool,
    bar: String,
    details: Vec<String>,
}

/// The trace's time window, for the bars.
struct Axis {
    start: SystemTime,
    total: Duration,
}

impl Axis {
    fn bar(&self, start: SystemTime, end: SystemTime) -> String {
        let at = |t: SystemTime| {
            t.duration_since(self.start)
                .unwrap_or_default()
                .as_secs_f64()
        };
        let total = self.total.as_secs_f64().max(f64::MIN_POSITIVE);
        let from = ((at(start) / total) * BAR_WIDTH as f64).floor() as usize;
        let to = ((at(end) / total) * BAR_WIDTH as f64).ceil() as usize;
        let from = from.min(BAR_WIDTH - 1);
        let to = to.clamp(from + 1, BAR_WIDTH);
        format!(
            "|{}{}{}|",
            " ".repeat(from),
            "█".repeat(to - from),
            " ".repeat(BAR_WIDTH - to)
        )
    }
}

/// Renders the spans of one trace as a waterfall. Spans whose parent is missing are printed as
/// roots; a span whose remote parent is among `spans` is printed under it.
pub fn render_trace(spans: &[SpanData]) -> String {
    render_trace_styled(spans, Style::default())
}

/// [`render_trace`] with `style`.
pub(crate) fn render_trace_styled(spans: &[SpanData], style: Style) -> String {
    render_block(spans, &HashMap::new(), style)
}

/// Renders spans of a trace, with `style`. A span whose parent is not among `spans` but named in
/// `printed` (a span of the trace printed before) goes under a line `<parent> (continued)`, and
/// the block is headed `(continued)`; with `printed` empty this is the whole trace's waterfall.
pub(crate) fn render_block(
    spans: &[SpanData],
    printed: &HashMap<SpanId, Cow<'static, str>>,
    style: Style,
) -> String {
    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
    let mut tops: Vec<Top<'_>> = Vec::new();
    for span in spans {
        // A remote parent present here is a call from this process to itself: nest it.
        if ids.contains(&span.parent_span_id) {
            children.entry(span.parent_span_id).or_default().push(span);
        } else if let Some(name) = printed.get(&span.parent_span_id) {
            children.entry(span.parent_span_id).or_default().push(span);
            if !tops
                .iter()
                .any(|top| matches!(top, Top::Continued(id, _) if *id == span.parent_span_id))
            {
                tops.push(Top::Continued(span.parent_span_id, name));
            }
        } else {
            tops.push(Top::Span(span));
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|s| s.start_time);
    }
    tops.sort_by_key(|top| top.start(&children));
    let start = spans.iter().map(|s| s.start_time).min();
    let end = spans.iter().map(|s| s.end_time).max();
    let (Some(start), Some(end)) = (start, end) else {
        return String::new();
    };
    let axis = Axis {
        start,
        total: end.duration_since(start).unwrap_or_default(),
    };
    let trace_id = spans
        .first()
        .map(|s| s.span_context.trace_id())
        .unwrap_or(TraceId::INVALID);
    let mut rows = Vec::new();
    for (i, top) in tops.iter().enumerate() {
        let last = i + 1 == tops.len();
        match top {
            Top::Span(root) => rows_of(&mut rows, root, &children, &axis, "", last),
            Top::Continued(id, name) => {
                continued_rows(&mut rows, name, &children[id], &children, &axis, last);
            }
        }
    }
    let continued = if printed.is_empty() {
        ""
    } else {
        "  (continued)"
    };
    let width = rows
        .iter()
        .map(|r| r.head.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let duration_width = rows.iter().map(|r| r.duration.len()).max().unwrap_or(0);
    let status_width = rows.iter().map(|r| r.status.len()).max().unwrap_or(0);
    if style.normalized {
        let mut out = format!("trace 1{continued}\n");
        for row in rows {
            out.push_str(&row.head);
            if !row.status.is_empty() {
                out.push_str("  ");
                out.push_str(&row.status);
            }
            out.push('\n');
            for detail in row.details {
                out.push_str(&detail);
                out.push('\n');
            }
        }
        return out;
    }
    let mut out = format!(
        "trace {trace_id:032x}  {}{continued}\n",
        format_duration(axis.total)
    );
    for row in rows {
        if row.bar.is_empty() {
            let _ = writeln!(out, "{}", row.head);
            continue;
        }
        let pad = width - row.head.chars().count();
        let status = format!("{:<status_width$}", row.status);
        let status = if row.error {
            style.paint("31", &status)
        } else {
            status
        };
        let _ = writeln!(
            out,
            "{}{}{:>duration_width$}  {}  {}",
            row.head,
            " ".repeat(pad),
            row.duration,
            status,
            style.paint("36", &row.bar)
        );
        for detail in row.details {
            let _ = writeln!(out, "{detail}");
        }
    }
    out
}

/// What a block's tree starts from: a span, or a span printed before (its id and name) that
/// spans of this block continue.
enum Top<'a> {
    Span(&'a SpanData),
    Continued(SpanId, &'a Cow<'static, str>),
}

impl Top<'_> {
    /// When the top's first span started, to order the tops.
    fn start(&self, children: &HashMap<SpanId, Vec<&SpanData>>) -> Option<SystemTime> {
        match self {
            Top::Span(span) => Some(span.start_time),
            Top::Continued(id, _) => children
                .get(id)
                .and_then(|kids| kids.first())
                .map(|s| s.start_time),
        }
    }
}

/// The line naming a span printed before, `<name> (continued)`, and the spans under it.
fn continued_rows(
    rows: &mut Vec<Row>,
    name: &str,
    kids: &[&SpanData],
    children: &HashMap<SpanId, Vec<&SpanData>>,
    axis: &Axis,
    last: bool,
) {
    let branch = if last { "└─ " } else { "├─ " };
    rows.push(Row {
        head: format!("{branch}{name} (continued)"),
        duration: String::new(),
        status: String::new(),
        error: false,
        bar: String::new(),
        details: Vec::new(),
    });
    let prefix = if last { "   " } else { "│  " };
    child_rows(rows, kids, children, axis, prefix, false);
}

fn rows_of(
    rows: &mut Vec<Row>,
    span: &SpanData,
    children: &HashMap<SpanId, Vec<&SpanData>>,
    axis: &Axis,
    prefix: &str,
    last: bool,
) {
    let branch = if last { "└─ " } else { "├─ " };
    let duration = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let kids = children.get(&span.span_context.span_id());
    let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    let detail_prefix = format!(
        "{child_prefix}{}",
        if kids.is_some() { "│  " } else { "   " }
    );
    let (status, error) = status_text(&span.status);
    rows.push(Row {
        head: format!("{prefix}{branch}{}", span.name),
        duration: format_duration(duration),
        status: [kind_text(&span.span_kind), status]
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
        error,
        bar: axis.bar(span.start_time, span.end_time),
        details: details(span, &detail_prefix),
    });
    let Some(kids) = kids else {
        return;
    };
    let repeated = span
        .events
        .iter()
        .any(|e| e.name == REPEATED_QUERY_EVENT || e.name == REPEATED_LAZY_LOAD_EVENT);
    child_rows(rows, kids, children, axis, &child_prefix, repeated);
}

/// What makes two siblings identical for collapsing: the names of the span and of its
/// descendants, in order, and how a relation load loaded (a lazy load and a select-in load of one
/// relationship share a name).
fn subtree_shape(span: &SpanData, children: &HashMap<SpanId, Vec<&SpanData>>) -> String {
    let mut shape = span.name.to_string();
    if let Some(loader) = span
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == LOADER_TYPE_KEY)
    {
        let _ = write!(shape, "[{}]", loader.value);
    }
    if let Some(kids) = children.get(&span.span_context.span_id()) {
        shape.push('(');
        for kid in kids {
            shape.push_str(&subtree_shape(kid, children));
            shape.push(',');
        }
        shape.push(')');
    }
    shape
}

/// The rows of `kids`, siblings in start order under `prefix`; runs of identical siblings (the
/// same leaf, or the same subtree) collapse to one line (marked as an N+1 when `repeated`).
fn child_rows(
    rows: &mut Vec<Row>,
    kids: &[&SpanData],
    children: &HashMap<SpanId, Vec<&SpanData>>,
    axis: &Axis,
    prefix: &str,
    repeated: bool,
) {
    let mut i = 0;
    while i < kids.len() {
        let shape = subtree_shape(kids[i], children);
        let run = kids[i..]
            .iter()
            .take_while(|k| k.name == kids[i].name && subtree_shape(k, children) == shape)
            .count()
            .max(1);
        let is_last = i + run == kids.len();
        if run >= COLLAPSE_FROM {
            let each = children
                .get(&kids[i].span_context.span_id())
                .map(|under| under.iter().map(|s| s.name.as_ref()).collect::<Vec<_>>());
            rows.push(collapsed(
                &kids[i..i + run],
                each.as_deref(),
                axis,
                prefix,
                is_last,
                repeated,
            ));
        } else {
            for (j, kid) in kids[i..i + run].iter().enumerate() {
                let kid_last = i + j + 1 == kids.len();
                rows_of(rows, kid, children, axis, prefix, kid_last);
            }
        }
        i += run;
    }
}

/// One line for a run of identical siblings: `×20 SELECT messages  total 4.1ms, max 0.4ms`,
/// `×12 load agent.messages (each: SELECT messages)  ...` for subtrees (`each` names the
/// children of one).
fn collapsed(
    run: &[&SpanData],
    each: Option<&[&str]>,
    axis: &Axis,
    prefix: &str,
    last: bool,
    repeated: bool,
) -> Row {
    let branch = if last { "└─ " } else { "├─ " };
    let durations: Vec<Duration> = run
        .iter()
        .map(|s| s.end_time.duration_since(s.start_time).unwrap_or_default())
        .collect();
    let total: Duration = durations.iter().sum();
    let max = durations.iter().max().copied().unwrap_or_default();
    let errors = run
        .iter()
        .filter(|s| matches!(s.status, Status::Error { .. }))
        .count();
    let start = run.iter().map(|s| s.start_time).min().unwrap_or(axis.start);
    let end = run.iter().map(|s| s.end_time).max().unwrap_or(axis.start);
    let mut status = if errors > 0 {
        format!("{errors} ERROR")
    } else {
        String::new()
    };
    if repeated {
        let lazy = run[0]
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == LOADER_TYPE_KEY && kv.value.as_str() == "lazy");
        let finding = if lazy {
            "N+1 lazy loading"
        } else {
            "repeated query (N+1)"
        };
        status = [status.as_str(), finding]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
    }
    Row {
        head: match each {
            Some(each) => format!(
                "{prefix}{branch}×{} {} (each: {})",
                run.len(),
                run[0].name,
                each.join(", ")
            ),
            None => format!("{prefix}{branch}×{} {}", run.len(), run[0].name),
        },
        duration: format!(
            "total {}, max {}",
            format_duration(total),
            format_duration(max)
        ),
        status,
        error: errors > 0,
        bar: axis.bar(start, end),
        details: Vec::new(),
    }
}

/// The lines under a span: attributes (but `code.*`), events and log lines.
fn details(span: &SpanData, prefix: &str) -> Vec<String> {
    let mut lines: Vec<String> = span
        .attributes
        .iter()
        .filter(|kv| !kv.key.as_str().starts_with("code."))
        .map(|kv| format!("{prefix}{}", format_attribute(kv)))
        .collect();
    for event in span.events.iter() {
        if event.name == LOG_EVENT {
            lines.push(format!("{prefix}{}", log_line(&event.attributes)));
            continue;
        }
        if let Some(finding) = event
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == FINDING_KEY)
        {
            lines.push(format!("{prefix}! {}", finding.value));
            continue;
        }
        let attrs: Vec<String> = event.attributes.iter().map(format_attribute).collect();
        lines.push(format!("{prefix}! {} {}", event.name, attrs.join(" ")));
    }
    lines
}

fn status_text(status: &Status) -> (String, bool) {
    match status {
        Status::Unset => (String::new(), false),
        Status::Ok => ("OK".into(), false),
        Status::Error { description } => (format!("ERROR {}", shorten(description)), true),
    }
}

fn kind_text(kind: &SpanKind) -> String {
    match kind {
        SpanKind::Server => "SERVER",
        SpanKind::Client => "CLIENT",
        SpanKind::Producer => "PRODUCER",
        SpanKind::Consumer => "CONSUMER",
        SpanKind::Internal => "",
    }
    .to_owned()
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
    let rest = attributes.iter().filter(|kv| {
        !matches!(kv.key.as_str(), LOG_LEVEL_KEY | LOG_MESSAGE_KEY)
            && !kv.key.as_str().starts_with("instrument.")
    });
    format!(
        "{} {}",
        text(LOG_LEVEL_KEY),
        message_text(&text(LOG_MESSAGE_KEY), rest)
    )
}

/// A log record's message, shortened, and its attributes: `message  key=value ...` (the part a
/// log line under a span and a log line of its own share).
pub(super) fn message_text<'a>(
    message: &str,
    attributes: impl Iterator<Item = &'a KeyValue>,
) -> String {
    let rest: Vec<String> = attributes.map(format_attribute).collect();
    let mut text = shorten(message);
    if !rest.is_empty() {
        text.push_str("  ");
        text.push_str(&rest.join(" "));
    }
    text
}

fn format_attribute(kv: &KeyValue) -> String {
    let value = match &kv.value {
        Value::String(s) => shorten(s.as_str()),
        other => other.to_string(),
    };
    format!("{}={}", kv.key, value)
}

pub(super) fn shorten(text: &str) -> String {
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

pub(super) fn format_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 1_000 {
        format!("{micros}µs")
    } else if micros < 1_000_000 {
        format!("{:.2}ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}
