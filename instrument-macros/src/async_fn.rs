//! An instrumented `async fn`'s own parts: its parameters bound again in the body's block (in
//! either shape), the rewrite as a `fn` returning the runtime's `Traced` future around the body's
//! own future, and when that rewrite is left alone.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::{Attribute, Block, FnArg, Ident, Pat, Path, ReturnType, Signature, parse_quote};

use crate::wrap::{fake_return_edge, local, returns_never};

/// What the flat shape of an instrumented `async fn` needs from its macro: the call site's
/// `statics`, the body's `first` statement (which starts the span when the future is armed at
/// its first poll), the `traced` future type (`new(site, body, outcome closure)`) and the
/// `site`: a closure returning the call site's static (zero-sized, so the future does not carry
/// its address). How the call ended is the wrapping's `outcome`, as in the other shapes.
pub(crate) struct FlatAsync {
    pub statics: TokenStream,
    pub first: TokenStream,
    pub traced: Path,
    pub site: TokenStream,
}

/// Rewrites `async fn f(..) -> T { body }` as `fn f(..) -> impl Future<Output = T>` returning
/// `Traced::new(|| &META, async move { first; body }, outcome)`: the body's own future, made at the
/// call as an `async fn`'s is, which starts the span with its first statement at the first poll.
/// Off, each poll is the body's behind one test of the wrapper (no second state machine); the
/// decision is made at the first poll, as an `async fn`'s first statement would make it.
/// Every parameter is moved into the body's block and bound again there in order, so each is
/// dropped when the future ends, as an `async fn` drops them.
///
/// The `impl` token has the macro's edition (2024): the returned type captures every lifetime
/// in scope, as an `async fn`'s future does, in crates of any edition. Returns `false`, touching
/// nothing, where the rewrite could change what the fn does: a parameter bound by a pattern
/// other than a name (the unbound parts of a pattern, and a `_` parameter, would be dropped at
/// the call), or one with attributes (`#[cfg]`), or a fn returning `!`.
pub(crate) fn flat_future(
    sig: &mut Signature,
    block: &mut Block,
    flat: &FlatAsync,
    recorded: &[Ident],
    outcome: &TokenStream,
) -> bool {
    let simple = sig.inputs.iter().all(|input| match input {
        FnArg::Receiver(_) => true,
        FnArg::Typed(typed) => {
            typed.attrs.is_empty()
                && matches!(&*typed.pat, Pat::Ident(p)
                    if p.by_ref.is_none() && p.subpat.is_none() && p.attrs.is_empty())
        }
    });
    if !simple || returns_never(sig) {
        return false;
    }
    let fake_return = fake_return_edge(sig);
    let rebound = rebind_params(sig, recorded);
    // `self` is moved into the body's future even where the body does not name it, as an
    // `async fn` moves it.
    let receiver: Vec<TokenStream> = sig
        .receiver()
        .map(|receiver| receiver.self_token.to_token_stream())
        .into_iter()
        .collect();
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let returned = quote_spanned!(proc_macro2::Span::mixed_site()=>
        impl ::core::future::Future<Output = #output>
    );
    sig.asyncness = None;
    sig.output = parse_quote!(-> #returned);
    let FlatAsync {
        statics,
        first,
        traced,
        site,
    } = flat;
    let ret = local("__instrument_ret");
    let original = &block.stmts;
    *block = parse_quote!({
        #statics
        #traced::new(
            #site,
            async move {
                #(let _ = &#receiver;)*
                #first
                #(#rebound)*
                #fake_return
                #(#original)*
            },
            |#ret| #outcome,
        )
    });
    true
}

/// The statements that move an `async fn`'s parameters into the body's block and bind them there
/// again, in order, as rustc lowers an `async fn`'s parameters: each is dropped when the body
/// ends, last first, whether the body names it or not. `mut` moves from the signature to the new
/// binding (so each warns as in the plain fn); a parameter `recorded` is used by the recording,
/// as in a sync fn, so its new binding does not warn unused. `self` is left as the body
/// captures it: an `async fn`'s future drops it last.
pub(crate) fn rebind_params(sig: &mut Signature, recorded: &[Ident]) -> Vec<TokenStream> {
    let mut rebound = Vec::new();
    for input in &mut sig.inputs {
        if let FnArg::Typed(typed) = input {
            rebind_pattern(&mut typed.pat, recorded, &mut rebound);
        }
    }
    rebound
}

fn rebind_pattern(pat: &mut Pat, recorded: &[Ident], rebound: &mut Vec<TokenStream>) {
    match pat {
        Pat::Ident(p) if p.ident == "self" => {}
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
            let mutability = p.mutability.take();
            let ident = &p.ident;
            let unused = recorded.contains(ident).then(|| quote!(unused_variables,));
            rebound.push(quote! {
                #[allow(#unused clippy::used_underscore_binding)]
                let #mutability #ident = #ident;
            });
        }
        Pat::Tuple(p) => p
            .elems
            .iter_mut()
            .for_each(|e| rebind_pattern(e, recorded, rebound)),
        Pat::TupleStruct(p) => p
            .elems
            .iter_mut()
            .for_each(|e| rebind_pattern(e, recorded, rebound)),
        Pat::Struct(p) => p
            .fields
            .iter_mut()
            .for_each(|f| rebind_pattern(&mut f.pat, recorded, rebound)),
        Pat::Slice(p) => p
            .elems
            .iter_mut()
            .for_each(|e| rebind_pattern(e, recorded, rebound)),
        Pat::Paren(p) => rebind_pattern(&mut p.pat, recorded, rebound),
        Pat::Type(p) => rebind_pattern(&mut p.pat, recorded, rebound),
        // By reference (`ref x`, `&(a, b)`), bound with a sub-pattern, or alternatives: left
        // as the body captures them.
        _ => {}
    }
}

/// Whether `attrs`, the attributes left on an item after this macro's, are all built-in ones
/// that no macro acts on: another attribute macro (`#[tokio::main]`, `#[async_trait]`) may
/// expect to find an `async fn`. `#[must_use]` is not among them: on an `async fn` it applies to
/// the awaited output, on a `fn` returning a future only to the future.
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
