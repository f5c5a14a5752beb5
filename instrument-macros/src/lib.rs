//! Macros of the `instrument` toolkit. They parse, validate and emit a thin wrapper plus
//! `static` metadata; everything that runs lives in `instrument-runtime`. Use them through the
//! `instrument` facade crate.

#![forbid(unsafe_code)]

mod args;
mod async_fn;
mod metric;
mod metrics_derive;
mod names;
mod params;
#[cfg(test)]
mod snapshots;
mod trace_method;
mod wrap;

use proc_macro::TokenStream;

/// Wraps a function (sync or async, free fn, method, trait impl method) or every method of an
/// `impl` block in a span.
///
/// The span is named after the function (`Type.method` for methods) and records each parameter
/// as `parameter.<name>`, bounded in bytes; parameters on the default exclusion list or named in
/// `exclude` are replaced by a placeholder that keeps their id; secrets are redacted. An `Err`
/// return or a panic marks the span as failed; a dropped future records `cancelled`.
///
/// ```
/// use instrument::trace_method;
///
/// #[trace_method]
/// fn checkout(order_id: &str, items: u32) -> Result<u32, String> {
///     if items == 0 {
///         return Err(format!("order {order_id} is empty"));
///     }
///     Ok(items * 100)
/// }
///
/// struct Agent;
///
/// // On an `impl` block: every method, spans named `Agent.step`, `Agent.reply`.
/// #[trace_method]
/// impl Agent {
///     async fn step(&self, agent_id: &str) -> usize { agent_id.len() }
///     fn reply(&self, text: &str) -> String { text.to_uppercase() }
/// }
/// # assert_eq!(checkout("o-1", 2), Ok(200));
/// ```
///
/// # Options
///
/// `name = "..."` names the span:
///
/// ```
/// #[instrument::trace_method(name = "agent.step")]
/// fn step(agent_id: &str) {}
/// ```
///
/// `exclude = [a, b]` records these parameters as a placeholder with their type and id;
/// `include = [a]` takes a name back from the default exclusion list (`messages`,
/// `agent_state`, ...):
///
/// ```
/// #[instrument::trace_method(exclude = [draft], include = [content])]
/// fn store(agent_id: &str, draft: &str, content: &str) {}
/// ```
///
/// `skip_all` records no parameter:
///
/// ```
/// #[instrument::trace_method(skip_all)]
/// fn login(user: &str, password: &str) {}
/// ```
///
/// `kind = "server" | "client" | "producer" | "consumer" | "internal"` sets the span kind
/// (default `internal`):
///
/// ```
/// #[instrument::trace_method(kind = "client")]
/// async fn call_llm(prompt: &str) -> usize { prompt.len() }
/// ```
///
/// `crate = path` names the facade when it is renamed in `Cargo.toml`:
///
/// ```
/// use instrument as telemetry;
///
/// #[telemetry::trace_method(crate = telemetry)]
/// fn renamed(n: u32) -> u32 { n }
/// ```
#[proc_macro_attribute]
pub fn trace_method(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_attribute(attr, item, trace_method::try_expand)
}

/// Times a function (sync or async, free fn or method) or every method of an `impl` block.
///
/// `histogram = "name"` records each call's duration in milliseconds; `counter = "name"` counts
/// calls. Both carry `function`, `module`, `result` (`ok` | `error` | `cancelled`, for fns
/// returning a `Result`) and the request context attributes in scope.
///
/// ```
/// #[instrument::metric(histogram = "hist_tool_execution_time_ms", counter = "count_tool_execution")]
/// async fn run_tool(name: &str) -> Result<usize, String> {
///     Ok(name.len())
/// }
/// ```
///
/// # Options
///
/// `unit` and `description` describe the instruments (without `description`, the histogram is
/// "Duration of \`f\` calls" and the counter "Calls of \`f\`"); `buckets = [..]` sets explicit
/// histogram boundaries:
///
/// ```
/// #[instrument::metric(
///     histogram = "hist_llm_call_ms",
///     unit = "ms",
///     description = "LLM call duration",
///     buckets = [10.0, 50.0, 100.0, 500.0]
/// )]
/// fn call_llm(prompt: &str) -> usize { prompt.len() }
/// ```
///
/// `err` asserts at compile time that the function returns a `Result`, also through an alias
/// (its `result` attribute is then `ok` or `error`):
///
/// ```
/// type Reply = Result<String, std::io::Error>;
///
/// #[instrument::metric(counter = "count_replies", err)]
/// fn reply(text: &str) -> Reply { Ok(text.to_owned()) }
/// ```
///
/// `crate = path` names the facade when it is renamed in `Cargo.toml`:
///
/// ```
/// use instrument as telemetry;
///
/// #[telemetry::metric(counter = "count_renamed", crate = telemetry)]
/// fn renamed() {}
/// ```
#[proc_macro_attribute]
pub fn metric(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_attribute(attr, item, metric::try_expand)
}

/// Runs an attribute macro: on error, the error and the item unchanged (so one mistake gives
/// one error); with the `off` feature, the item unchanged once its options are valid.
fn expand_attribute(
    attr: TokenStream,
    item: TokenStream,
    try_expand: fn(
        proc_macro2::TokenStream,
        proc_macro2::TokenStream,
    ) -> syn::Result<proc_macro2::TokenStream>,
) -> TokenStream {
    match try_expand(attr.into(), item.clone().into()) {
        Ok(_) if cfg!(feature = "off") => item,
        Ok(expanded) => expanded.into(),
        Err(error) => wrap::with_item(error, item.into()).into(),
    }
}

/// Declares a set of instruments: every field is a `Counter`, `UpDownCounter`, `Histogram`,
/// `Gauge` (from `instrument::metrics`, which also record the request's context attributes) or
/// `ObservableGauge`, and the struct gets `new(&Meter)` and a process-wide `global()` that
/// records into whichever meter provider is installed, even one installed after the first call.
/// OpenTelemetry's own `Counter`, `UpDownCounter`, `Histogram` and `Gauge`, which would record
/// no context attributes, are refused at compile time with the type to use instead.
///
/// ```
/// use instrument::Metrics;
/// use instrument::metrics::{Counter, Histogram};
///
/// #[derive(Metrics)]
/// #[metrics(scope = "agent")]
/// struct AgentMetrics {
///     /// Time to first token, in milliseconds.
///     #[metric(name = "hist_ttft_ms", unit = "ms", buckets = [50.0, 100.0, 250.0, 500.0])]
///     ttft: Histogram<f64>,
///     /// Number of user messages received.
///     #[metric(name = "count_user_message", unit = "1")]
///     user_messages: Counter<u64>,
/// }
///
/// AgentMetrics::global().user_messages.add(1, &[]);
/// ```
///
/// # Options
///
/// On the struct, `#[metrics(scope = "...")]` names the meter scope and prefixes the names of
/// fields without `name`; `context = false` records only the attributes given (no context
/// attributes), for process-wide sets; `crate = path` names a renamed facade. On a field,
/// `name`, `unit`, `description`, `buckets = [..]` (histograms) and
/// `callback = path` (observable gauges); the doc comment is the default description:
///
/// ```
/// use instrument::Metrics;
/// use instrument::metrics::{AsyncInstrument, ObservableGauge, UpDownCounter};
///
/// fn observe_queue(observer: &dyn AsyncInstrument<i64>) {
///     observer.observe(3, &[]);
/// }
///
/// #[derive(Metrics)]
/// #[metrics(scope = "jobs", context = false)]
/// struct JobMetrics {
///     /// Jobs running now (named `jobs.running`).
///     running: UpDownCounter<i64>,
///     /// Jobs waiting.
///     #[metric(name = "jobs_queued", unit = "{job}", callback = observe_queue)]
///     queued: ObservableGauge<i64>,
/// }
///
/// JobMetrics::global().running.add(1, &[]);
/// ```
#[proc_macro_derive(Metrics, attributes(metrics, metric))]
pub fn derive_metrics(input: TokenStream) -> TokenStream {
    metrics_derive::expand(input.into()).into()
}
