//! A tool execution: the INTERNAL span `execute_tool {tool}` and the original's tool metrics.

use std::borrow::Cow;
use std::future::Future;

use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, StringValue};

use super::metrics::{Recorder, ToolPoints};
use super::names::{EXECUTE_TOOL, OPERATION_NAME, TOOL_CALL_ID, TOOL_NAME, TOOL_TYPE};
use super::operation::{InScope, Operation, in_scope, text_value};
use super::span_names::span_name;

/// Starts describing the execution of the tool `name`; [`start`](ToolRequest::start) begins it.
///
/// The execution is an INTERNAL span `execute_tool {name}` with `gen_ai.operation.name =
/// execute_tool` and `gen_ai.tool.name`; when it ends, the original's
/// `hist_tool_execution_time_ms` (`tool.name`) and `count_tool_execution` (`tool.name`,
/// `tool.execution_success`, and `step.id` on a failure) are recorded with the request-context
/// attributes.
///
/// ```
/// use instrument::genai;
///
/// # async fn run() {
/// let tool = genai::execute_tool("calculator").call_id("call-1").start();
/// // spans made while the tool runs are children of `execute_tool calculator`
/// let sum = tool.instrument(async { 2 + 2 }).await;
/// drop(tool); // ends it
/// # assert_eq!(sum, 4);
/// # }
/// ```
pub fn execute_tool(name: impl Into<Cow<'static, str>>) -> ToolRequest {
    ToolRequest {
        name: text_value(name),
        call_id: None,
        tool_type: None,
        step_id: None,
    }
}

/// A tool execution about to start. Made by [`execute_tool`].
///
/// ```
/// let tool = instrument::genai::execute_tool("search").tool_type("function").start();
/// # drop(tool);
/// ```
#[must_use = "a tool execution is recorded once started"]
#[derive(Clone, Debug)]
pub struct ToolRequest {
    name: StringValue,
    call_id: Option<StringValue>,
    tool_type: Option<StringValue>,
    step_id: Option<StringValue>,
}

impl ToolRequest {
    /// `gen_ai.tool.call.id`: the id the model gave the tool call.
    ///
    /// ```
    /// let request = instrument::genai::execute_tool("search").call_id("call_mszuSIzqtI65");
    /// # drop(request);
    /// ```
    pub fn call_id(mut self, id: impl Into<Cow<'static, str>>) -> Self {
        self.call_id = Some(text_value(id));
        self
    }

    /// `gen_ai.tool.type`: `function`, `extension` or `datastore`.
    ///
    /// ```
    /// let request = instrument::genai::execute_tool("search").tool_type("datastore");
    /// # drop(request);
    /// ```
    pub fn tool_type(mut self, tool_type: impl Into<Cow<'static, str>>) -> Self {
        self.tool_type = Some(text_value(tool_type));
        self
    }

    /// The agent step the tool runs in: the original records it as `step.id` on
    /// `count_tool_execution` when the tool fails.
    ///
    /// ```
    /// let request = instrument::genai::execute_tool("search").step_id("step-3");
    /// # drop(request);
    /// ```
    pub fn step_id(mut self, id: impl Into<Cow<'static, str>>) -> Self {
        self.step_id = Some(text_value(id));
        self
    }

    /// Starts the execution: its span begins as a child of the current span. It ends when the
    /// returned [`ToolCall`] drops.
    ///
    /// ```
    /// let tool = instrument::genai::execute_tool("search").start();
    /// drop(tool);
    /// ```
    pub fn start(self) -> ToolCall {
        let Self {
            name,
            call_id,
            tool_type,
            step_id,
        } = self;
        let operation = Operation::start(
            || span_name(EXECUTE_TOOL, &name),
            SpanKind::Internal,
            || {
                let mut attributes = vec![
                    KeyValue::new(OPERATION_NAME, EXECUTE_TOOL),
                    KeyValue::new(TOOL_NAME, name.clone()),
                ];
                if let Some(id) = call_id {
                    attributes.push(KeyValue::new(TOOL_CALL_ID, id));
                }
                if let Some(tool_type) = tool_type {
                    attributes.push(KeyValue::new(TOOL_TYPE, tool_type));
                }
                attributes
            },
        );
        ToolCall {
            state: operation.map(|operation| (operation, name, step_id)),
        }
    }
}

/// A started tool execution ([`execute_tool`]); ends when dropped, recording its span and
/// metrics.
///
/// ```
/// let mut tool = instrument::genai::execute_tool("search").start();
/// tool.fail("timeout");
/// drop(tool); // an error span, `tool.execution_success = false`
/// ```
#[must_use = "the execution ends (and is recorded) when dropped"]
#[derive(Debug)]
pub struct ToolCall {
    state: Option<(Operation, StringValue, Option<StringValue>)>,
}

impl ToolCall {
    /// Records that the tool failed: `error.type` and status ERROR on the span,
    /// `tool.execution_success = false` on `count_tool_execution`.
    ///
    /// ```
    /// let mut tool = instrument::genai::execute_tool("search").start();
    /// tool.fail("ToolError");
    /// ```
    pub fn fail(&mut self, error_type: impl Into<Cow<'static, str>>) -> &mut Self {
        if let Some((operation, ..)) = self.state.as_mut() {
            operation.fail(error_type.into());
        }
        self
    }

    /// Runs `f` with the execution's span current.
    ///
    /// ```
    /// let tool = instrument::genai::execute_tool("add").start();
    /// assert_eq!(tool.in_scope(|| 2 + 2), 4);
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        in_scope(self.state.as_ref().map(|(operation, ..)| operation), f)
    }

    /// `future`, run with the execution's span current on every poll.
    ///
    /// ```
    /// # async fn run() {
    /// let tool = instrument::genai::execute_tool("add").start();
    /// assert_eq!(tool.instrument(async { 2 + 2 }).await, 4);
    /// # }
    /// ```
    pub fn instrument<F: Future>(&self, future: F) -> InScope<F> {
        InScope::new(self.state.as_ref().map(|(operation, ..)| operation), future)
    }
}

impl Drop for ToolCall {
    fn drop(&mut self) {
        let Some((operation, name, step_id)) = self.state.take() else {
            return;
        };
        let ended = operation.end(|_| {});
        if !crate::state::metrics_enabled() {
            return;
        }
        Recorder::global(&ended.cx, |recorder| {
            recorder.tool(&ToolPoints {
                name: &name,
                success: ended.error.is_none(),
                step_id: step_id.as_ref(),
                duration: ended.duration,
            });
        });
    }
}
