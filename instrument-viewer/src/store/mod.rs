//! The bounded in-memory store: traces (by spans and bytes, the trace that started first evicted
//! first, so what goes is always the end of the newest-first list),
//! log records (by count and the same byte budget) and metric series, with exact counts of what
//! was evicted.

mod metrics;
mod model;
mod query;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use serde::Serialize;

pub use metrics::{HistogramState, MAX_SERIES, MetricEntry, POINTS_PER_SERIES, Series};
pub use model::{
    Attribute, EventRecord, GEN_AI_INPUT_TOKENS, GEN_AI_OUTPUT_TOKENS, LinkRecord, LogEntry,
    REPEATED_QUERY_EVENT, ResourceRecord, SpanRecord, severity_name,
};
pub use query::{LogFilter, TraceDetail, TraceFilter, TraceSummary};

use metrics::MetricStore;

/// How much the store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Spans kept at most.
    pub max_spans: usize,
    /// Bytes of spans and log records kept at most (as the store estimates them).
    pub max_bytes: usize,
    /// Log records kept at most.
    pub max_logs: usize,
}

impl Default for Limits {
    /// 200,000 spans, 100,000 log records, 256 MiB.
    fn default() -> Self {
        Self {
            max_spans: 200_000,
            max_bytes: 256 << 20,
            max_logs: 100_000,
        }
    }
}

/// What the store holds and has let go, as the UI shows it.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Changes with every batch received, so a page knows when to refresh.
    pub generation: u64,
    /// Traces held.
    pub traces: usize,
    /// Spans held.
    pub spans: usize,
    /// Log records held.
    pub logs: usize,
    /// Metric series held.
    pub series: usize,
    /// Bytes held (estimated).
    pub bytes: usize,
    /// Traces evicted (those that started first go first).
    pub evicted_traces: u64,
    /// Spans evicted with their traces.
    pub evicted_spans: u64,
    /// Log records evicted.
    pub evicted_logs: u64,
    /// Metric series refused past the series bound.
    pub refused_series: u64,
    /// The bounds in force.
    pub max_spans: usize,
    /// The bounds in force.
    pub max_bytes: usize,
    /// The bounds in force.
    pub max_logs: usize,
}

/// What a trace costs besides its spans: its map entry and slot (a hash map keeps up to half its
/// slots free), its start-order entry (a B-tree keeps its nodes about half full at worst).
const TRACE_OVERHEAD: usize = 2 * (std::mem::size_of::<String>() + std::mem::size_of::<Trace>())
    + 2 * std::mem::size_of::<(StartKey, String)>();

/// Where a trace sits in the start order: its earliest span start (nanoseconds since the Unix
/// epoch), then its arrival number, which no other trace has, so equal starts keep arrival order.
type StartKey = (u64, u64);

/// One held trace.
pub(crate) struct Trace {
    /// The arrival number of its first span.
    seq: u64,
    /// The earliest start of its spans, in nanoseconds since the Unix epoch.
    start_ns: u64,
    /// Its spans, in arrival order.
    spans: Vec<SpanRecord>,
    /// What it costs, as the store estimates it.
    bytes: usize,
    /// The sum of its spans' `gen_ai.usage.input_tokens`; none if no span has one.
    input_tokens: Option<u64>,
    /// The sum of its spans' `gen_ai.usage.output_tokens`; none if no span has one.
    output_tokens: Option<u64>,
}

impl Trace {
    /// Its place in [`Inner::by_start`].
    fn key(&self) -> StartKey {
        (self.start_ns, self.seq)
    }
}

/// What the store holds, behind its lock.
#[derive(Default)]
pub(crate) struct Inner {
    /// The held traces, by id (hex).
    traces: HashMap<String, Trace>,
    /// Spans held per sending service (the trace list's service filter).
    services: BTreeMap<String, usize>,
    /// Every held trace's id by its [`StartKey`]: the list reads it from the end (newest start
    /// first), eviction takes from the front (earliest start first).
    by_start: BTreeMap<StartKey, String>,
    /// The held log records, in arrival order.
    logs: VecDeque<LogEntry>,
    /// What the held log records cost, as the store estimates it.
    log_bytes: usize,
    /// The metric series.
    metrics: MetricStore,
    /// The next arrival number, for a new trace or log record.
    next_seq: u64,
    /// The counts kept as things arrive and leave.
    stats: Stats,
}

/// The store. Cheap to share: clone the `Arc` it comes in.
pub struct Store {
    /// The bounds it keeps.
    limits: Limits,
    /// What it holds.
    inner: Mutex<Inner>,
}

impl Store {
    /// An empty store with `limits`.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// What it holds, locked (a panic while it was held does not lose it).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the spans of an OTLP trace export.
    pub fn add_traces(&self, request: ExportTraceServiceRequest) {
        let mut records = Vec::new();
        for resource_spans in request.resource_spans {
            let resource = ResourceRecord::from_proto(resource_spans.resource.as_ref());
            for scope_spans in resource_spans.scope_spans {
                let scope = scope_spans.scope.map(|s| s.name).unwrap_or_default();
                records.extend(
                    scope_spans
                        .spans
                        .into_iter()
                        .map(|span| SpanRecord::from_proto(span, &scope, &resource)),
                );
            }
        }
        let mut inner = self.lock();
        for record in records {
            inner.add_span(record);
        }
        inner.evict(&self.limits);
        inner.stats.generation += 1;
    }

    /// Adds the records of an OTLP logs export.
    pub fn add_logs(&self, request: ExportLogsServiceRequest) {
        let mut inner = self.lock();
        for resource_logs in request.resource_logs {
            let resource = ResourceRecord::from_proto(resource_logs.resource.as_ref());
            for scope_logs in resource_logs.scope_logs {
                let scope = scope_logs.scope.map(|s| s.name).unwrap_or_default();
                for record in scope_logs.log_records {
                    let seq = inner.next_seq;
                    inner.next_seq += 1;
                    let entry = LogEntry::from_proto(record, seq, &scope, &resource);
                    inner.log_bytes += entry.bytes();
                    inner.logs.push_back(entry);
                }
            }
        }
        inner.evict(&self.limits);
        inner.stats.generation += 1;
    }

    /// Adds the points of an OTLP metrics export.
    pub fn add_metrics(&self, request: ExportMetricsServiceRequest) {
        let mut inner = self.lock();
        for resource_metrics in request.resource_metrics {
            let resource = ResourceRecord::from_proto(resource_metrics.resource.as_ref());
            for scope_metrics in resource_metrics.scope_metrics {
                for metric in scope_metrics.metrics {
                    inner.metrics.add(&resource.service, metric);
                }
            }
        }
        inner.stats.generation += 1;
    }

    /// What the store holds and has evicted.
    pub fn stats(&self) -> Stats {
        let inner = self.lock();
        Stats {
            traces: inner.traces.len(),
            logs: inner.logs.len(),
            bytes: inner.stats.bytes + inner.log_bytes,
            series: inner.metrics.series(),
            refused_series: inner.metrics.refused_series,
            max_spans: self.limits.max_spans,
            max_bytes: self.limits.max_bytes,
            max_logs: self.limits.max_logs,
            ..inner.stats.clone()
        }
    }

    /// Every metric with its series.
    pub fn metrics(&self) -> Vec<MetricEntry> {
        self.lock().metrics.all().cloned().collect()
    }
}

/// A running token total with one span's count added (none while no span had one).
fn add_tokens(total: Option<u64>, count: Option<u64>) -> Option<u64> {
    match (total, count) {
        (Some(total), Some(count)) => Some(total.saturating_add(count)),
        (total, count) => total.or(count),
    }
}

impl Inner {
    /// Adds `record` to its trace (a new one if its trace is not held) and counts its cost.
    fn add_span(&mut self, record: SpanRecord) {
        // The record's own heap, its slot in the trace's vector (counted by capacity, so the
        // vector's spare room is counted too) and, for a new trace, the trace's entries in the
        // map and the start order.
        let mut bytes = record.bytes() - std::mem::size_of::<SpanRecord>();
        let seq = self.next_seq;
        let trace = self
            .traces
            .entry(record.trace_id.clone())
            .or_insert_with(|| Trace {
                seq,
                start_ns: record.start_ns,
                spans: Vec::new(),
                bytes: 0,
                input_tokens: None,
                output_tokens: None,
            });
        if trace.seq == seq {
            self.next_seq += 1;
            self.by_start.insert(trace.key(), record.trace_id.clone());
            bytes += TRACE_OVERHEAD + 2 * model::text_bytes(&record.trace_id);
        } else if record.start_ns < trace.start_ns {
            // A late span that started earlier moves its trace down the list.
            let id = self
                .by_start
                .remove(&trace.key())
                .expect("every held trace is in the start order");
            trace.start_ns = record.start_ns;
            self.by_start.insert(trace.key(), id);
        }
        let (input, output) = record.tokens();
        trace.input_tokens = add_tokens(trace.input_tokens, input);
        trace.output_tokens = add_tokens(trace.output_tokens, output);
        let capacity = trace.spans.capacity();
        *self
            .services
            .entry(record.resource.service.clone())
            .or_default() += 1;
        trace.spans.push(record);
        bytes += (trace.spans.capacity() - capacity) * std::mem::size_of::<SpanRecord>();
        trace.bytes += bytes;
        self.stats.spans += 1;
        self.stats.bytes += bytes;
    }

    /// Evicts the traces that started first (then the oldest logs) until every bound holds.
    fn evict(&mut self, limits: &Limits) {
        while self.logs.len() > limits.max_logs {
            self.evict_log();
        }
        while self.stats.spans > limits.max_spans
            || self.stats.bytes + self.log_bytes > limits.max_bytes
        {
            if !self.evict_trace() && !self.evict_log() {
                break;
            }
        }
    }

    /// Evicts the trace that started first (the end of the list); false if none is held.
    fn evict_trace(&mut self) -> bool {
        let Some((_, id)) = self.by_start.pop_first() else {
            return false;
        };
        let trace = self
            .traces
            .remove(&id)
            .expect("every id in the start order is held");
        self.stats.spans -= trace.spans.len();
        for span in &trace.spans {
            let service = &span.resource.service;
            if let Some(count) = self.services.get_mut(service) {
                *count -= 1;
                if *count == 0 {
                    self.services.remove(service);
                }
            }
        }
        self.stats.bytes -= trace.bytes;
        self.stats.evicted_traces += 1;
        self.stats.evicted_spans += trace.spans.len() as u64;
        true
    }

    /// Evicts the oldest log record; false if none is held.
    fn evict_log(&mut self) -> bool {
        match self.logs.pop_front() {
            Some(entry) => {
                self.log_bytes -= entry.bytes();
                self.stats.evicted_logs += 1;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests;
