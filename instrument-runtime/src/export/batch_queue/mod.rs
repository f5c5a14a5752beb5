//! The batch queue between a span's end and its delivery: ended spans gathered in one vector
//! under a lock, and one thread exporting them in batches as soon as a batch is full, every
//! scheduled delay, at a flush and at shutdown.
//!
//! Written here instead of using the SDK's `BatchSpanProcessor` for speed: its channel moves each
//! span's data three times (into the channel, out of it into a batch, and the batch's
//! `split_off` before export), and with its send and receive that was about 1,000 instructions
//! per span on the export side (callgrind, `bash benches/instructions.sh overhead_all`); here a
//! span's data is moved into a vector with room for a batch (from where the collector made it,
//! with the others of its pass: [`BatchQueue::push_all`]), which is exported as it is: a full
//! batch is set aside and a new one started, so that a burst neither grows (and copies) one
//! vector nor is split into batches again on the exporting thread. The behaviour is
//! the SDK processor's: batches of at most the batch size, a flush that exports what is queued
//! and answers within [`FLUSH_WAIT`], a shutdown that exports what is queued and then shuts the
//! exporter down within its timeout, the exporting thread in a telemetry-suppressed context. A
//! panic in the exporter ends the thread, and the flushes and shutdown waiting for it are
//! answered at once, as the SDK's are when its thread is gone.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Longest wait of a flush for the queued spans to be handed to the exporter (the SDK batch
/// processor's).
pub(super) const FLUSH_WAIT: Duration = Duration::from_secs(5);
/// The shortest delay between two exports of a partial batch: a zero delay (`OTEL_BSP_SCHEDULE_DELAY=0`)
/// would have the thread take the lock the ending spans take, in a loop.
const MIN_DELAY: Duration = Duration::from_millis(1);

/// Empty batches the exporting thread keeps ready for the spans that keep ending.
const SPARE_BATCHES: usize = 2;

/// Ended spans waiting for export, and the thread that exports them.
#[derive(Debug)]
pub(super) struct BatchQueue {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the exporting thread: a full batch, a flush, a shutdown, a resource.
    wake: Condvar,
    /// Wakes whoever waits for a flush or shutdown to be done.
    done: Condvar,
    batch_size: usize,
    delay: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// The batch being filled.
    spans: Vec<SpanData>,
    /// Full batches, in order, waiting for the exporting thread.
    full: Vec<Vec<SpanData>>,
    /// Empty batches with room for a batch, made by the exporting thread for the next ones: a
    /// batch is then made and freed where the exports run, not on the thread ending spans (with
    /// glibc's allocator, freeing a large block made on another thread's arena empties that
    /// arena's free lists of small blocks, which the ending spans' attributes then miss).
    spare: Vec<Vec<SpanData>>,
    /// Flushes asked for and flushes done, counted: a flush waits until the second reaches the
    /// number the first had when it asked.
    flushes_asked: u64,
    flushes_done: u64,
    resource: Option<Resource>,
    /// When a shutdown asked for must be done by.
    shutdown: Option<Instant>,
    /// The exporting thread ended (shut down, the queue dropped, or a panic in the exporter).
    stopped: bool,
    /// The queue was dropped without a shutdown: the thread ends without exporting, as the
    /// SDK's does when its channel closes (the spans left are counted as still in flight).
    dropped: bool,
}

impl State {
    /// The batch being filled, a spare one (or a new one with room for `batch_size`) put in its
    /// place.
    fn seal(&mut self, batch_size: usize) -> Vec<SpanData> {
        let next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(batch_size));
        std::mem::replace(&mut self.spans, next)
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BatchQueue {
    /// A queue exporting to `exporter` in batches of at most `batch_size` (at least one), at the
    /// latest `delay` (at least [`MIN_DELAY`]) after the last export; the error when its thread
    /// cannot be started.
    pub(super) fn start<E: SpanExporter + 'static>(
        exporter: E,
        batch_size: usize,
        delay: Duration,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            done: Condvar::new(),
            batch_size: batch_size.max(1),
            delay: delay.max(MIN_DELAY),
        });
        let worker = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("instrument-batch".into())
                .spawn(move || export_batches(&shared, exporter))?
        };
        Ok(Self {
            shared,
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Queues `span`; `false` (and the span dropped) when the queue was shut down.
    pub(super) fn push(&self, span: SpanData) -> bool {
        let mut state = lock(&self.shared);
        if state.shutdown.is_some() || state.stopped {
            return false;
        }
        state.spans.push(span);
        if state.spans.len() >= self.shared.batch_size {
            let full = state.seal(self.shared.batch_size);
            state.full.push(full);
            self.shared.wake.notify_one();
        }
        true
    }

    /// Queues `spans` in order, leaving the vector empty, under one lock: each batch they fill is
    /// set aside for the exporting thread. `false` (the spans left where they are) after a
    /// shutdown.
    pub(super) fn push_all(&self, spans: &mut Vec<SpanData>) -> bool {
        let mut state = lock(&self.shared);
        if state.shutdown.is_some() || state.stopped {
            return false;
        }
        let batch_size = self.shared.batch_size;
        let mut filled = false;
        let mut rest = spans.drain(..);
        while rest.len() > 0 {
            let room = batch_size.saturating_sub(state.spans.len()).max(1);
            state.spans.extend(rest.by_ref().take(room));
            if state.spans.len() >= batch_size {
                let full = state.seal(batch_size);
                state.full.push(full);
                filled = true;
            }
        }
        if filled {
            self.shared.wake.notify_one();
        }
        true
    }

    /// Hands every queued span to the exporter, waiting at most [`FLUSH_WAIT`] for it.
    pub(super) fn force_flush(&self) -> OTelSdkResult {
        let mut state = lock(&self.shared);
        if state.stopped {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        state.flushes_asked += 1;
        let asked = state.flushes_asked;
        self.shared.wake.notify_one();
        let (state, _) = self
            .shared
            .done
            .wait_timeout_while(state, FLUSH_WAIT, |state| {
                state.flushes_done < asked && !state.stopped
            })
            .unwrap_or_else(PoisonError::into_inner);
        if state.flushes_done >= asked {
            Ok(())
        } else if state.stopped {
            Err(OTelSdkError::AlreadyShutdown)
        } else {
            Err(OTelSdkError::Timeout(FLUSH_WAIT))
        }
    }

    /// Exports what is queued, shuts the exporter down and ends the thread, waiting at most
    /// `timeout` for all of it.
    pub(super) fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        let mut state = lock(&self.shared);
        if state.shutdown.is_some() || state.stopped {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        state.shutdown = Some(Instant::now() + timeout);
        self.shared.wake.notify_one();
        let (state, _) = self
            .shared
            .done
            .wait_timeout_while(state, timeout, |state| !state.stopped)
            .unwrap_or_else(PoisonError::into_inner);
        if !state.stopped {
            return Err(OTelSdkError::Timeout(timeout));
        }
        drop(state);
        let worker = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(worker) = worker {
            let _ = worker.join();
        }
        Ok(())
    }

    /// Gives the exporter `resource` before its next export.
    pub(super) fn set_resource(&self, resource: &Resource) {
        lock(&self.shared).resource = Some(resource.clone());
        self.shared.wake.notify_one();
    }
}

impl Drop for BatchQueue {
    fn drop(&mut self) {
        lock(&self.shared).dropped = true;
        self.shared.wake.notify_one();
    }
}

/// What the exporting thread is to do next.
struct Turn {
    /// Batches to export, in order, each at most the batch size.
    batches: Vec<Vec<SpanData>>,
    resource: Option<Resource>,
    flush: Option<u64>,
    shutdown: Option<Instant>,
}

/// Marks the exporting thread stopped when it ends, by returning or by a panic in the exporter,
/// and wakes whoever waits for it.
struct Stopping<'a>(&'a Shared);

impl Drop for Stopping<'_> {
    fn drop(&mut self) {
        lock(self.0).stopped = true;
        self.0.done.notify_all();
    }
}

/// The exporting thread: waits for a full batch, the delay, a flush or the shutdown, and exports
/// what is queued.
fn export_batches<E: SpanExporter>(shared: &Shared, mut exporter: E) {
    let _suppressed = Context::enter_telemetry_suppressed_scope();
    let _stopping = Stopping(shared);
    let mut last_export = Instant::now();
    while let Some(turn) = next_turn(shared, last_export) {
        if let Some(resource) = &turn.resource {
            exporter.set_resource(resource);
        }
        for batch in turn.batches {
            let _ = futures_executor::block_on(exporter.export(batch));
        }
        last_export = Instant::now();
        if let Some(asked) = turn.flush {
            lock(shared).flushes_done = asked;
            shared.done.notify_all();
        }
        if let Some(deadline) = turn.shutdown {
            let _ =
                exporter.shutdown_with_timeout(deadline.saturating_duration_since(Instant::now()));
            return;
        }
    }
}

/// Waits until there is something to do and takes it; `None` when the queue was dropped without
/// a shutdown.
fn next_turn(shared: &Shared, last_export: Instant) -> Option<Turn> {
    let mut state = lock(shared);
    loop {
        if state.dropped && state.shutdown.is_none() {
            return None;
        }
        let asked = state.shutdown.is_some()
            || state.flushes_asked > state.flushes_done
            || state.resource.is_some();
        let left = shared.delay.saturating_sub(last_export.elapsed());
        let due = asked || left.is_zero();
        if due || !state.full.is_empty() {
            let mut batches = std::mem::take(&mut state.full);
            if due && !state.spans.is_empty() {
                batches.push(state.seal(shared.batch_size));
            }
            while state.spare.len() < SPARE_BATCHES {
                state.spare.push(Vec::with_capacity(shared.batch_size));
            }
            let flush = (state.flushes_asked > state.flushes_done).then_some(state.flushes_asked);
            return Some(Turn {
                batches,
                resource: state.resource.take(),
                flush,
                shutdown: state.shutdown,
            });
        }
        state = shared
            .wake
            .wait_timeout(state, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

#[cfg(test)]
mod tests;
