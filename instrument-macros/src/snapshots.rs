//! Expansion snapshots: representative inputs of each macro, expanded and pretty-printed, are
//! compared with `tests/expansions/<case>.rs`, so that a change in generated code shows in review.
//! `UPDATE_EXPANSIONS=1 cargo test -p instrument-macros` rewrites the snapshots.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

/// Most lines the expansion of the representative method may take: 0.7 × the 114 lines of
/// `#[tracing::instrument]` on the same method.
const MAX_METHOD_EXPANSION_LINES: usize = 79;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

fn check(case: &str, expanded: TokenStream) -> String {
    let text = pretty(expanded);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expansions")
        .join(format!("{case}.rs"));
    if std::env::var_os("UPDATE_EXPANSIONS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        text, expected,
        "the expansion of `{case}` changed: review it, then UPDATE_EXPANSIONS=1 cargo test -p instrument-macros"
    );
    text
}

fn trace(attr: TokenStream, item: TokenStream) -> TokenStream {
    crate::trace_method::try_expand(attr, item).expect("valid input")
}

fn metric(attr: TokenStream, item: TokenStream) -> TokenStream {
    crate::metric::try_expand(attr, item).expect("valid input")
}

#[test]
fn sync_free_function() {
    check(
        "trace_sync_fn",
        trace(
            quote!(),
            quote! {
                fn checkout(order_id: &str, items: u32) -> Result<u32, String> {
                    Ok(items)
                }
            },
        ),
    );
}

#[test]
fn async_method_with_exclusion_stays_small() {
    let text = check(
        "trace_async_method",
        trace(
            quote!(exclude = [messages]),
            quote! {
                async fn step(&self, agent_id: &str, messages: &[Message]) -> Result<Reply, Error> {
                    self.run(agent_id, messages).await
                }
            },
        ),
    );
    let lines = text.lines().count();
    assert!(
        lines <= MAX_METHOD_EXPANSION_LINES,
        "the expansion takes {lines} lines, past {MAX_METHOD_EXPANSION_LINES}"
    );
}

#[test]
fn one_line_body() {
    check(
        "trace_one_line",
        trace(
            quote!(),
            quote!(
                fn b(t: &str) -> u32 {
                    t.len() as u32
                }
            ),
        ),
    );
}

#[test]
fn metric_with_err() {
    check(
        "metric_err",
        metric(
            quote!(histogram = "hist_tool_ms", err),
            quote! {
                async fn run_tool(name: &str) -> Result<usize, ToolError> { Ok(name.len()) }
            },
        ),
    );
}

#[test]
fn derived_metrics() {
    check(
        "derive_metrics",
        crate::metrics_derive::expand(quote! {
            #[metrics(scope = "agent")]
            struct AgentMetrics {
                /// Time to first token.
                #[metric(name = "hist_ttft_ms", unit = "ms")]
                ttft: Histogram<f64>,
                /// Messages.
                user_messages: Counter<u64>,
            }
        }),
    );
}
