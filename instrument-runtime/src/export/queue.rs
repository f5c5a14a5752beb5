//! What a pipeline holds between a span's end and its export: the queue's bounds, its spans and
//! bytes, and the batches being delivered.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

use super::target::ExportTarget;

/// Spans the batch queue holds before it drops new ones: a burst of 100,000 spans fits whole
/// (a small span takes about 1 KiB, so a full queue about 128 MiB).
pub const DEFAULT_MAX_QUEUE_SIZE: usize = 131_072;
/// Bytes of queued spans (names, attributes, events, estimated) past which new spans are shed,
/// whatever their number: 256 MiB.
pub const MAX_QUEUED_BYTES: usize = 256 << 20;
/// What one pipeline holds between a span's end and its export, and its state.
#[derive(Debug, Default)]
pub(super) struct Pipeline {
    pub(super) spans: AtomicUsize,
    pub(super) bytes: AtomicUsize,
    pub(super) max_queue: usize,
    pub(super) target: Option<ExportTarget>,
    /// Set when telemetry starts shutting down: failed batches are no longer retried.
    pub(super) shutting_down: AtomicBool,
    /// Set by a failed export, cleared by a delivered one.
    pub(super) collector_down: AtomicBool,
    /// Set by the first delivered export.
    pub(super) delivered: AtomicBool,
    /// The batches being delivered.
    pub(super) in_flight: InFlight,
}

impl Pipeline {
    /// Spans queued or in flight.
    pub(super) fn queued_spans(&self) -> usize {
        self.spans.load(Ordering::Relaxed)
    }

    /// Forgets a batch that was delivered or given up.
    pub(super) fn release(&self, spans: usize, bytes: usize) {
        self.spans.fetch_sub(spans, Ordering::Relaxed);
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// An estimate of the memory a queued span holds.
pub(super) fn span_bytes(span: &SpanData) -> usize {
    const FIXED: usize = 512;
    let attributes = |list: &[KeyValue]| -> usize {
        list.iter()
            .map(|kv| {
                kv.key.as_str().len()
                    + match &kv.value {
                        Value::String(s) => s.as_str().len(),
                        _ => 16,
                    }
                    + 32
            })
            .sum()
    };
    FIXED
        + span.name.len()
        + attributes(&span.attributes)
        + span
            .events
            .iter()
            .map(|e| e.name.len() + attributes(&e.attributes) + 64)
            .sum::<usize>()
}

/// The deliveries in flight, for the batch processor to wait for a free one and for flush and
/// shutdown to wait for all.
#[derive(Debug)]
pub(super) struct InFlight {
    limit: usize,
    count: Mutex<usize>,
    changed: Condvar,
}

impl Default for InFlight {
    /// One delivery at a time.
    fn default() -> Self {
        Self::new(1)
    }
}

impl InFlight {
    /// At most `limit` deliveries at once (at least one).
    pub(super) fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            count: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    /// Most deliveries at once.
    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// Waits until fewer deliveries than the limit run, and counts one more.
    pub(super) fn begin(&self) {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        while *count >= self.limit {
            count = self
                .changed
                .wait(count)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *count += 1;
    }

    pub(super) fn end(&self) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.changed.notify_all();
    }

    /// Waits up to `timeout` for every delivery in flight to end; `false` if some still run.
    pub(super) fn wait_idle(&self, timeout: Duration) -> bool {
        let count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, _) = self
            .changed
            .wait_timeout_while(count, timeout, |count| *count > 0)
            .unwrap_or_else(PoisonError::into_inner);
        *count == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[test]
    fn at_most_the_limit_of_deliveries_run_and_waiting_for_idle_sees_them_end() {
        for in_flight in [InFlight::default(), InFlight::new(2)] {
            let in_flight = Arc::new(in_flight);
            for _ in 0..in_flight.limit {
                in_flight.begin();
            }
            assert!(!in_flight.wait_idle(Duration::from_millis(10)));
            let next_started = Arc::new(AtomicUsize::new(0));
            let next = {
                let (in_flight, started) = (in_flight.clone(), next_started.clone());
                std::thread::spawn(move || {
                    in_flight.begin();
                    started.store(1, Ordering::SeqCst);
                    in_flight.end();
                })
            };
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(
                next_started.load(Ordering::SeqCst),
                0,
                "waits for a free delivery"
            );
            in_flight.end();
            next.join().unwrap();
            assert_eq!(next_started.load(Ordering::SeqCst), 1);
            for _ in 1..in_flight.limit {
                in_flight.end();
            }
            assert!(in_flight.wait_idle(Duration::from_secs(5)));
        }
    }
}
