//! An instrumented `async fn` rewritten as a `fn` returning the runtime's deferred future, and
//! when that rewrite is left alone.

use quote::{ToTokens, quote, quote_spanned};
use syn::{Attribute, Block, FnArg, Pat, ReturnType, Signature, parse_quote};

use crate::wrap::{Wrapping, fake_return_edge, local, returns_never};

/// Rewrites `async fn f(..) -> T { body }` as `fn f(..) -> impl Future<Output = T>` returning
/// `Deferred::new(records, make)`: off, `make(false)` is called at once and the future is the
/// body's own behind the wrapper's one test (no second state machine around it); on, the first
/// poll calls `make(true)`, which starts the probe as the `async fn`'s first statement would, so
/// the span or timer still starts at the first poll. Every parameter is moved into the body's
/// future, as an `async fn` moves them, so each is dropped when the future ends.
///
/// The `impl` token has the macro's edition (2024): the returned type captures every lifetime
/// in scope, as an `async fn`'s future does, in crates of any edition. Returns `false`, touching
/// nothing, where the rewrite could change what the fn does: a parameter bound by a pattern
/// other than a name or `_` (its unbound parts would be dropped at the call), or one with
/// attributes (`#[cfg]`), or a fn returning `!`.
pub(crate) fn return_future(sig: &mut Signature, block: &mut Block, wrapping: &Wrapping) -> bool {
    let simple = sig.inputs.iter().all(|input| match input {
        FnArg::Receiver(_) => true,
        FnArg::Typed(typed) => {
            typed.attrs.is_empty()
                && match &*typed.pat {
                    Pat::Ident(p) => p.by_ref.is_none() && p.subpat.is_none() && p.attrs.is_empty(),
                    Pat::Wild(w) => w.attrs.is_empty(),
                    _ => false,
                }
        }
    });
    if !simple || returns_never(sig) {
        return false;
    }
    let mut moved = Vec::new();
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(receiver) => moved.push(receiver.self_token.to_token_stream()),
            FnArg::Typed(typed) => {
                if let Pat::Wild(_) = &*typed.pat {
                    let name = local(&format!("__instrument_arg{index}"));
                    *typed.pat = parse_quote!(#name);
                }
                if let Pat::Ident(p) = &*typed.pat {
                    moved.push(p.ident.to_token_stream());
                }
            }
        }
    }
    let fake_return = fake_return_edge(sig);
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let returned = quote_spanned!(proc_macro2::Span::mixed_site()=>
        impl ::core::future::Future<Output = #output>
    );
    sig.asyncness = None;
    sig.output = parse_quote!(-> #returned);
    let Wrapping {
        statics,
        records,
        start,
        probe,
        future,
        deferred,
        outcome,
        ..
    } = wrapping;
    let (records_now, ret) = (local("__instrument_records"), local("__instrument_ret"));
    let original = &block.stmts;
    *block = parse_quote!({
        #statics
        #deferred::new(#records, move |#records_now: bool| {
            let #probe = if #records_now { #start } else { ::core::option::Option::None };
            #future::made(
                #probe,
                async move {
                    #(let _ = &#moved;)*
                    #fake_return
                    #(#original)*
                },
                |#ret| #outcome,
            )
        })
    });
    true
}

/// Whether `attrs`, the attributes left on an item after this macro's, are all built-in ones
/// that no macro acts on: another attribute macro (`#[tokio::main]`, `#[async_trait]`) may
/// expect to find an `async fn`.
pub(crate) fn attrs_inert(attrs: &[Attribute]) -> bool {
    const INERT: &[&str] = &[
        "doc",
        "inline",
        "cold",
        "allow",
        "warn",
        "deny",
        "forbid",
        "expect",
        "deprecated",
        "cfg",
    ];
    attrs.iter().all(|attr| {
        let path = attr.path();
        let first = path.segments.first().map(|s| s.ident.to_string());
        match first.as_deref() {
            Some("rustfmt" | "clippy") => path.segments.len() > 1,
            Some(name) => path.segments.len() == 1 && INERT.contains(&name),
            None => false,
        }
    })
}
