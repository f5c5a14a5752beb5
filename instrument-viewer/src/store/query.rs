//! Reading the store: the trace list with its filters, one trace with its logs, and the logs
//! view's filters.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{LogEntry, SpanRecord, Store, Trace};

/// The trace list's filters; every one set must match.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TraceFilter {
    /// The root's service, exactly.
    pub service: Option<String>,
    /// Part of any span's name.
    pub name: Option<String>,
    /// `error` (a span ended in error) or `ok` (none did).
    pub status: Option<String>,
    /// The least duration, in milliseconds.
    pub min_ms: Option<f64>,
    /// `key=value`: some span has that attribute with that value.
    pub attr: Option<String>,
    /// The most traces answered, newest start first (default 10,000).
    pub limit: Option<usize>,
}

/// A line of the trace list.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TraceSummary {
    /// The trace, in hex.
    pub trace_id: String,
    /// The root span's service.
    pub service: String,
    /// The root span's name.
    pub root: String,
    /// The earliest start, in nanoseconds since the Unix epoch.
    pub start_ns: u64,
    /// From the earliest start to the latest end, in nanoseconds.
    pub duration_ns: u64,
    /// Spans held.
    pub spans: usize,
    /// Whether a span ended in error.
    pub error: bool,
    /// The sum of its spans' `gen_ai.usage.input_tokens` (OpenTelemetry GenAI conventions);
    /// left out when no span has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// The sum of its spans' `gen_ai.usage.output_tokens`; left out when no span has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
}

/// One trace and the log records that belong to it.
#[derive(Clone, Debug, Serialize)]
pub struct TraceDetail {
    /// The list line.
    pub summary: TraceSummary,
    /// Its spans, by start.
    pub spans: Vec<SpanRecord>,
    /// Its log records, by time.
    pub logs: Vec<LogEntry>,
}

/// The logs view's filters; every one set must match.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogFilter {
    /// The least severity: `trace`, `debug`, `info`, `warn`, `error` or `fatal`.
    pub severity: Option<String>,
    /// Part of the body or of an attribute value, any case.
    pub text: Option<String>,
    /// The trace, in hex.
    pub trace_id: Option<String>,
    /// The most records answered, newest first (default 1,000).
    pub limit: Option<usize>,
}

/// The least severity number of the level `name` (any case); 0 (every record) if unknown.
fn least_severity(name: &str) -> i32 {
    match name.to_ascii_lowercase().as_str() {
        "trace" => 1,
        "debug" => 5,
        "info" => 9,
        "warn" | "warning" => 13,
        "error" => 17,
        "fatal" => 21,
        _ => 0,
    }
}

/// The list line of the trace `id`.
fn summarize(id: &str, trace: &Trace) -> TraceSummary {
    let ids: HashSet<&str> = trace.spans.iter().map(|s| s.span_id.as_str()).collect();
    let root = trace
        .spans
        .iter()
        .filter(|s| !ids.contains(s.parent_span_id.as_str()))
        .min_by_key(|s| s.start_ns)
        .expect("a trace holds at least one span");
    let start = trace.start_ns;
    let end = trace.spans.iter().map(|s| s.end_ns).max().unwrap_or(0);
    TraceSummary {
        trace_id: id.to_owned(),
        service: root.resource.service.clone(),
        root: root.name.clone(),
        start_ns: start,
        duration_ns: end.saturating_sub(start),
        spans: trace.spans.len(),
        error: trace.spans.iter().any(SpanRecord::is_error),
        input_tokens: trace.input_tokens,
        output_tokens: trace.output_tokens,
    }
}

/// Whether the trace passes every filter set.
fn matches(filter: &TraceFilter, trace: &Trace, summary: &TraceSummary) -> bool {
    if filter
        .service
        .as_deref()
        .is_some_and(|s| !s.is_empty() && s != summary.service)
    {
        return false;
    }
    if let Some(name) = filter.name.as_deref().filter(|n| !n.is_empty())
        && !trace.spans.iter().any(|s| s.name.contains(name))
    {
        return false;
    }
    match filter.status.as_deref() {
        Some("error") if !summary.error => return false,
        Some("ok") if summary.error => return false,
        _ => {}
    }
    if filter
        .min_ms
        .is_some_and(|ms| (summary.duration_ns as f64) < ms * 1e6)
    {
        return false;
    }
    if let Some((key, value)) = filter.attr.as_deref().and_then(|a| a.split_once('='))
        && !trace
            .spans
            .iter()
            .any(|s| s.attributes.iter().any(|(k, v)| k == key && v == value))
    {
        return false;
    }
    true
}

impl Store {
    /// The traces `filter` lets through, newest first: by their earliest span start, the latest
    /// first, and of equal starts the one that arrived last first. `limit` answers the newest
    /// that match.
    pub fn traces(&self, filter: &TraceFilter) -> Vec<TraceSummary> {
        let inner = self.lock();
        let limit = filter.limit.unwrap_or(10_000);
        inner
            .by_start
            .values()
            .rev()
            .filter_map(|id| {
                let trace = &inner.traces[id];
                let summary = summarize(id, trace);
                matches(filter, trace, &summary).then_some(summary)
            })
            .take(limit)
            .collect()
    }

    /// The trace `trace_id` (hex) with its logs, if held.
    pub fn trace(&self, trace_id: &str) -> Option<TraceDetail> {
        let inner = self.lock();
        let trace = inner.traces.get(trace_id)?;
        let mut spans = trace.spans.clone();
        spans.sort_by_key(|s| s.start_ns);
        let mut logs: Vec<LogEntry> = inner
            .logs
            .iter()
            .filter(|l| l.trace_id == trace_id)
            .cloned()
            .collect();
        logs.sort_by_key(|l| l.time_ns);
        Some(TraceDetail {
            summary: summarize(trace_id, trace),
            spans,
            logs,
        })
    }

    /// The log records `filter` lets through, newest first.
    pub fn logs(&self, filter: &LogFilter) -> Vec<LogEntry> {
        let inner = self.lock();
        let least = filter.severity.as_deref().map_or(0, least_severity);
        let text = filter.text.as_deref().map(str::to_lowercase);
        let limit = filter.limit.unwrap_or(1_000);
        inner
            .logs
            .iter()
            .rev()
            .filter(|l| l.severity_number >= least)
            .filter(|l| {
                filter
                    .trace_id
                    .as_deref()
                    .is_none_or(|t| t.is_empty() || t == l.trace_id)
            })
            .filter(|l| {
                text.as_deref().is_none_or(|t| {
                    l.body.to_lowercase().contains(t)
                        || l.attributes
                            .iter()
                            .any(|(_, v)| v.to_lowercase().contains(t))
                })
            })
            .take(limit)
            .cloned()
            .collect()
    }

    /// The services whose spans are held, sorted.
    pub fn services(&self) -> Vec<String> {
        self.lock().services.keys().cloned().collect()
    }
}
