//! What the three operations share: a span started as a child of the current span (none when
//! no tracer is installed), the context the operation runs in, how long it takes and how it
//! failed; and the future adapter that makes an operation's span current while a future runs.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Context, KeyValue, StringValue};
use pin_project_lite::pin_project;

use super::names::ERROR_TYPE;
use crate::span::{self, CurrentParent, HeldSpan};
use crate::state::clock::Stopwatch;
use crate::state::{self, EndingSpan};

/// A started operation.
#[derive(Debug)]
pub(crate) struct Operation {
    /// The context current at the start: the span's parent, and the request-context attributes
    /// the metrics carry.
    parent: Context,
    /// The operation's span, when a tracer is installed. Behind a lock only for [`context`]
    /// (`&self`); everything else reaches it through `&mut self` without locking.
    ///
    /// [`context`]: Operation::context
    span: Mutex<Option<HeldSpan>>,
    started: Stopwatch,
    error: Option<Cow<'static, str>>,
}

/// How an operation ended: what its metrics record.
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) cx: Context,
    pub(crate) duration: Duration,
    pub(crate) error: Option<Cow<'static, str>>,
}

impl Operation {
    /// Starts an operation as a child of the current span: its span named by `name`, of `kind`,
    /// with `attributes` (both made only when a tracer is installed). `None` when neither a
    /// tracer nor a meter provider is installed: nothing is recorded.
    pub(crate) fn start(
        name: impl FnOnce() -> Cow<'static, str>,
        kind: SpanKind,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> Option<Self> {
        let tracing = state::enabled();
        if !tracing && !state::metrics_enabled() {
            return None;
        }
        let parent = CurrentParent::now();
        let span = if tracing {
            span::start_held(&parent, name(), kind, attributes())
        } else {
            None
        };
        Some(Self {
            parent: parent.cx,
            span: Mutex::new(span),
            started: Stopwatch::start(),
            error: None,
        })
    }

    /// A context holding the operation's span (for work to run under), if one records.
    pub(crate) fn context(&self) -> Option<Context> {
        let mut span = self.span.lock().unwrap_or_else(PoisonError::into_inner);
        span.as_mut().map(|span| span.context(&self.parent))
    }

    /// The time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Records that the operation failed with `error_type` (the last call wins).
    pub(crate) fn fail(&mut self, error_type: Cow<'static, str>) {
        self.error = Some(error_type);
    }

    /// Ends the span, recording onto it with `record`, then `error.type` and status ERROR when
    /// the operation failed (a panic unwinding through the guard is `panic`); returns what the
    /// metrics record.
    pub(crate) fn end(mut self, record: impl FnOnce(&mut dyn EndingSpan)) -> Ended {
        let duration = self.started.elapsed();
        if self.error.is_none() && std::thread::panicking() {
            self.error = Some(Cow::Borrowed("panic"));
        }
        let span = self
            .span
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(span) = span {
            let error = &self.error;
            span.end(|span| {
                record(span);
                if let Some(error) = error {
                    span.set_attribute(KeyValue::new(ERROR_TYPE, error.clone()));
                    span.set_status(Status::error(error.clone()));
                }
            });
        }
        Ended {
            cx: self.parent,
            duration,
            error: self.error,
        }
    }
}

/// `text` as an attribute value that clones without copying: a `&'static str` as it is, an
/// owned string shared.
pub(crate) fn text_value(text: impl Into<Cow<'static, str>>) -> StringValue {
    match text.into() {
        Cow::Borrowed(text) => StringValue::from(text),
        Cow::Owned(text) => StringValue::from(Arc::<str>::from(text)),
    }
}

/// Runs `f` with the operation's span current, if one records.
pub(crate) fn in_scope<R>(operation: Option<&Operation>, f: impl FnOnce() -> R) -> R {
    let _current = operation.and_then(Operation::context).map(Context::attach);
    f()
}

pin_project! {
    /// A future run with a GenAI operation's span as the current OpenTelemetry context on every
    /// poll (made by `instrument` on [`ChatCall`](super::ChatCall),
    /// [`ToolCall`](super::ToolCall) and [`AgentInvocation`](super::AgentInvocation)): the
    /// spans it starts are children of the operation's span. With no span recording, it only
    /// forwards polls.
    ///
    /// ```
    /// # async fn run() {
    /// let tool = instrument::genai::execute_tool("calculator").start();
    /// let sum = tool.instrument(async { 2 + 2 }).await;
    /// assert_eq!(sum, 4);
    /// # }
    /// ```
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct InScope<F> {
        #[pin]
        inner: F,
        cx: Option<Context>,
    }
}

impl<F: Future> InScope<F> {
    pub(crate) fn new(operation: Option<&Operation>, inner: F) -> Self {
        Self {
            inner,
            cx: operation.and_then(Operation::context),
        }
    }
}

impl<F: Future> Future for InScope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _current = this.cx.as_ref().map(|span| span.clone().attach());
        this.inner.poll(cx)
    }
}
