//! Wrapping a function body, shared by the attribute macros: the sync closure, the async future
//! wrapper, `#[async_trait]` bodies, `impl` blocks, and the names a call site is known by.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::{
    Block, Expr, Ident, ImplItem, ItemImpl, Path, ReturnType, Signature, Stmt, Type, parse_quote,
};

use crate::async_fn::{FlatAsync, attrs_inert, flat_future, rebind_params};
use crate::params::Params;

/// Where a function sits: alone (or as a method whose attribute is on the method itself), or in
/// an instrumented `impl` block whose self type may be known by name.
#[derive(Clone, Copy)]
pub(crate) enum Owner<'a> {
    /// The attribute is on the function.
    Function,
    /// The attribute is on the `impl` block; the self type's name when it is a plain path.
    Impl(Option<&'a str>),
}

/// How a call site names itself at run time.
pub(crate) enum CallSiteName {
    /// Known at compile time: display name and function path tokens.
    Fixed {
        display: String,
        function: TokenStream,
    },
    /// A method named after `Self`, resolved at run time.
    OfSelf { method: String },
}

impl CallSiteName {
    /// The name of `sig` under `owner`; `explicit` overrides the display name.
    pub fn of(sig: &Signature, owner: Owner<'_>, explicit: Option<String>) -> Self {
        let fn_name = sig.ident.unraw_string();
        match owner {
            Owner::Impl(Some(owner)) => CallSiteName::Fixed {
                display: explicit.unwrap_or_else(|| format!("{owner}.{fn_name}")),
                function: quote!(
                    ::core::concat!(::core::module_path!(), "::", #owner, "::", #fn_name)
                ),
            },
            Owner::Impl(None) => CallSiteName::OfSelf { method: fn_name },
            Owner::Function if Params::of(sig).has_receiver => {
                CallSiteName::OfSelf { method: fn_name }
            }
            Owner::Function => CallSiteName::Fixed {
                display: explicit.unwrap_or_else(|| fn_name.clone()),
                function: quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
            },
        }
    }

    /// The `Option<&'static str>` the runtime resolves `Self` from.
    pub fn self_type(&self) -> TokenStream {
        match self {
            CallSiteName::Fixed { .. } => quote!(::core::option::Option::None),
            CallSiteName::OfSelf { .. } => quote!(::core::option::Option::Some(
                ::core::any::type_name::<Self>()
            )),
        }
    }
}

/// The parts a macro contributes to a wrapped body. `prelude` binds `probe` to an `Option` of
/// the runtime's guard; `outcome` says how the call ended from `__instrument_ret`, a reference
/// to the returned value, for the `future` wrapper (`new(probe, body, outcome closure)`) to
/// finish the guard with.
pub(crate) struct Wrapping {
    pub prelude: TokenStream,
    /// An `async fn`'s flat shape, where its macro has one (see `async_fn.rs`).
    pub flat: Option<FlatAsync>,
    /// The parameters `prelude` records (and so uses).
    pub recorded: Vec<Ident>,
    pub probe: Ident,
    pub sync: SyncShape,
    pub future: Path,
    pub outcome: TokenStream,
}

/// How a synchronous body is wrapped.
pub(crate) enum SyncShape {
    /// `prelude`, the body in a closure passed through `once` and called directly, then
    /// `finish`, which consumes the probe and reads `__instrument_ret`.
    Around { once: Path, finish: TokenStream },
    /// `statics`, then the body in a closure taking `arg` that runs `first` before the body's
    /// statements, passed through `once` and bound to `__instrument_body`; `dispatch` calls it.
    Handed {
        statics: TokenStream,
        once: Path,
        arg: TokenStream,
        first: TokenStream,
        dispatch: TokenStream,
    },
}

/// Replaces `block` by `wrapping` around the original body, for sync fns (in a closure, so
/// `return` and `?` stay the body's own), async fns (in a future wrapper), and the
/// `Box::pin(async move { .. })` bodies `#[async_trait]` makes.
///
/// A sync body's closure goes through the runtime's `once`, an identity fn whose `FnOnce` bound
/// fixes the closure's kind: a body that mutates what it captures (`&mut self`, a `mut`
/// parameter) or returns a reborrow of a captured `&mut` is then as valid in the closure as in
/// the fn, and the closure is called through a plain binding.
///
/// An `async fn` becomes a `fn` returning the flat future (see
/// [`flat_future`](crate::async_fn::flat_future)) when its macro has that shape, `attrs_inert`
/// (no other macro will see the item after this one) and its parameters allow it; otherwise it
/// stays an `async fn` awaiting the wrapped body.
pub(crate) fn wrap_body(
    sig: &mut Signature,
    block: &mut Block,
    wrapping: &Wrapping,
    attrs_inert: bool,
) {
    let Wrapping {
        prelude,
        flat,
        recorded,
        probe,
        sync,
        future,
        outcome,
    } = wrapping;
    if let Some(flat) = flat
        && sig.asyncness.is_some()
        && attrs_inert
        && flat_future(sig, block, flat, recorded, outcome)
    {
        return;
    }
    // The body's statements, not its block: a block in tail position warns (`unused_braces`)
    // for one-line bodies, and the user could not silence it.
    let original = &block.stmts;
    let (body, ret) = (local("__instrument_body"), local("__instrument_ret"));
    let await_body = quote! {
        match #probe {
            ::core::option::Option::None => #future::bare(#probe, #body).await,
            #probe => #future::new(#probe, #body, |#ret| #outcome).await,
        }
    };
    let new_block: Block = if sig.asyncness.is_some() {
        let fake_return = fake_return_edge(sig);
        let rebound = rebind_params(sig, recorded);
        // Off (no probe), the body is awaited as it is: no wrapper future, no second state; the
        // probe goes into `bare`, so it is not kept across the await. On, the wrapper future
        // ends the probe itself.
        parse_quote!({
            #prelude
            let #body = async move { #(#rebound)* #fake_return #(#original)* };
            #await_body
        })
    } else if let Some((before, async_block)) = async_trait_body(block) {
        parse_quote!({
            #(#before)*
            #prelude
            ::std::boxed::Box::pin(async move {
                let #body = #async_block;
                #await_body
            })
        })
    } else {
        let fake_return = fake_return_edge(sig);
        let never = returns_never(sig).then(|| quote!(-> !));
        match sync {
            // A fn that never returns has nothing to finish: a panic drops the probe, which
            // records the call as failed.
            SyncShape::Around { once, .. } if never.is_some() => parse_quote!({
                #prelude
                #once(move || #never { #(#original)* })()
            }),
            SyncShape::Around { once, finish } => parse_quote!({
                #prelude
                let #ret = #once(move || { #fake_return #(#original)* })();
                #finish
            }),
            SyncShape::Handed {
                statics,
                once,
                arg,
                first,
                dispatch,
            } => parse_quote!({
                #statics
                let #body = #once(move |#arg| #never { #fake_return #first #(#original)* });
                #dispatch
            }),
        }
    };
    *block = new_block;
}

/// Applies a macro to every method of an `impl` block. A method's own attribute named
/// `attr_name` replaces the block's options for that method; `const fn`s without one are left
/// as they are. Returns the block and every parameter name its methods bind.
pub(crate) fn wrap_impl<O>(
    mut block: ItemImpl,
    attr_name: &str,
    options: &O,
    parse: impl Fn(TokenStream) -> syn::Result<O>,
    mut instrument: impl FnMut(&mut Signature, &mut Block, &O, Owner<'_>, bool) -> syn::Result<()>,
) -> syn::Result<(TokenStream, Vec<Ident>)> {
    let owner = owner_name(&block.self_ty);
    let impl_inert = attrs_inert(&block.attrs);
    let mut bound_names = Vec::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        let own_options = match method
            .attrs
            .iter()
            .position(|a| a.path().is_ident(attr_name))
        {
            Some(index) => {
                let tokens = match method.attrs.remove(index).meta {
                    syn::Meta::Path(_) => TokenStream::new(),
                    syn::Meta::List(list) => list.tokens,
                    syn::Meta::NameValue(nv) => {
                        return Err(syn::Error::new_spanned(
                            nv,
                            format!("expected `#[{attr_name}(...)]`"),
                        ));
                    }
                };
                Some(parse(tokens)?)
            }
            None => None,
        };
        if method.sig.constness.is_some() && own_options.is_none() {
            continue;
        }
        bound_names.extend(Params::of(&method.sig).bindings);
        let options = own_options.as_ref().unwrap_or(options);
        let inert = impl_inert && attrs_inert(&method.attrs);
        instrument(
            &mut method.sig,
            &mut method.block,
            options,
            Owner::Impl(owner.as_deref()),
            inert,
        )?;
    }
    Ok((block.into_token_stream(), bound_names))
}

/// Fails on `const fn`, which cannot run instrumentation.
pub(crate) fn refuse_const(sig: &Signature, attr_name: &str) -> syn::Result<()> {
    match &sig.constness {
        Some(constness) => Err(syn::Error::new_spanned(
            constness,
            format!(
                "`#[{attr_name}]` cannot instrument a `const fn`: recording is not possible in a const context"
            ),
        )),
        None => Ok(()),
    }
}

/// The error for an item that is neither a function nor an `impl` block.
pub(crate) fn not_a_function(item: &syn::Item, attr_name: &str) -> syn::Error {
    let message = format!("`#[{attr_name}]` applies to functions and `impl` blocks");
    match item {
        syn::Item::Struct(s) => syn::Error::new_spanned(s.struct_token, message),
        syn::Item::Enum(e) => syn::Error::new_spanned(e.enum_token, message),
        syn::Item::Trait(t) => syn::Error::new_spanned(t.trait_token, message),
        syn::Item::Mod(m) => syn::Error::new_spanned(m.mod_token, message),
        syn::Item::Const(c) => syn::Error::new_spanned(c.const_token, message),
        syn::Item::Static(s) => syn::Error::new_spanned(s.static_token, message),
        syn::Item::Type(t) => syn::Error::new_spanned(t.type_token, message),
        syn::Item::Use(u) => syn::Error::new_spanned(u.use_token, message),
        other => syn::Error::new_spanned(other, message),
    }
}

/// `error` followed by `item` unchanged, so one mistake gives one error.
pub(crate) fn with_item(error: syn::Error, item: TokenStream) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#error #item)
}

/// The name of an impl's self type, when it is a plain path.
fn owner_name(self_ty: &Type) -> Option<String> {
    match self_ty {
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map(|s| s.ident.unraw_string())
        }
        Type::Reference(r) => owner_name(&r.elem),
        Type::Paren(p) => owner_name(&p.elem),
        Type::Group(g) => owner_name(&g.elem),
        _ => None,
    }
}

/// A local variable of an expansion, named `name` with mixed-site hygiene: the user's code (a
/// parameter, a body's own local) neither sees nor shadows it.
pub(crate) fn local(name: &str) -> Ident {
    Ident::new(name, proc_macro2::Span::mixed_site())
}

/// An identifier's text without the `r#` of a raw identifier.
pub(crate) trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for Ident {
    fn unraw_string(&self) -> String {
        let text = self.to_string();
        text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
    }
}

/// Whether `sig` returns `!`, which cannot be named in a `let` but can be a closure's return type.
pub(crate) fn returns_never(sig: &Signature) -> bool {
    matches!(&sig.output, ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)))
}

/// An unreachable `return` of the declared type, so that `?` and `return` in the moved body
/// infer the function's own return type (none for `-> !`, whose closure declares it).
pub(crate) fn fake_return_edge(sig: &Signature) -> TokenStream {
    if returns_never(sig) {
        return TokenStream::new();
    }
    let (ty, span) = match &sig.output {
        ReturnType::Default => (quote!(()), sig.ident.span()),
        ReturnType::Type(_, ty) => (
            erase_impl_trait(ty).into_token_stream(),
            syn::spanned::Spanned::span(ty),
        ),
    };
    quote_spanned! {span=>
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop, clippy::let_unit_value, clippy::unreachable)]
        if false {
            let __instrument_fake_return: #ty = loop {};
            return __instrument_fake_return;
        }
    }
}

/// `impl Trait` cannot be named in a `let`: replace it by `_`.
fn erase_impl_trait(ty: &Type) -> Type {
    let mut ty = ty.clone();
    erase_in_place(&mut ty);
    ty
}

fn erase_in_place(ty: &mut Type) {
    match ty {
        Type::ImplTrait(_) => *ty = parse_quote!(_),
        Type::Reference(r) => erase_in_place(&mut r.elem),
        Type::Slice(s) => erase_in_place(&mut s.elem),
        Type::Array(a) => erase_in_place(&mut a.elem),
        Type::Ptr(p) => erase_in_place(&mut p.elem),
        Type::Paren(p) => erase_in_place(&mut p.elem),
        Type::Group(g) => erase_in_place(&mut g.elem),
        Type::Tuple(t) => t.elems.iter_mut().for_each(erase_in_place),
        Type::Path(p) => {
            for segment in &mut p.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    for arg in &mut args.args {
                        if let syn::GenericArgument::Type(t) = arg {
                            erase_in_place(t);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// The body `#[async_trait]` makes of an `async fn`: statements, then `Box::pin(async move {..})`.
fn async_trait_body(block: &Block) -> Option<(&[Stmt], &Expr)> {
    let (last, before) = block.stmts.split_last()?;
    let Stmt::Expr(Expr::Call(call), None) = last else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let is_box_pin = segments.ends_with(&["Box".to_owned(), "pin".to_owned()]);
    match call.args.first() {
        Some(future @ Expr::Async(_)) if is_box_pin && call.args.len() == 1 => {
            Some((before, future))
        }
        _ => None,
    }
}
