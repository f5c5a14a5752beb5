//! `#[metric]`: times a function (or every method of an `impl` block) into a histogram and/or
//! counts its calls, through the runtime's `Timer`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::{Block, Ident, Item, Path, Signature, parse_quote};

use crate::args::RawOptions;
use crate::names::{buckets, instrument_name, unit};
use crate::wrap::{
    CallSiteName, Owner, SyncShape, Wrapping, local, not_a_function, refuse_const, wrap_body,
    wrap_impl,
};

const ATTR: &str = "metric";
const OPTIONS: &[&str] = &[
    "histogram",
    "counter",
    "unit",
    "description",
    "buckets",
    "err",
    "crate",
];

/// The validated options of one `#[metric(...)]`.
struct MetricOptions {
    histogram: Option<String>,
    counter: Option<String>,
    unit: String,
    description: Option<String>,
    buckets: Vec<f64>,
    err: bool,
    krate: Path,
}

impl MetricOptions {
    fn parse(attr: TokenStream) -> syn::Result<Self> {
        let raw: RawOptions = syn::parse2(attr.clone())?;
        raw.check_keys(OPTIONS)?;
        let mut options = MetricOptions {
            histogram: None,
            counter: None,
            unit: "ms".to_owned(),
            description: None,
            buckets: Vec::new(),
            err: false,
            krate: parse_quote!(::instrument),
        };
        for option in &raw.0 {
            match option.key.to_string().as_str() {
                "histogram" => options.histogram = Some(instrument_name(option)?),
                "counter" => options.counter = Some(instrument_name(option)?),
                "unit" => options.unit = unit(option)?,
                "description" => options.description = Some(option.string()?.value()),
                "buckets" => options.buckets = buckets(option)?,
                "err" => {
                    option.flag()?;
                    options.err = true;
                }
                "crate" => options.krate = option.path()?,
                _ => unreachable!("keys are checked above"),
            }
        }
        if options.histogram.is_none() && options.counter.is_none() {
            let span = raw
                .0
                .first()
                .map_or_else(proc_macro2::Span::call_site, |o| o.span());
            return Err(syn::Error::new(
                span,
                "`#[metric]` needs an instrument: `histogram = \"name\"` (durations) and/or `counter = \"name\"` (calls)",
            ));
        }
        if !options.buckets.is_empty() && options.histogram.is_none() {
            let option = raw
                .0
                .iter()
                .find(|o| o.key == "buckets")
                .expect("buckets were given");
            return Err(syn::Error::new(
                option.span(),
                "`buckets` needs a `histogram`",
            ));
        }
        Ok(options)
    }
}

/// Instruments `item` under the options in `attr`, or says what is wrong, on the offending token.
pub(crate) fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = MetricOptions::parse(attr)?;
    match syn::parse2::<Item>(item)? {
        Item::Fn(mut function) => {
            instrument_fn(
                &mut function.sig,
                &mut function.block,
                &options,
                Owner::Function,
                false,
            )?;
            Ok(function.into_token_stream())
        }
        Item::Impl(block) => {
            Ok(wrap_impl(block, ATTR, &options, MetricOptions::parse, instrument_fn)?.0)
        }
        other => Err(not_a_function(&other, ATTR)),
    }
}

fn instrument_fn(
    sig: &mut Signature,
    block: &mut Block,
    options: &MetricOptions,
    owner: Owner<'_>,
    attrs_inert: bool,
) -> syn::Result<()> {
    refuse_const(sig, ATTR)?;
    let krate = &options.krate;
    let name = CallSiteName::of(sig, owner, None);
    let self_type = name.self_type();
    let optional = |value: &Option<String>| match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let histogram = optional(&options.histogram);
    let counter = optional(&options.counter);
    let unit = &options.unit;
    let described = |default: String| options.description.clone().unwrap_or(default);
    let description = described(format!("Duration of `{}` calls", sig.ident));
    let counter_description = described(format!("Calls of `{}`", sig.ident));
    let buckets = &options.buckets;
    let spec = quote!(#krate::__private::MetricSpec {
        histogram: #histogram,
        counter: #counter,
        unit: #unit,
        description: #description,
        counter_description: #counter_description,
        buckets: &[#(#buckets),*],
    });
    let meta = match name {
        CallSiteName::Fixed { display, .. } => {
            quote!(#krate::__private::MetricMeta::new(#display, ::core::module_path!(), #spec))
        }
        CallSiteName::OfSelf { method } => {
            quote!(#krate::__private::MetricMeta::method_of_self(#method, ::core::module_path!(), #spec))
        }
    };
    // Sync, the returned value is `__instrument_ret`; async, a reference to it.
    let result_check = |is_reference: bool| {
        options.err.then(|| {
            let at = match &sig.output {
                syn::ReturnType::Type(_, ty) => syn::spanned::Spanned::span(ty),
                syn::ReturnType::Default => sig.ident.span(),
            };
            // A type ascription spanned on the return type: misuse is reported on the user's
            // token.
            let ret_at = Ident::new("__instrument_ret", at.resolved_at(Span::mixed_site()));
            let returned = if is_reference {
                quote_spanned!(at=> #ret_at)
            } else {
                quote_spanned!(at=> &#ret_at)
            };
            let check = quote_spanned!(at=> let _: &::core::result::Result<_, _> = #returned;);
            quote! {
                #[allow(unreachable_code)]
                if false {
                    #check
                }
            }
        })
    };
    let sync_check = result_check(false);
    let async_check = result_check(true);
    let probe = local("__instrument_timer");
    let ret = local("__instrument_ret");
    let wrapping = Wrapping {
        recorded: Vec::new(),
        flat: None,
        prelude: quote! {
            #[allow(unused_imports)]
            use #krate::__private::prelude::*;
            static __INSTRUMENT_METRIC: #krate::__private::MetricMeta = #meta;
            let #probe = if #krate::__private::metrics_enabled() {
                ::core::option::Option::Some(#krate::__private::Timer::start(&__INSTRUMENT_METRIC, #self_type))
            } else {
                ::core::option::Option::None
            };
        },
        sync: SyncShape::Around {
            once: parse_quote!(#krate::__private::once),
            finish: quote! {
                #sync_check
                if let ::core::option::Option::Some(#probe) = #probe {
                    #probe.finish((&&&&#krate::__private::Returned(&#ret)).__instrument_outcome());
                }
                #ret
            },
        },
        future: parse_quote!(#krate::__private::Timed),
        outcome: quote!({
            #async_check
            (&&&&#krate::__private::Returned(#ret)).__instrument_outcome()
        }),
        probe,
    };
    wrap_body(sig, block, &wrapping, attrs_inert);
    Ok(())
}
