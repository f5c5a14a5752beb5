//! Where an operation's points go: the installed provider's instruments, with the
//! operation's request-context attributes; or, where its context holds none, instruments bound
//! to its attribute set, which skip the SDK's per-call attribute lookup. Each bound instrument is
//! bound only once something is recorded into it, so a set never exports an empty point.

use std::cell::{OnceCell, RefCell};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::metrics::{BoundCounter, BoundHistogram};
use opentelemetry::{Context, KeyValue, StringValue};

use super::{ChatPoints, GenAiMetrics, ToolPoints, millis};
use crate::genai::names::{
    STEP_ID_KEY, TOKEN_INPUT, TOKEN_OUTPUT, TOOL_NAME_KEY, TOOL_SUCCESS_KEY,
};
use crate::metrics::bound::BoundSets;
use crate::state::meter_generation;
use crate::state::scope::current_attributes;

/// The instruments bound per attribute set: one table per pipeline, bound to its meter
/// provider's instruments.
#[derive(Default)]
pub(crate) struct BoundGenAi {
    chat: BoundSets<Arc<ChatBound>>,
    tool: BoundSets<(BoundHistogram<f64>, BoundCounter<u64>)>,
    step: BoundSets<BoundHistogram<f64>>,
    user_message: BoundSets<BoundCounter<u64>>,
}

/// The instruments of one model-call attribute set: the duration and LLM time always recorded,
/// the token usage and first-chunk ones bound when first recorded.
pub(super) struct ChatBound {
    duration: BoundHistogram<f64>,
    llm: BoundHistogram<f64>,
    tokens: OnceLock<(BoundHistogram<u64>, BoundHistogram<u64>)>,
    first_chunk: OnceLock<(BoundHistogram<f64>, BoundHistogram<f64>)>,
}

/// Where an operation's points go: the installed provider's instruments, and the bound ones
/// when the operation's context holds no request-context attributes.
pub(crate) struct Recorder<'a> {
    /// The instruments, taken from the provider in force when first needed.
    metrics: OnceCell<Arc<GenAiMetrics>>,
    pub(super) bound: Option<&'a BoundGenAi>,
    cx: &'a Context,
}

impl<'a> Recorder<'a> {
    /// Records with the installed provider's instruments, for an operation whose context is `cx`.
    pub(crate) fn global(cx: &Context, record: impl FnOnce(&Recorder<'_>)) {
        let mut record = Some(record);
        let mut run = |bound: &BoundGenAi| {
            if let Some(record) = record.take() {
                record(&Recorder::new(OnceCell::new(), bound, cx));
            }
        };
        if crate::state::with_current(|pipeline| pipeline.with_extension(&mut run)).is_none() {
            run(&BoundGenAi::default());
        }
    }

    /// Records into `metrics` (the provider's, taken when first needed, if empty) and `bound`
    /// (when `cx` holds no context attributes).
    pub(crate) fn new(
        metrics: OnceCell<Arc<GenAiMetrics>>,
        bound: &'a BoundGenAi,
        cx: &'a Context,
    ) -> Self {
        let unscoped = current_attributes(cx).is_none_or(|scoped| scoped.is_empty());
        Self {
            metrics,
            bound: unscoped.then_some(bound),
            cx,
        }
    }

    fn metrics(&self) -> &GenAiMetrics {
        self.metrics.get_or_init(GenAiMetrics::global)
    }

    /// Records through the context-attribute instruments, with the operation's context current.
    fn unbound(&self, record: impl FnOnce(&GenAiMetrics)) {
        let _current = self.cx.clone().attach();
        record(self.metrics());
    }

    /// The points of a model call.
    pub(crate) fn chat(&self, points: &ChatPoints<'_>) {
        let bound = self.bound.is_some_and(|table| {
            let lookup = || {
                let identity = (points.identity(), points.error);
                let mut found = None;
                let bind = || Arc::new(self.bind_chat(points));
                table
                    .chat
                    .record(identity, bind, |bound| found = Some(bound.clone()));
                found
            };
            with_chat(table, points, lookup, |bound| bound.record(self, points))
        });
        if bound {
            return;
        }
        let (ms, seconds) = (millis(points.duration), points.duration.as_secs_f64());
        self.unbound(|metrics| {
            metrics
                .operation_duration
                .record(seconds, &points.attributes(true));
            metrics.llm_execution_time.record(ms, &points.model_name());
            if let Some((input, output)) = points.usage {
                metrics
                    .token_usage
                    .record(input, &points.typed(TOKEN_INPUT));
                metrics
                    .token_usage
                    .record(output, &points.typed(TOKEN_OUTPUT));
            }
            if let Some(first) = points.first_chunk {
                metrics
                    .time_to_first_chunk
                    .record(first.as_secs_f64(), &points.attributes(false));
                metrics.ttft.record(millis(first), &points.model_name());
            }
        });
    }

    fn bind_chat(&self, points: &ChatPoints<'_>) -> ChatBound {
        let metrics = self.metrics();
        ChatBound {
            duration: metrics
                .operation_duration
                .inner()
                .bind(&points.attributes(true)),
            llm: metrics
                .llm_execution_time
                .inner()
                .bind(&points.model_name()),
            tokens: OnceLock::new(),
            first_chunk: OnceLock::new(),
        }
    }

    /// The points of a tool execution.
    pub(crate) fn tool(&self, points: &ToolPoints<'_>) {
        let ms = millis(points.duration);
        let named = [KeyValue::new(TOOL_NAME_KEY, points.name.clone())];
        let counted = || {
            let mut attributes = vec![
                KeyValue::new(TOOL_NAME_KEY, points.name.clone()),
                KeyValue::new(TOOL_SUCCESS_KEY, points.success),
            ];
            if let (false, Some(step)) = (points.success, points.step_id) {
                attributes.push(KeyValue::new(STEP_ID_KEY, step.clone()));
            }
            attributes
        };
        let bound = self
            .bound
            .filter(|_| points.success || points.step_id.is_none());
        let bound = bound.is_some_and(|bound| {
            bound.tool.record(
                (points.name.as_str(), points.success),
                || {
                    let metrics = self.metrics();
                    (
                        metrics.tool_execution_time.inner().bind(&named),
                        metrics.tool_executions.inner().bind(&counted()),
                    )
                },
                |(time, count)| {
                    time.record(ms);
                    count.add(1);
                },
            )
        });
        if !bound {
            self.unbound(|metrics| {
                metrics.tool_execution_time.record(ms, &named);
                metrics.tool_executions.add(1, &counted());
            });
        }
    }

    /// The point of an agent step.
    pub(crate) fn step(&self, duration: Duration) {
        let ms = millis(duration);
        let bound = self.bound.is_some_and(|bound| {
            bound.step.record(
                (),
                || self.metrics().step_execution_time.inner().bind(&[]),
                |step| step.record(ms),
            )
        });
        if !bound {
            self.unbound(|metrics| metrics.step_execution_time.record(ms, &[]));
        }
    }

    /// One received user message.
    pub(crate) fn user_message(&self) {
        let bound = self.bound.is_some_and(|bound| {
            bound.user_message.record(
                (),
                || self.metrics().user_messages.inner().bind(&[]),
                |count| count.add(1),
            )
        });
        if !bound {
            self.unbound(|metrics| metrics.user_messages.add(1, &[]));
        }
    }
}

impl ChatBound {
    /// Records the points of a model call whose attribute set this is.
    fn record(&self, recorder: &Recorder<'_>, points: &ChatPoints<'_>) {
        self.duration.record(points.duration.as_secs_f64());
        self.llm.record(millis(points.duration));
        if let Some((input, output)) = points.usage {
            let (input_tokens, output_tokens) = self.tokens.get_or_init(|| {
                let usage = recorder.metrics().token_usage.inner();
                (
                    usage.bind(&points.typed(TOKEN_INPUT)),
                    usage.bind(&points.typed(TOKEN_OUTPUT)),
                )
            });
            input_tokens.record(input);
            output_tokens.record(output);
        }
        if let Some(first) = points.first_chunk {
            let (chunk, ttft) = self.first_chunk.get_or_init(|| {
                let metrics = recorder.metrics();
                (
                    metrics
                        .time_to_first_chunk
                        .inner()
                        .bind(&points.attributes(false)),
                    metrics.ttft.inner().bind(&points.model_name()),
                )
            });
            chunk.record(first.as_secs_f64());
            ttft.record(millis(first));
        }
    }
}

// The model-call attribute set a thread recorded last, with its bound instruments: a thread
// that calls one model over and over (the usual case) finds them by comparing the call's
// provider, models, server and error with the last ones, without hashing them or taking the
// table's lock. Kept for the table and the meter provider it was bound under.

thread_local! {
    static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
}

/// The last attribute set and its instruments.
struct Last {
    /// The table's address and the provider's generation.
    table: usize,
    generation: u64,
    provider: StringValue,
    request_model: StringValue,
    response_model: Option<StringValue>,
    server: Option<(StringValue, i64)>,
    error: Option<String>,
    bound: Arc<ChatBound>,
}

impl Last {
    fn matches(&self, table: usize, generation: u64, points: &ChatPoints<'_>) -> bool {
        self.table == table
            && self.generation == generation
            && self.provider.as_str() == points.provider.as_str()
            && self.request_model.as_str() == points.request_model.as_str()
            && self.response_model.as_ref().map(StringValue::as_str)
                == points.response_model.map(StringValue::as_str)
            && self.server.as_ref() == points.server
            && self.error.as_deref() == points.error
    }
}

/// Runs `record` on the bound instruments of `points`' attribute set in `table`: this thread's
/// last ones when they match, else those `lookup` finds there (kept as the last). `false` when
/// `lookup` finds none (the table is full) and nothing was recorded.
fn with_chat(
    table: &BoundGenAi,
    points: &ChatPoints<'_>,
    lookup: impl FnOnce() -> Option<Arc<ChatBound>>,
    record: impl FnOnce(&ChatBound),
) -> bool {
    let (table, generation) = (std::ptr::from_ref(table) as usize, meter_generation());
    let mut lookup = Some(lookup);
    let mut record = Some(record);
    let cached = LAST.try_with(|last| {
        let mut last = last.try_borrow_mut().ok()?;
        if !last
            .as_ref()
            .is_some_and(|last| last.matches(table, generation, points))
        {
            let bound = (lookup.take()?)()?;
            *last = Some(Last {
                table,
                generation,
                provider: points.provider.clone(),
                request_model: points.request_model.clone(),
                response_model: points.response_model.cloned(),
                server: points.server.cloned(),
                error: points.error.map(str::to_owned),
                bound,
            });
        }
        let last = last.as_ref()?;
        (record.take()?)(&last.bound);
        Some(())
    });
    if let Ok(Some(())) = cached {
        return true;
    }
    // No thread storage (a thread ending) or the cell in use: the table alone.
    match (lookup.and_then(|lookup| lookup()), record) {
        (Some(bound), Some(record)) => {
            record(&bound);
            true
        }
        _ => false,
    }
}
