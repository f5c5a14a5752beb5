//! An agent invocation (or step): the INTERNAL span `invoke_agent {name}` and the original's
//! step histogram; and the original's user-message counter.

use std::borrow::Cow;
use std::future::Future;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue, StringValue};

use super::metrics::Recorder;
use super::names::{AGENT_ID, AGENT_NAME, INVOKE_AGENT, OPERATION_NAME, PROVIDER_NAME};
use super::operation::{InScope, Operation, in_scope, text_value};
use super::span_names::span_name;

/// Starts describing an invocation (or one step) of the agent `name`;
/// [`start`](AgentRequest::start) begins it.
///
/// The invocation is an INTERNAL span `invoke_agent {name}` (an agent running in this process)
/// with `gen_ai.operation.name = invoke_agent` and `gen_ai.agent.name`; the model calls and
/// tool executions made while it is current are its children. When it ends, the original's
/// `hist_step_execution_time_ms` is recorded with the request-context attributes.
///
/// ```
/// use instrument::genai;
///
/// # async fn run() {
/// let step = genai::invoke_agent("support").id("agent-1").provider("openai").start();
/// let reply = step
///     .instrument(async {
///         let mut call = genai::chat("openai", "gpt-4o").start(); // a child of the step
///         call.usage(42, 9);
///         "4"
///     })
///     .await;
/// drop(step);
/// # assert_eq!(reply, "4");
/// # }
/// ```
pub fn invoke_agent(name: impl Into<Cow<'static, str>>) -> AgentRequest {
    AgentRequest {
        name: text_value(name),
        id: None,
        provider: None,
    }
}

/// An agent invocation about to start. Made by [`invoke_agent`].
///
/// ```
/// let step = instrument::genai::invoke_agent("support").start();
/// # drop(step);
/// ```
#[must_use = "an agent invocation is recorded once started"]
#[derive(Clone, Debug)]
pub struct AgentRequest {
    name: StringValue,
    id: Option<StringValue>,
    provider: Option<StringValue>,
}

impl AgentRequest {
    /// `gen_ai.agent.id`.
    ///
    /// ```
    /// let request = instrument::genai::invoke_agent("support").id("agent-1");
    /// # drop(request);
    /// ```
    pub fn id(mut self, id: impl Into<Cow<'static, str>>) -> Self {
        self.id = Some(text_value(id));
        self
    }

    /// `gen_ai.provider.name` of the models the agent uses.
    ///
    /// ```
    /// let request = instrument::genai::invoke_agent("support").provider("openai");
    /// # drop(request);
    /// ```
    pub fn provider(mut self, provider: impl Into<Cow<'static, str>>) -> Self {
        self.provider = Some(text_value(provider));
        self
    }

    /// Starts the invocation: its span begins as a child of the current span. It ends when the
    /// returned [`AgentInvocation`] drops.
    ///
    /// ```
    /// let step = instrument::genai::invoke_agent("support").start();
    /// drop(step);
    /// ```
    pub fn start(self) -> AgentInvocation {
        let Self { name, id, provider } = self;
        let operation = Operation::start(
            || span_name(INVOKE_AGENT, &name),
            SpanKind::Internal,
            || {
                let mut attributes = vec![
                    KeyValue::new(OPERATION_NAME, INVOKE_AGENT),
                    KeyValue::new(AGENT_NAME, name.clone()),
                ];
                if let Some(id) = id {
                    attributes.push(KeyValue::new(AGENT_ID, id));
                }
                if let Some(provider) = provider {
                    attributes.push(KeyValue::new(PROVIDER_NAME, provider));
                }
                attributes
            },
        );
        AgentInvocation { operation }
    }
}

/// A started agent invocation ([`invoke_agent`]); ends when dropped, recording its span and
/// `hist_step_execution_time_ms`.
///
/// ```
/// let mut step = instrument::genai::invoke_agent("support").start();
/// step.fail("MaxStepsExceeded");
/// drop(step);
/// ```
#[must_use = "the invocation ends (and is recorded) when dropped"]
#[derive(Debug)]
pub struct AgentInvocation {
    operation: Option<Operation>,
}

impl AgentInvocation {
    /// Records that the invocation failed: `error.type` and status ERROR on the span.
    ///
    /// ```
    /// let mut step = instrument::genai::invoke_agent("support").start();
    /// step.fail("MaxStepsExceeded");
    /// ```
    pub fn fail(&mut self, error_type: impl Into<Cow<'static, str>>) -> &mut Self {
        if let Some(operation) = self.operation.as_mut() {
            operation.fail(error_type.into());
        }
        self
    }

    /// Runs `f` with the invocation's span current.
    ///
    /// ```
    /// let step = instrument::genai::invoke_agent("support").start();
    /// assert_eq!(step.in_scope(|| 2 + 2), 4);
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        in_scope(self.operation.as_ref(), f)
    }

    /// `future`, run with the invocation's span current on every poll: the model calls and
    /// tool executions it starts are the invocation's children.
    ///
    /// ```
    /// # async fn run() {
    /// let step = instrument::genai::invoke_agent("support").start();
    /// assert_eq!(step.instrument(async { 2 + 2 }).await, 4);
    /// # }
    /// ```
    pub fn instrument<F: Future>(&self, future: F) -> InScope<F> {
        InScope::new(self.operation.as_ref(), future)
    }
}

impl Drop for AgentInvocation {
    fn drop(&mut self) {
        let Some(operation) = self.operation.take() else {
            return;
        };
        let ended = operation.end(|_| {});
        if crate::state::metrics_enabled() {
            Recorder::global(&ended.cx, |recorder| recorder.step(ended.duration));
        }
    }
}

/// Counts one message received from a user: the original's `count_user_message`, with the
/// request-context attributes.
///
/// ```
/// instrument::genai::user_message();
/// ```
pub fn user_message() {
    if crate::state::metrics_enabled() {
        Recorder::global(&Context::current(), |recorder| recorder.user_message());
    }
}
