//! What the `#[metric]` expansion calls: time a call and record it into a histogram and/or a
//! counter, with `function`, `module`, `result` and the request context attributes.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use opentelemetry::metrics::{BoundCounter, BoundHistogram, Counter, Histogram, Meter};
use opentelemetry::{Context, KeyValue};
use pin_project_lite::pin_project;

use super::GlobalInstruments;
use crate::call_name::CallName;
use crate::context::current_attributes;
use crate::span::Outcome;
use crate::state::SCOPE_NAME;

/// Attribute naming the timed function.
pub const FUNCTION_KEY: &str = "function";
/// Attribute naming the timed function's module.
pub const MODULE_KEY: &str = "module";
/// Attribute saying how the call ended: `ok`, `error` or `cancelled`.
pub const RESULT_KEY: &str = "result";

/// Call-site metadata of a `#[metric]` function. Built in a `static` by the macro.
pub struct MetricMeta {
    name: CallName,
    module: &'static str,
    histogram: Option<&'static str>,
    counter: Option<&'static str>,
    unit: &'static str,
    description: &'static str,
    counter_description: &'static str,
    buckets: &'static [f64],
    instruments: GlobalInstruments<TimedInstruments>,
}

impl std::fmt::Debug for MetricMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricMeta")
            .field("histogram", &self.histogram)
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

/// The instruments of one call site.
struct TimedInstruments {
    histogram: Option<Histogram<f64>>,
    counter: Option<Counter<u64>>,
    /// The instruments bound to `function`, `module` and each `result` (none, `ok`, `error`),
    /// made on first use: a call with a fixed name and no context attributes records through
    /// them, without the per-call attribute lookup.
    bound: [OnceLock<BoundInstruments>; 3],
}

struct BoundInstruments {
    histogram: Option<BoundHistogram<f64>>,
    counter: Option<BoundCounter<u64>>,
}

/// The bound-instrument slot of a result, if it has one.
fn bound_slot(result: Option<&'static str>) -> Option<usize> {
    match result {
        None => Some(0),
        Some("ok") => Some(1),
        Some("error") => Some(2),
        Some(_) => None,
    }
}

/// What a `#[metric]` records, as the macro validated it.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    /// Histogram of durations in milliseconds, if any.
    pub histogram: Option<&'static str>,
    /// Counter of calls, if any.
    pub counter: Option<&'static str>,
    /// Unit of the histogram.
    pub unit: &'static str,
    /// Description of the histogram.
    pub description: &'static str,
    /// Description of the counter.
    pub counter_description: &'static str,
    /// Explicit histogram bucket boundaries; empty for the SDK's defaults.
    pub buckets: &'static [f64],
}

impl MetricMeta {
    /// Metadata of a function whose name is known at compile time.
    pub const fn new(name: &'static str, module: &'static str, spec: MetricSpec) -> Self {
        Self::with_name(CallName::fixed(name, name), module, spec)
    }

    /// Metadata of a method named after its `Self` type at run time.
    pub const fn method_of_self(
        method: &'static str,
        module: &'static str,
        spec: MetricSpec,
    ) -> Self {
        Self::with_name(CallName::of_self(method, None), module, spec)
    }

    const fn with_name(name: CallName, module: &'static str, spec: MetricSpec) -> Self {
        Self {
            name,
            module,
            histogram: spec.histogram,
            counter: spec.counter,
            unit: spec.unit,
            description: spec.description,
            counter_description: spec.counter_description,
            buckets: spec.buckets,
            instruments: GlobalInstruments::new(),
        }
    }

    fn make_instruments(&self, meter: &Meter) -> TimedInstruments {
        TimedInstruments {
            histogram: self.histogram.map(|name| {
                let builder = meter
                    .f64_histogram(name)
                    .with_unit(self.unit)
                    .with_description(self.description);
                if self.buckets.is_empty() {
                    builder.build()
                } else {
                    builder.with_boundaries(self.buckets.to_vec()).build()
                }
            }),
            counter: self.counter.map(|name| {
                meter
                    .u64_counter(name)
                    .with_unit("1")
                    .with_description(self.counter_description)
                    .build()
            }),
            bound: Default::default(),
        }
    }
}

impl TimedInstruments {
    fn bind(&self, attributes: &[KeyValue]) -> BoundInstruments {
        BoundInstruments {
            histogram: self.histogram.as_ref().map(|h| h.bind(attributes)),
            counter: self.counter.as_ref().map(|c| c.bind(attributes)),
        }
    }
}

/// The wrapped body of a synchronous `#[metric]` fn, unchanged: the `FnOnce` bound makes the
/// closure `FnOnce`, so a body that mutates its captures or returns a reborrow of a captured
/// `&mut` compiles as it does in the fn itself.
#[inline(always)]
pub fn once<R, F: FnOnce() -> R>(body: F) -> F {
    body
}

/// A running measurement. Finished by the expansion with the call's outcome; dropped unfinished,
/// it records `result = cancelled` (or `error` while a panic unwinds).
#[derive(Debug)]
pub struct Timer {
    meta: &'static MetricMeta,
    self_type: Option<&'static str>,
    started: Instant,
    finished: bool,
}

impl Timer {
    /// Starts timing a call of the function described by `meta`.
    pub fn start(meta: &'static MetricMeta, self_type: Option<&'static str>) -> Self {
        Self {
            meta,
            self_type,
            started: Instant::now(),
            finished: false,
        }
    }

    /// Records the call with how it ended.
    pub fn finish(mut self, outcome: Outcome) {
        let result = match outcome {
            Outcome::Returned => None,
            Outcome::Ok => Some("ok"),
            Outcome::Err { .. } => Some("error"),
        };
        self.record(result);
        self.finished = true;
    }

    fn record(&self, result: Option<&'static str>) {
        let elapsed_ms = self.started.elapsed().as_secs_f64() * 1_000.0;
        let instruments = self
            .meta
            .instruments
            .get(SCOPE_NAME, |meter| self.meta.make_instruments(meter));
        let (function, _) = self.meta.name.resolve(self.self_type);
        let scoped = Context::map_current(current_attributes);
        let attributes = |scoped: &[KeyValue]| {
            let mut attributes = Vec::with_capacity(3 + scoped.len());
            attributes.push(KeyValue::new(FUNCTION_KEY, function));
            attributes.push(KeyValue::new(MODULE_KEY, self.meta.module));
            if let Some(result) = result {
                attributes.push(KeyValue::new(RESULT_KEY, result));
            }
            attributes.extend(scoped.iter().cloned());
            attributes
        };
        let fixed = self.self_type.is_none();
        if let (true, None, Some(slot)) = (fixed, &scoped, bound_slot(result)) {
            let bound = instruments.bound[slot].get_or_init(|| instruments.bind(&attributes(&[])));
            if let Some(histogram) = &bound.histogram {
                histogram.record(elapsed_ms);
            }
            if let Some(counter) = &bound.counter {
                counter.add(1);
            }
            return;
        }
        let attributes = attributes(scoped.as_deref().map_or(&[], |a| a.as_slice()));
        if let Some(histogram) = &instruments.histogram {
            histogram.record(elapsed_ms, &attributes);
        }
        if let Some(counter) = &instruments.counter {
            counter.add(1, &attributes);
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if !self.finished {
            self.record(Some(if std::thread::panicking() {
                "error"
            } else {
                "cancelled"
            }));
        }
    }
}

pin_project! {
    /// Times an async body and finishes the timer with `outcome` of its output; dropped before
    /// completion, the timer records `result = cancelled`. With no timer it only forwards polls.
    pub struct Timed<F, O> {
        #[pin]
        inner: F,
        timer: Option<Timer>,
        outcome: O,
    }
}

impl<F: Future, O: Fn(&F::Output) -> Outcome> Timed<F, O> {
    /// Wraps `inner`, which `timer` (if any) times; `outcome` says how a returned value ended
    /// the call.
    #[inline(always)]
    pub fn new(timer: Option<Timer>, inner: F, outcome: O) -> Self {
        Self {
            inner,
            timer,
            outcome,
        }
    }
}

impl<F> Timed<F, ()> {
    /// `inner` itself, for the call that records nothing (`timer` is `None`): the expansion
    /// hands its timer over here, so that the caller's state does not keep it across the await.
    #[inline(always)]
    pub fn bare(timer: Option<Timer>, inner: F) -> F {
        drop(timer);
        inner
    }
}

impl<F: Future, O: Fn(&F::Output) -> Outcome> Future for Timed<F, O> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let Some(timer) = this.timer.take() {
            timer.finish((this.outcome)(&output));
        }
        Poll::Ready(output)
    }
}
