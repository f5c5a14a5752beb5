//! Delivering batches of spans: a batch the collector fails to take is kept and sent again, with
//! backoff, while the queue has room for the spans that keep arriving, so a collector that is
//! down or restarting loses nothing it could have kept. At shutdown nothing is retried: once the
//! collector has failed, what is left is abandoned at once (counted, with the reason), so
//! shutdown ends on time whatever the collector does.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::accounting::{
    Pipeline, count_abandoned, count_exported, count_refused, refused, span_bytes,
};
use super::diagnose::{full_error_text, is_permanent, likely_cause};

/// The first wait before a failed batch is sent again; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two tries of a batch.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How often a wait looks whether shutdown has begun.
const WAIT_SLICE: Duration = Duration::from_millis(20);

/// Sends batches to `inner`, keeping and retrying failed ones, and counts every span once.
#[derive(Debug)]
pub(super) struct DeliveringExporter<E> {
    inner: E,
    pipeline: Arc<Pipeline>,
}

impl<E> DeliveringExporter<E> {
    pub(super) fn new(inner: E, pipeline: Arc<Pipeline>) -> Self {
        Self { inner, pipeline }
    }
}

impl<E: SpanExporter> DeliveringExporter<E> {
    async fn deliver(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len() as u64;
        let mut backoff = FIRST_BACKOFF;
        loop {
            if self.shutting_down() && self.pipeline.collector_down.load(Ordering::Relaxed) {
                count_abandoned(count);
                return Err(OTelSdkError::InternalFailure(
                    "abandoned at shutdown: the collector could not be reached".into(),
                ));
            }
            // A copy is kept for another try, except at shutdown, when nothing is tried again.
            let attempt = if self.shutting_down() {
                std::mem::take(&mut batch)
            } else {
                batch.clone()
            };
            let error = match self.inner.export(attempt).await {
                Ok(()) => {
                    self.pipeline.collector_down.store(false, Ordering::Relaxed);
                    self.pipeline.delivered.store(true, Ordering::Relaxed);
                    count_exported(count);
                    return Ok(());
                }
                Err(error) => error,
            };
            self.pipeline.collector_down.store(true, Ordering::Relaxed);
            let text = full_error_text(&error.to_string());
            let delivered = self.pipeline.delivered.load(Ordering::Relaxed);
            let cause = likely_cause(&text, self.pipeline.target.as_ref(), delivered);
            if is_permanent(&text) {
                count_refused(count);
                refused(&format!("{count} spans"), &text, cause);
                return Err(error);
            }
            if self.shutting_down() {
                count_abandoned(count);
                refused(&format!("{count} spans at shutdown"), &text, cause);
                return Err(error);
            }
            if self.pipeline.queued_spans() >= self.pipeline.max_queue {
                count_refused(count);
                refused(&format!("{count} spans (the queue is full)"), &text, cause);
                return Err(error);
            }
            refused(
                &format!("{count} spans; keeping them and retrying while the queue has room"),
                &text,
                cause,
            );
            self.wait(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
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

impl<E: SpanExporter> SpanExporter for DeliveringExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let bytes: usize = batch.iter().map(span_bytes).sum();
        let result = self.deliver(batch).await;
        self.pipeline.release(spans, bytes);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
