//! Delivering batches of spans: a batch an OTLP collector fails to take is kept and sent again,
//! with backoff, while the queue has room for the spans that keep arriving, so a collector that
//! is down or restarting loses nothing it could have kept. At shutdown nothing is retried: once
//! the collector has failed, what is left is abandoned at once (counted, with the reason), so
//! shutdown ends on time whatever the collector does.
//!
//! Keeping a batch for another try means copying it before each try (an exporter consumes its
//! batch): about 1,500 instructions per span with the copy's drop. Only the OTLP exporters get
//! it; any other exporter is given each batch once, as the SDK's batch processor gives it, and
//! a failure is counted and reported (an exporter of the user's knows its transport, and
//! sending a batch it partly wrote again could duplicate spans).
//!
//! Batches are delivered on threads kept for it (`workers.rs`) while the batch processor gathers
//! the next; to the OTLP exporters, which send concurrently by design, up to [`OTLP_DELIVERIES`] at once
//! (one at a time left the machine's cores waiting on each other: the copy and conversion, the
//! encoding, the collector's answer); to any other exporter one at a time, as the SDK promises
//! exporters (`export` is never called concurrently on one instance). A flush and a shutdown
//! wait for the deliveries in flight.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::accounting::Accounting;
use super::diagnose::{TransportFailures, is_permanent, likely_cause};
use super::queue::{Pipeline, span_bytes};
use super::stats::ExportCounters;
use super::workers::Workers;

/// The first wait before a failed batch is sent again; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two tries of a batch.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How often a wait looks whether shutdown has begun.
const WAIT_SLICE: Duration = Duration::from_millis(20);
/// Batches delivered at once to an OTLP exporter.
pub(super) const OTLP_DELIVERIES: usize = 2;

/// Sends batches to `inner` (as many at once as the pipeline's [`InFlight`] allows), keeping and
/// retrying failed ones, and counts every span once.
#[derive(Debug)]
pub(super) struct DeliveringExporter<E> {
    delivery: Arc<Delivery<E>>,
    workers: Workers<Vec<SpanData>>,
}

/// What a delivery thread needs: the exporter and the pipeline's counts.
#[derive(Debug)]
struct Delivery<E> {
    inner: E,
    pipeline: Arc<Pipeline>,
    counters: Arc<ExportCounters>,
    transport: Arc<TransportFailures>,
}

impl<E> DeliveringExporter<E> {
    /// Delivers to `inner`, keeping and retrying failed batches when the pipeline has an OTLP
    /// target.
    pub(super) fn new(inner: E, pipeline: Arc<Pipeline>, accounting: &Accounting) -> Self {
        let workers = Workers::new(pipeline.in_flight.limit());
        Self {
            delivery: Arc::new(Delivery {
                inner,
                pipeline,
                counters: accounting.counters.clone(),
                transport: accounting.transport.clone(),
            }),
            workers,
        }
    }
}

impl<E: SpanExporter> Delivery<E> {
    /// Delivers `batch` and forgets it in the queue's counts; a panic in the exporter counts the
    /// batch as refused.
    fn run(&self, batch: Vec<SpanData>) {
        let spans = batch.len();
        let bytes: usize = batch.iter().map(span_bytes).sum();
        let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures_executor::block_on(self.deliver(batch))
        }));
        if delivered.is_err() {
            self.counters.count_refused(spans as u64);
            self.counters.refused(
                self.refused_by(),
                &format!("{spans} spans"),
                &"the exporter panicked",
                None,
            );
        }
        self.pipeline.release(spans, bytes);
    }

    async fn deliver(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len() as u64;
        let mut backoff = FIRST_BACKOFF;
        loop {
            if self.retries()
                && self.shutting_down()
                && self.pipeline.collector_down.load(Ordering::Relaxed)
            {
                self.counters.count_abandoned(count);
                return Err(OTelSdkError::InternalFailure(
                    "abandoned at shutdown: the collector could not be reached".into(),
                ));
            }
            // A copy is kept for another try, except at shutdown, when nothing is tried again,
            // and for an exporter that is given each batch once.
            let attempt = if !self.retries() || self.shutting_down() {
                std::mem::take(&mut batch)
            } else {
                batch.clone()
            };
            let error = match self.inner.export(attempt).await {
                Ok(()) => {
                    self.pipeline.collector_down.store(false, Ordering::Relaxed);
                    self.pipeline.delivered.store(true, Ordering::Relaxed);
                    self.counters.count_exported(count);
                    return Ok(());
                }
                Err(error) => error,
            };
            self.pipeline.collector_down.store(true, Ordering::Relaxed);
            let text = self.transport.full_error_text(&error.to_string());
            let delivered = self.pipeline.delivered.load(Ordering::Relaxed);
            let cause = likely_cause(&text, self.pipeline.target.as_ref(), delivered);
            if !self.retries() || is_permanent(&text) {
                self.counters.count_refused(count);
                self.counters
                    .refused(self.refused_by(), &format!("{count} spans"), &text, cause);
                return Err(error);
            }
            if self.shutting_down() {
                self.counters.count_abandoned(count);
                self.counters.refused(
                    self.refused_by(),
                    &format!("{count} spans at shutdown"),
                    &text,
                    cause,
                );
                return Err(error);
            }
            if self.pipeline.queued_spans() >= self.pipeline.max_queue {
                self.counters.count_refused(count);
                self.counters.refused(
                    self.refused_by(),
                    &format!("{count} spans (the queue is full)"),
                    &text,
                    cause,
                );
                return Err(error);
            }
            self.counters.refused(
                self.refused_by(),
                &format!("{count} spans; keeping them and retrying while the queue has room"),
                &text,
                cause,
            );
            self.wait(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Whether a failed batch is kept and sent again: to an OTLP collector (one with a target).
    fn retries(&self) -> bool {
        self.pipeline.target.is_some()
    }

    /// Who refused a failed batch, as the report names it.
    fn refused_by(&self) -> &'static str {
        if self.retries() {
            "the collector"
        } else {
            "the span exporter"
        }
    }

    fn shutting_down(&self) -> bool {
        self.pipeline.shutting_down.load(Ordering::Relaxed)
    }

    /// Waits `backoff` on the batch thread, ending early when shutdown begins.
    fn wait(&self, backoff: Duration) {
        let until = Instant::now() + backoff;
        while !self.shutting_down() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(WAIT_SLICE));
        }
    }
}

impl<E: SpanExporter + 'static> SpanExporter for DeliveringExporter<E> {
    /// Hands `batch` to a delivery thread once fewer deliveries than the limit run (on this
    /// thread when none can be started); how it went is counted, not returned.
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let in_flight = &self.delivery.pipeline.in_flight;
        in_flight.begin();
        let handed = self.workers.hand(batch, "instrument-export", || {
            let delivery = self.delivery.clone();
            move |batch| {
                delivery.run(batch);
                delivery.pipeline.in_flight.end();
            }
        });
        if let Err(batch) = handed {
            self.delivery.run(batch);
            in_flight.end();
        }
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.delivery.pipeline.in_flight.wait_idle(timeout);
        self.delivery.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.delivery.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        match Arc::get_mut(&mut self.delivery) {
            Some(delivery) => delivery.inner.set_resource(resource),
            None => crate::diagnostics::warn(
                "the span exporter's resource could not be changed once batches were \
                 delivered: spans keep the resource they had",
            ),
        }
    }
}
