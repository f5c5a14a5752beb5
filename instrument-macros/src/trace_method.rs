//! `#[trace_method]`: validates its options against the item, then replaces the function body by
//! a thin wrapper around the original body. Everything that runs lives in the runtime.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::{Block, Ident, Item, LitStr, Path, Signature, parse_quote};

use crate::args::{RawOption, RawOptions};
use crate::async_fn::{FlatAsync, attrs_inert};
use crate::params::Params;
use crate::wrap::{
    CallSiteName, Owner, SyncShape, UnrawString, Wrapping, local, not_a_function, refuse_const,
    returns_never, wrap_body, wrap_impl,
};

const ATTR: &str = "trace_method";
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
                "exclude" => options.exclude = option.names()?,
                "include" => options.include = option.names()?,
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

    /// Fails on the first excluded or included name that is not in `bound`.
    fn check_names(&self, bound: &[Ident], message: impl Fn(&Ident) -> String) -> syn::Result<()> {
        match self
            .exclude
            .iter()
            .chain(&self.include)
            .find(|name| !bound.contains(name))
        {
            Some(name) => Err(syn::Error::new(name.span(), message(name))),
            None => Ok(()),
        }
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

/// Instruments `item` under the options in `attr`, or says what is wrong, on the offending token.
pub(crate) fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = TraceOptions::parse(attr)?;
    match syn::parse2::<Item>(item)? {
        Item::Fn(mut function) => {
            let params = Params::of(&function.sig);
            options.check_names(&params.bindings, |name| {
                format!("`{name}` is not a parameter of `{}`", function.sig.ident)
            })?;
            let inert = attrs_inert(&function.attrs);
            instrument_fn(
                &mut function.sig,
                &mut function.block,
                &options,
                Owner::Function,
                inert,
            )?;
            Ok(function.into_token_stream())
        }
        Item::Impl(block) => {
            let (tokens, bound) =
                wrap_impl(block, ATTR, &options, TraceOptions::parse, instrument_fn)?;
            options.check_names(&bound, |name| {
                format!("no method of this `impl` has a parameter `{name}`")
            })?;
            Ok(tokens)
        }
        other => Err(not_a_function(&other, ATTR)),
    }
}

/// Replaces `block` by the instrumented body (and an `async fn`'s signature by a `fn`'s
/// returning a future, when `attrs_inert`: see `wrap_body`).
fn instrument_fn(
    sig: &mut Signature,
    block: &mut Block,
    options: &TraceOptions,
    owner: Owner<'_>,
    attrs_inert: bool,
) -> syn::Result<()> {
    refuse_const(sig, ATTR)?;
    let krate = &options.krate;
    let probe = local("__instrument_span");
    let (body, start, ret) = (
        local("__instrument_body"),
        local("__instrument_start"),
        local("__instrument_ret"),
    );
    let setup = Setup::of(sig, options, owner);
    let Setup {
        statics,
        self_type,
        captures,
        recorded,
    } = &setup;
    // The closure handed to `trace_call` declares `-> !` as the body's does, or its return type
    // would be inferred from the outcome check.
    let handed = if returns_never(sig) {
        quote!(move |#start| -> ! { #body(#start) })
    } else {
        quote!(move |#start| #body(#start))
    };
    let wrapping = Wrapping {
        recorded: recorded.clone(),
        flat: Some(FlatAsync {
            statics: statics.clone(),
            first: quote! {
                if #krate::__private::armed() {
                    #krate::__private::begin(&__INSTRUMENT_META, #self_type, &[#(#captures),*]);
                }
            },
            traced: parse_quote!(#krate::__private::Traced),
            site: quote!(|| &__INSTRUMENT_META),
        }),
        prelude: quote! {
            #statics
            let #probe = if __INSTRUMENT_META.is_off() {
                ::core::option::Option::None
            } else {
                #krate::__private::start(&__INSTRUMENT_META, #self_type, &[#(#captures),*])
            };
        },
        sync: SyncShape::Handed {
            statics: statics.clone(),
            once: parse_quote!(#krate::__private::once_traced),
            arg: quote!(#start: ::core::option::Option<&mut #krate::__private::SpanStart>),
            first: quote! {
                if let ::core::option::Option::Some(#start) = #start {
                    #start.start(&[#(#captures),*]);
                }
            },
            dispatch: quote! {
                if __INSTRUMENT_META.is_off() {
                    #body(::core::option::Option::None)
                } else {
                    #krate::__private::trace_call(
                        &__INSTRUMENT_META,
                        #self_type,
                        // A closure made here, so the body's captures are stored for the
                        // call on this path only.
                        #handed,
                        |#ret| (&&&&#krate::__private::Returned(#ret)).__instrument_outcome(),
                    )
                }
            },
        },
        future: parse_quote!(#krate::__private::Instrumented),
        outcome: quote!((&&&&#krate::__private::Returned(#ret)).__instrument_outcome()),
        probe,
    };
    wrap_body(sig, block, &wrapping, attrs_inert);
    Ok(())
}

/// What a wrapped body needs of its call site: the statements declaring its metadata
/// (`__INSTRUMENT_META`), the `Self` type name it may resolve its name from, one capture
/// expression per recorded parameter, and those parameters.
struct Setup {
    statics: TokenStream,
    self_type: TokenStream,
    captures: Vec<TokenStream>,
    recorded: Vec<Ident>,
}

impl Setup {
    fn of(sig: &Signature, options: &TraceOptions, owner: Owner<'_>) -> Self {
        let krate = &options.krate;
        let at = sig.ident.span();
        let file = quote_spanned!(at=> ::core::file!());
        let line = quote_spanned!(at=> ::core::line!());
        let kind = &options.kind;
        let kind = quote!(#krate::__private::SpanKind::#kind);

        let params = Params::of(sig);
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
        let captures = recorded
        .iter()
        .map(|ident| {
            quote!(&(&&&&&#krate::__private::Param(&#ident)).__instrument_capture() as &dyn #krate::__private::Capture)
        })
        .collect();

        let name = CallSiteName::of(sig, owner, options.name.as_ref().map(LitStr::value));
        let self_type = name.self_type();
        let meta = match name {
            CallSiteName::Fixed { display, function } => {
                quote!(#krate::__private::SpanMeta::new(#display, #function, #file, #line, #kind, &__INSTRUMENT_PARAMS))
            }
            CallSiteName::OfSelf { method } => {
                let explicit = match &options.name {
                    Some(name) => quote!(::core::option::Option::Some(#name)),
                    None => quote!(::core::option::Option::None),
                };
                quote!(#krate::__private::SpanMeta::method_of_self(#method, #explicit, #file, #line, #kind, &__INSTRUMENT_PARAMS))
            }
        };
        let param_count = recorded.len();
        let statics = quote! {
            #[allow(unused_imports)]
            use #krate::__private::prelude::*;
            static __INSTRUMENT_PARAMS: [#krate::__private::ParamMeta; #param_count] = [#(#param_metas),*];
            static __INSTRUMENT_META: #krate::__private::SpanMeta = #meta;
        };
        Setup {
            statics,
            self_type,
            captures,
            recorded: recorded.to_vec(),
        }
    }
}
