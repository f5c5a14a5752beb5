//! Macros of the `instrument` toolkit. They parse, validate and emit a thin wrapper plus
//! `static` metadata; everything that runs lives in `instrument-runtime`. Use them through the
//! `instrument` facade crate.

mod args;
mod metric;
mod metrics_derive;
mod names;
mod params;
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
/// Options: `name = "..."`, `exclude = [a, b]`, `include = [a]`, `skip_all`,
/// `kind = "server" | "client" | "producer" | "consumer" | "internal"`, `crate = path`.
///
/// ```ignore
/// #[instrument::trace_method(exclude = [messages])]
/// async fn step(agent_id: &str, messages: &[Message]) -> Result<Reply, Error> { ... }
/// ```
#[proc_macro_attribute]
pub fn trace_method(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_attribute(attr, item, trace_method::try_expand)
}

/// Times a function (sync or async, free fn or method) or every method of an `impl` block.
///
/// `histogram = "name"` records each call's duration in milliseconds; `counter = "name"` counts
/// calls. Both carry `function`, `module`, `result` (`ok` | `error` | `cancelled`, for fns
/// returning a `Result`) and the request context attributes in scope. Options: `unit`,
/// `description`, `buckets = [..]` (explicit boundaries), `err` (assert at compile time that the
/// function returns a `Result`, through any alias), `crate = path`.
///
/// ```ignore
/// #[instrument::metric(histogram = "hist_tool_execution_time_ms", counter = "count_tool_execution")]
/// async fn run_tool(name: &str) -> Result<Output, ToolError> { ... }
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
/// `Gauge` or `ObservableGauge`, and the struct gets `new(&Meter)` and a process-wide
/// `global()` that records into whichever meter provider is installed, even one installed after
/// the first call.
///
/// Struct attribute `#[metrics(scope = "...")]` names the meter scope and prefixes field-derived
/// names; field attribute `#[metric(name, unit, description, buckets = [..], callback = path)]`;
/// the doc comment is the default description.
///
/// ```ignore
/// #[derive(instrument::Metrics)]
/// struct AgentMetrics {
///     /// Time to first token.
///     #[metric(name = "hist_ttft_ms", unit = "ms")]
///     ttft: Histogram<f64>,
/// }
/// ```
#[proc_macro_derive(Metrics, attributes(metrics, metric))]
pub fn derive_metrics(input: TokenStream) -> TokenStream {
    metrics_derive::expand(input.into()).into()
}
