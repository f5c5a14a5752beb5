//! Macros of the `instrument` toolkit. They parse, validate and emit a thin wrapper plus
//! `static` metadata; everything that runs lives in `instrument-runtime`. Use them through the
//! `instrument` facade crate.

mod args;
mod params;
mod trace_method;

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
    if cfg!(feature = "off") {
        return trace_method::validate_only(attr.into(), item.clone().into())
            .map_or(item, Into::into);
    }
    trace_method::expand(attr.into(), item.into()).into()
}
