//! Where the toolkit's own spans go when they end: a buffer per thread, emptied by one collector
//! thread into the provider's processors (accounting, tail sampling, the batch queue). Ending a
//! span costs the calling thread an uncontended lock and a push, not the processors' work; the
//! collector runs every [`COLLECT_INTERVAL`], as soon as a buffer holds [`WAKE_AT`] spans, and
//! on every flush and shutdown. A buffer holds at most [`MAX_BUFFERED`] spans; past that, a thread
//! making spans faster than the collector takes them hands its buffer to the processors itself,
//! as the collector would (the batch queue's bounds and accounting then apply, as for any span).
//!
//! The collector gives the emptied records back to the thread that made them (at most
//! [`SPARE_RECORDS`] waiting in its buffer, as many again in the thread's hands), so that a thread
//! making spans reuses its own records instead of allocating one per span that another thread
//! frees.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::Thread;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::{SpanData, SpanLimits};

use super::sampling::HeadSampler;

use super::SCOPE_NAME;
use super::clock::Anchor;
use super::ended_spans::{EndedSpanSink, deliver_all};
use super::span_record::SpanRecord;

/// How often the collector empties the threads' buffers when none fills up.
pub(crate) const COLLECT_INTERVAL: Duration = Duration::from_millis(50);
/// Spans in one thread's buffer at which the collector is woken.
pub(crate) const WAKE_AT: usize = 1_024;
/// Most spans one thread's buffer holds; past it the thread hands its spans over itself. Bounds
/// the records a burst keeps alive to about 1 MiB per thread.
pub(crate) const MAX_BUFFERED: usize = 2_048;
/// Most emptied records waiting in one thread's buffer to be used again.
pub(crate) const SPARE_RECORDS: usize = 2_048;

/// What the toolkit's own spans need from the installed provider: its sampler and span limits,
/// the tracer's scope, and its processors, to hand each span to once it ended.
#[derive(Debug)]
pub(crate) struct RecordSink {
    pub(crate) processor: Box<dyn EndedSpanSink>,
    pub(crate) sampler: HeadSampler,
    pub(crate) limits: SpanLimits,
    pub(crate) scope: InstrumentationScope,
    id: u64,
    /// Spans are handed over on the thread that ended them (a simple processor's promise).
    on_ending_thread: bool,
    closed: AtomicBool,
    buffers: Mutex<Vec<Arc<ThreadBuffer>>>,
    /// Held while a drain hands spans over, so that a flush returns only after the spans the
    /// collector took meanwhile reached the processors.
    ///
    /// Its vector is where a drain makes the spans' data before handing them over, kept from one
    /// drain to the next (a large block freed each time would cost every small allocation
    /// after it: glibc then empties its fast free lists).
    draining: Mutex<Vec<SpanData>>,
    collector: OnceLock<Thread>,
}

/// Records, boxed on purpose: a record is large, and the span that made it holds it boxed, so
/// it moves between a span, a buffer and the collector as a pointer instead of being copied.
type Records = Vec<Box<SpanRecord>>;

/// One thread's ended spans, waiting for the collector, and the emptied records it gave back.
#[derive(Debug, Default)]
struct ThreadBuffer {
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    ended: Records,
    spare: Records,
    /// The buffer of ended spans the collector emptied last, with its room: the next drain
    /// puts it in place of `ended`, so that pushing a span does not grow the buffer once a
    /// thread's bursts have been seen (a grown buffer is copied, and the allocator consolidated
    /// its free chunks on the calling thread: ~85 instructions per span, averaged, in the
    /// `overhead` bench). At most two buffers of [`MAX_BUFFERED`] pointers per thread.
    emptied: Records,
}

impl Slots {
    /// The ended spans, the emptied buffer put in their place (so the next spans do not grow
    /// a new one).
    fn take_ended(&mut self) -> Records {
        let emptied = std::mem::take(&mut self.emptied);
        std::mem::replace(&mut self.ended, emptied)
    }
}

/// Moves the emptied records of `spans` into `spare`, up to [`SPARE_RECORDS`] in it, and returns
/// the emptied vector, its room kept for a buffer.
fn keep_records(spare: &mut Records, mut spans: Records) -> Records {
    let room = SPARE_RECORDS.saturating_sub(spare.len());
    spans.truncate(room);
    spare.append(&mut spans);
    spans
}

/// What became of a span handed to the calling thread's buffer.
enum Pushed {
    /// Buffered; the collector is to be woken.
    Buffered { wake: bool },
    /// The buffer was full: the thread is to hand its spans over itself.
    Full,
}

/// The calling thread's buffer, the sink it belongs to, and the emptied records it took back.
struct LocalBuffer {
    sink_id: u64,
    buffer: Arc<ThreadBuffer>,
    spare: Records,
}

thread_local! {
    static LOCAL: RefCell<Option<LocalBuffer>> = const { RefCell::new(None) };
    /// The calling thread is handing spans over in a drain: a processor that asks for another
    /// (reading the export counts, flushing) gets the drain already under way, not a deadlock.
    static DRAINING_HERE: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as draining until dropped.
struct DrainingHere;

impl DrainingHere {
    /// `None` when the calling thread is draining already (and then no guard is made: dropping
    /// one would clear the mark of the drain under way).
    fn enter() -> Option<Self> {
        let nested = DRAINING_HERE
            .try_with(|here| here.replace(true))
            .unwrap_or(true);
        if nested { None } else { Some(Self) }
    }
}

impl Drop for DrainingHere {
    fn drop(&mut self) {
        let _ = DRAINING_HERE.try_with(|here| here.set(false));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RecordSink {
    /// A sink handing spans to `processor` (whose resource is set already): on the ending
    /// thread when `on_ending_thread`, else through the threads' buffers and a collector thread.
    pub(crate) fn start(
        processor: Box<dyn EndedSpanSink>,
        sampler: HeadSampler,
        limits: SpanLimits,
        on_ending_thread: bool,
    ) -> Arc<Self> {
        let sink = Arc::new(Self {
            processor,
            sampler,
            limits,
            scope: InstrumentationScope::builder(SCOPE_NAME).build(),
            id: super::pipeline::unique_number(),
            on_ending_thread,
            closed: AtomicBool::new(false),
            buffers: Mutex::new(Vec::new()),
            draining: Mutex::new(Vec::new()),
            collector: OnceLock::new(),
        });
        if !on_ending_thread {
            let weak = Arc::downgrade(&sink);
            match std::thread::Builder::new()
                .name("instrument-collector".into())
                .spawn(move || collect(weak))
            {
                Ok(handle) => {
                    let _ = sink.collector.set(handle.thread().clone());
                }
                Err(error) => crate::diagnostics::warn(&format!(
                    "cannot start the span collector thread ({error}): spans are handed over \
                     as they end"
                )),
            }
        }
        sink
    }

    /// A record to start, in a box: one the calling thread made before and the collector gave
    /// back, or a new one.
    pub(crate) fn record(&self) -> Box<SpanRecord> {
        LOCAL
            .try_with(|local| match &mut *local.borrow_mut() {
                Some(local) if local.sink_id == self.id => local.spare.pop(),
                _ => None,
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| Box::new(SpanRecord::blank()))
    }

    /// Hands an ended span over: into the calling thread's buffer, or straight to the
    /// processors (on the ending thread, or when the thread is exiting or has no collector).
    /// When the buffer is full, the thread hands its buffered spans over itself, in order, this
    /// one after them, and keeps their emptied records.
    pub(crate) fn hand_over(&self, mut span: Box<SpanRecord>) {
        if self.on_ending_thread || self.collector.get().is_none() {
            self.deliver(&mut span, &Anchor::now());
            return;
        }
        let mut span = Some(span);
        let pushed = LOCAL.try_with(|local| {
            let mut local = local.borrow_mut();
            let local = match &mut *local {
                Some(current) if current.sink_id == self.id => current,
                other => other.insert(self.register()),
            };
            let mut slots = lock(&local.buffer.slots);
            if slots.ended.len() >= MAX_BUFFERED {
                return Pushed::Full;
            }
            if let Some(span) = span.take() {
                slots.ended.push(span);
            }
            if local.spare.is_empty() {
                std::mem::swap(&mut local.spare, &mut slots.spare);
            }
            Pushed::Buffered {
                wake: slots.ended.len() == WAKE_AT,
            }
        });
        match pushed {
            Ok(Pushed::Buffered { wake: true }) => self.wake(),
            Ok(Pushed::Buffered { wake: false }) => {}
            Ok(Pushed::Full) => {
                if let Some(span) = span {
                    self.hand_over_full(span);
                }
            }
            // The thread is exiting: its buffer is gone.
            Err(_) => {
                if let Some(mut span) = span {
                    self.deliver(&mut span, &Anchor::now());
                }
            }
        }
    }

    /// Hands the calling thread's buffered spans and `span` after them to the processors, in
    /// order, as a drain does (a flush or shutdown waits for them, and a drain under way delivers
    /// the thread's earlier spans first), and gives the emptied records back to the thread, the
    /// vector's room to its buffer. Inside a drain on this thread (a processor ending a span),
    /// `span` alone is handed over.
    fn hand_over_full(&self, mut span: Box<SpanRecord>) {
        let anchor = Anchor::now();
        let Some(_here) = DrainingHere::enter() else {
            self.deliver(&mut span, &anchor);
            return;
        };
        let mut staged = lock(&self.draining);
        let mut spans = LOCAL
            .try_with(|local| match &mut *local.borrow_mut() {
                Some(local) if local.sink_id == self.id => lock(&local.buffer.slots).take_ended(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        spans.push(span);
        self.deliver_records(&mut staged, &mut spans, &anchor);
        let _ = LOCAL.try_with(|local| {
            if let Some(local) = &mut *local.borrow_mut()
                && local.sink_id == self.id
            {
                let emptied = keep_records(&mut local.spare, spans);
                let mut slots = lock(&local.buffer.slots);
                if slots.emptied.capacity() < emptied.capacity() {
                    slots.emptied = emptied;
                }
            }
        });
    }

    /// A new buffer for the calling thread, known to the collector.
    fn register(&self) -> LocalBuffer {
        let buffer = Arc::new(ThreadBuffer::default());
        lock(&self.buffers).push(buffer.clone());
        LocalBuffer {
            sink_id: self.id,
            buffer,
            spare: Vec::new(),
        }
    }

    fn wake(&self) {
        if let Some(collector) = self.collector.get() {
            collector.unpark();
        }
    }

    /// Hands every buffered span to the processors, in the order each thread ended them, gives
    /// the emptied records back to their threads, and forgets the buffers of threads that exited.
    /// Called again from inside a drain (by a processor), it returns at once.
    pub(crate) fn drain(&self) {
        let Some(_here) = DrainingHere::enter() else {
            return;
        };
        let mut staged = lock(&self.draining);
        let mut taken: Vec<(Option<Arc<ThreadBuffer>>, Records)> = Vec::new();
        lock(&self.buffers).retain(|buffer| {
            let alive = Arc::strong_count(buffer) > 1;
            let mut slots = lock(&buffer.slots);
            if !slots.ended.is_empty() {
                taken.push((alive.then(|| buffer.clone()), slots.take_ended()));
            }
            alive
        });
        let anchor = Anchor::now();
        for (buffer, mut spans) in taken {
            self.deliver_records(&mut staged, &mut spans, &anchor);
            if let Some(buffer) = buffer {
                let mut slots = lock(&buffer.slots);
                slots.emptied = keep_records(&mut slots.spare, spans);
            }
        }
    }

    /// Hands ended spans to the processors together (see [`deliver_all`]), made into span data in
    /// `staged`, the drain lock's vector.
    fn deliver_records(
        &self,
        staged: &mut Vec<SpanData>,
        spans: &mut [Box<SpanRecord>],
        anchor: &Anchor,
    ) {
        deliver_all(&*self.processor, staged, spans, &self.scope, anchor);
    }

    /// Hands one ended span to the processors, leaving its record empty; its times are made
    /// wall-clock times against `anchor`.
    fn deliver(&self, span: &mut SpanRecord, anchor: &Anchor) {
        self.processor
            .on_end(span.take_span_data(self.scope.clone(), anchor));
    }

    /// Hands the buffered spans over and marks the processors shut down: spans ending later are
    /// dropped, as the SDK drops spans of a provider that was shut down.
    pub(crate) fn close(&self) {
        self.drain();
        self.closed.store(true, Ordering::Release);
        self.wake();
    }

    /// Whether the processors were shut down.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// The collector thread: empties the buffers until the sink closes or goes away.
fn collect(sink: Weak<RecordSink>) {
    loop {
        std::thread::park_timeout(COLLECT_INTERVAL);
        let Some(sink) = sink.upgrade() else {
            return;
        };
        if sink.is_closed() {
            return;
        }
        sink.drain();
    }
}

#[cfg(test)]
mod tests;
