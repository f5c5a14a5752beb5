//! `#[trace_method]`: validates its options against the item, then replaces the function body by
//! a thin wrapper around the original body. Everything that runs lives in the runtime.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::{
    Block, Expr, Ident, ImplItem, Item, ItemImpl, LitStr, Path, ReturnType, Signature, Stmt, Type,
    parse_quote,
};

use crate::args::{RawOption, RawOptions};
use crate::params::Params;

const OPTIONS: &[&str] = &["name", "exclude", "include", "skip_all", "kind", "crate"];
const KINDS: &[(&str, &str)] = &[
    ("internal", "Internal"),
    ("server", "Server"),
    ("client", "Client"),
    ("producer", "Producer"),
    ("consumer", "Consumer"),
];

/// The validated options of one `#[trace_method(...)]`.
struct TraceOptions {
    name: Option<LitStr>,
    exclude: Vec<Ident>,
    include: Vec<Ident>,
    skip_all: Option<Ident>,
    kind: Ident,
    krate: Path,
}

impl TraceOptions {
    fn parse(attr: TokenStream) -> syn::Result<Self> {
        let raw: RawOptions = syn::parse2(attr)?;
        raw.check_keys(OPTIONS)?;
        let mut options = TraceOptions {
            name: None,
            exclude: Vec::new(),
            include: Vec::new(),
            skip_all: None,
            kind: Ident::new("Internal", Span::call_site()),
            krate: parse_quote!(::instrument),
        };
        for option in &raw.0 {
            match option.key.to_string().as_str() {
                "name" => options.name = Some(span_name(option)?),
                "exclude" => options.exclude = option.list()?.to_vec(),
                "include" => options.include = option.list()?.to_vec(),
                "skip_all" => {
                    option.flag()?;
                    options.skip_all = Some(option.key.clone());
                }
                "kind" => options.kind = span_kind(option)?,
                "crate" => options.krate = option.path()?,
                _ => unreachable!("keys are checked above"),
            }
        }
        if let Some(both) = options.include.iter().find(|i| options.exclude.contains(i)) {
            return Err(syn::Error::new(
                both.span(),
                format!("`{both}` is both excluded and included"),
            ));
        }
        if let Some(skip_all) = &options.skip_all {
            if !options.exclude.is_empty() || !options.include.is_empty() {
                return Err(syn::Error::new(
                    skip_all.span(),
                    "`skip_all` records no parameter: it cannot be combined with `exclude` or `include`",
                ));
            }
        }
        Ok(options)
    }

    /// Fails on the first excluded or included name that `params` does not bind.
    fn check_names(&self, params: &Params, fn_name: &Ident) -> syn::Result<()> {
        for name in self.exclude.iter().chain(&self.include) {
            if !params.contains(name) {
                return Err(syn::Error::new(
                    name.span(),
                    format!("`{name}` is not a parameter of `{fn_name}`"),
                ));
            }
        }
        Ok(())
    }
}

fn span_name(option: &RawOption) -> syn::Result<LitStr> {
    let name = option.string()?;
    let text = name.value();
    if text.trim().is_empty() {
        return Err(syn::Error::new(name.span(), "span name must not be empty"));
    }
    if text.trim() != text || text.chars().any(char::is_control) {
        return Err(syn::Error::new(
            name.span(),
            "span name must not start or end with whitespace or contain control characters",
        ));
    }
    Ok(name)
}

fn span_kind(option: &RawOption) -> syn::Result<Ident> {
    let (word, span) = option.word()?;
    KINDS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, variant)| Ident::new(variant, span))
        .ok_or_else(|| {
            let names: Vec<_> = KINDS.iter().map(|(n, _)| *n).collect();
            syn::Error::new(
                span,
                format!(
                    "unknown span kind `{word}`; expected one of: {}",
                    names.join(", ")
                ),
            )
        })
}

/// Expands `#[trace_method(attr)]` on `item`. On error, the error and the item unchanged.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    try_expand(attr, item.clone()).unwrap_or_else(|error| with_item(error, item))
}

/// Validates `#[trace_method(attr)]` on `item` without instrumenting it (feature `off`):
/// the errors with the item unchanged, or `None` when all is well.
pub(crate) fn validate_only(attr: TokenStream, item: TokenStream) -> Option<TokenStream> {
    try_expand(attr, item.clone())
        .err()
        .map(|error| with_item(error, item))
}

fn with_item(error: syn::Error, item: TokenStream) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#error #item)
}

fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = TraceOptions::parse(attr)?;
    match syn::parse2::<Item>(item)? {
        Item::Fn(mut function) => {
            instrument_fn(&function.sig, &mut function.block, &options, None)?;
            Ok(function.into_token_stream())
        }
        Item::Impl(block) => instrument_impl(block, &options),
        other => Err(not_a_function(&other)),
    }
}

fn not_a_function(item: &Item) -> syn::Error {
    let message = "`#[trace_method]` applies to functions and `impl` blocks";
    match item {
        Item::Struct(s) => syn::Error::new_spanned(s.struct_token, message),
        Item::Enum(e) => syn::Error::new_spanned(e.enum_token, message),
        Item::Trait(t) => syn::Error::new_spanned(t.trait_token, message),
        Item::Mod(m) => syn::Error::new_spanned(m.mod_token, message),
        Item::Const(c) => syn::Error::new_spanned(c.const_token, message),
        Item::Static(s) => syn::Error::new_spanned(s.static_token, message),
        Item::Type(t) => syn::Error::new_spanned(t.type_token, message),
        Item::Use(u) => syn::Error::new_spanned(u.use_token, message),
        other => syn::Error::new_spanned(other, message),
    }
}

/// Instruments every method of an `impl` block; a method's own `#[trace_method(...)]` replaces
/// the block's options for that method. `const fn`s are left as they are.
fn instrument_impl(mut block: ItemImpl, options: &TraceOptions) -> syn::Result<TokenStream> {
    let owner = owner_name(&block.self_ty);
    let mut bound_names: Vec<Ident> = Vec::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        let own = method
            .attrs
            .iter()
            .position(|a| a.path().is_ident("trace_method"));
        let own_options = match own {
            Some(index) => {
                let attr = method.attrs.remove(index);
                let tokens = match attr.meta {
                    syn::Meta::Path(_) => TokenStream::new(),
                    syn::Meta::List(list) => list.tokens,
                    syn::Meta::NameValue(nv) => {
                        return Err(syn::Error::new_spanned(
                            nv,
                            "expected `#[trace_method(...)]`",
                        ));
                    }
                };
                Some(TraceOptions::parse(tokens)?)
            }
            None => None,
        };
        if method.sig.constness.is_some() && own_options.is_none() {
            continue;
        }
        bound_names.extend(Params::of(&method.sig).bindings);
        let options = own_options.as_ref().unwrap_or(options);
        instrument_fn(
            &method.sig,
            &mut method.block,
            options,
            Some(owner.as_deref()),
        )?;
    }
    if let Some(unknown) = options
        .exclude
        .iter()
        .chain(&options.include)
        .find(|n| !bound_names.contains(n))
    {
        return Err(syn::Error::new(
            unknown.span(),
            format!("no method of this `impl` has a parameter `{unknown}`"),
        ));
    }
    Ok(block.into_token_stream())
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

trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for Ident {
    fn unraw_string(&self) -> String {
        let text = self.to_string();
        text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
    }
}

/// Replaces `block` by the instrumented body. `owner` is `Some` inside an `impl` block, with the
/// self type's name when it is known syntactically.
fn instrument_fn(
    sig: &Signature,
    block: &mut Block,
    options: &TraceOptions,
    owner: Option<Option<&str>>,
) -> syn::Result<()> {
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "`#[trace_method]` cannot instrument a `const fn`: spans start at run time",
        ));
    }
    let params = Params::of(sig);
    if owner.is_none() {
        options.check_names(&params, &sig.ident)?;
    }
    let krate = &options.krate;
    let prelude = setup_tokens(sig, options, &params, owner);
    let finish = quote! {
        if let ::core::option::Option::Some(__instrument_span) = __instrument_span {
            __instrument_span.finish((&&&&#krate::__private::Returned(&__instrument_ret)).__instrument_outcome());
        }
        __instrument_ret
    };
    let original = &*block;
    let new_block: Block = if sig.asyncness.is_some() {
        let fake_return = fake_return_edge(sig);
        parse_quote!({
            #prelude
            let (__instrument_ret, __instrument_span) = #krate::__private::Instrumented::new(
                __instrument_span,
                async move { #fake_return #original },
            ).await;
            #finish
        })
    } else if let Some((before, future)) = async_trait_body(block) {
        parse_quote!({
            #(#before)*
            #prelude
            ::std::boxed::Box::pin(async move {
                let (__instrument_ret, __instrument_span) =
                    #krate::__private::Instrumented::new(__instrument_span, #future).await;
                #finish
            })
        })
    } else {
        let fake_return = fake_return_edge(sig);
        parse_quote!({
            #prelude
            #[allow(clippy::redundant_closure_call)]
            let __instrument_ret = #krate::__private::call(&__instrument_span, move || {
                #fake_return
                #original
            });
            #finish
        })
    };
    *block = new_block;
    Ok(())
}

/// The statements that declare the call site's metadata and start the span.
fn setup_tokens(
    sig: &Signature,
    options: &TraceOptions,
    params: &Params,
    owner: Option<Option<&str>>,
) -> TokenStream {
    let krate = &options.krate;
    let fn_name = sig.ident.unraw_string();
    let at = sig.ident.span();
    let file = quote_spanned!(at=> ::core::file!());
    let line = quote_spanned!(at=> ::core::line!());
    let kind = &options.kind;
    let kind = quote!(#krate::__private::SpanKind::#kind);

    let recorded: &[Ident] = if options.skip_all.is_some() {
        &[]
    } else {
        &params.bindings
    };
    let param_metas = recorded.iter().map(|ident| {
        let name = ident.unraw_string();
        let key = format!("parameter.{name}");
        let rule = if options.exclude.contains(ident) {
            quote!(Exclude)
        } else if options.include.contains(ident) {
            quote!(Include)
        } else {
            quote!(Default)
        };
        quote!(#krate::__private::ParamMeta { name: #name, key: #key, rule: #krate::__private::ParamRule::#rule })
    });
    let captures = recorded.iter().map(|ident| {
        quote!(&(&&&&#krate::__private::Param(&#ident)).__instrument_capture() as &dyn #krate::__private::Capture)
    });

    let explicit_name = options.name.as_ref().map(LitStr::value);
    let (meta, self_type) = match owner {
        Some(Some(owner)) => {
            let name = explicit_name.unwrap_or_else(|| format!("{owner}.{fn_name}"));
            let function =
                quote!(::core::concat!(::core::module_path!(), "::", #owner, "::", #fn_name));
            (
                quote!(#krate::__private::SpanMeta::new(#name, #function, #file, #line, #kind, &__INSTRUMENT_PARAMS)),
                quote!(::core::option::Option::None),
            )
        }
        Some(None) => method_of_self(krate, &fn_name, explicit_name, &file, &line, &kind),
        None if params.has_receiver => {
            method_of_self(krate, &fn_name, explicit_name, &file, &line, &kind)
        }
        None => {
            let name = explicit_name.unwrap_or_else(|| fn_name.clone());
            let function = quote!(::core::concat!(::core::module_path!(), "::", #fn_name));
            (
                quote!(#krate::__private::SpanMeta::new(#name, #function, #file, #line, #kind, &__INSTRUMENT_PARAMS)),
                quote!(::core::option::Option::None),
            )
        }
    };
    let param_count = recorded.len();
    quote! {
        #[allow(unused_imports)]
        use #krate::__private::prelude::*;
        static __INSTRUMENT_PARAMS: [#krate::__private::ParamMeta; #param_count] = [#(#param_metas),*];
        static __INSTRUMENT_META: #krate::__private::SpanMeta = #meta;
        let __instrument_span = if #krate::__private::enabled() {
            #krate::__private::start(&__INSTRUMENT_META, #self_type, &[#(#captures),*])
        } else {
            ::core::option::Option::None
        };
    }
}

fn method_of_self(
    krate: &Path,
    fn_name: &str,
    explicit_name: Option<String>,
    file: &TokenStream,
    line: &TokenStream,
    kind: &TokenStream,
) -> (TokenStream, TokenStream) {
    let explicit = match explicit_name {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    (
        quote!(#krate::__private::SpanMeta::method_of_self(#fn_name, #explicit, #file, #line, #kind, &__INSTRUMENT_PARAMS)),
        quote!(::core::option::Option::Some(
            ::core::any::type_name::<Self>()
        )),
    )
}

/// An unreachable `return` of the declared type, so that `?` and `return` in the moved body
/// infer the function's own return type.
fn fake_return_edge(sig: &Signature) -> TokenStream {
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
