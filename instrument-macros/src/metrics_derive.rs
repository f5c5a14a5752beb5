//! `#[derive(Metrics)]`: a struct whose fields are OpenTelemetry instruments gets `new(&Meter)`
//! and a process-wide `global()` that follows the installed meter provider.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, Ident, Path, Type, parse_quote};

use crate::args::RawOptions;
use crate::names::{buckets, check_instrument_name, unit};

const STRUCT_OPTIONS: &[&str] = &["scope", "crate", "context"];
const FIELD_OPTIONS: &[&str] = &["name", "unit", "description", "buckets", "callback"];

/// The instrument kinds a field may have, with the value types each supports.
const KINDS: &[(&str, &str, &[&str])] = &[
    ("Counter", "counter", &["u64", "f64"]),
    ("UpDownCounter", "up_down_counter", &["i64", "f64"]),
    ("Histogram", "histogram", &["u64", "f64"]),
    ("Gauge", "gauge", &["u64", "i64", "f64"]),
    (
        "ObservableGauge",
        "observable_gauge",
        &["u64", "i64", "f64"],
    ),
    (
        "ObservableUpDownCounter",
        "observable_up_down_counter",
        &["i64", "f64"],
    ),
];

/// Expands `#[derive(Metrics)]`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    try_expand(input).unwrap_or_else(syn::Error::into_compile_error)
}

fn try_expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "`#[derive(Metrics)]` does not support generic structs",
        ));
    }
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => &named.named,
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "`#[derive(Metrics)]` needs named fields",
                ));
            }
        },
        Data::Enum(e) => {
            return Err(syn::Error::new_spanned(
                e.enum_token,
                "`#[derive(Metrics)]` applies to structs",
            ));
        }
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(
                u.union_token,
                "`#[derive(Metrics)]` applies to structs",
            ));
        }
    };

    let mut scope: Option<String> = None;
    let mut krate: Path = parse_quote!(::instrument);
    let mut with_context = true;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("metrics")) {
        let raw: RawOptions = attr.parse_args()?;
        raw.check_keys(STRUCT_OPTIONS)?;
        for option in &raw.0 {
            match option.key.to_string().as_str() {
                "scope" => {
                    let literal = option.string()?;
                    if literal.value().trim().is_empty() {
                        return Err(syn::Error::new(literal.span(), "`scope` must not be empty"));
                    }
                    scope = Some(literal.value());
                }
                "crate" => krate = option.path()?,
                "context" => with_context = option.bool()?,
                _ => unreachable!("keys are checked above"),
            }
        }
    }

    let mut initializers = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for field in fields {
        let ident = field.ident.as_ref().expect("named fields");
        match field_initializer(ident, &field.ty, &field.attrs, scope.as_deref()) {
            Ok(built) => initializers.push(quote! {
                #ident: #krate::__private::FromInstrument::from_instrument(#built, #with_context)
            }),
            Err(error) => match &mut errors {
                Some(all) => all.combine(error),
                None => errors = Some(error),
            },
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }

    // Observable gauges are held only to keep their callback registered: read them once, so
    // the user's crate gets no dead-code warning for them.
    let observable: Vec<&Ident> = fields
        .iter()
        .filter(|f| instrument_kind(&f.ty).is_ok_and(|(kind, _)| kind.starts_with("observable")))
        .filter_map(|f| f.ident.as_ref())
        .collect();
    let name = &input.ident;
    let keep_alive = (!observable.is_empty()).then(|| {
        quote! {
            const _: () = {
                #[allow(dead_code)]
                fn keep_alive(set: &#name) {
                    #(let _ = &set.#observable;)*
                }
            };
        }
    });
    let scope_tokens = match &scope {
        Some(scope) => quote!(#scope),
        None => quote!(::core::env!("CARGO_PKG_NAME")),
    };
    Ok(quote! {
        impl #name {
            /// Creates every instrument of this set from `meter`.
            pub fn new(meter: &#krate::__private::opentelemetry::metrics::Meter) -> Self {
                Self { #(#initializers,)* }
            }

            /// The process-wide set: created on first use from the installed meter provider, and
            /// created again whenever a provider is installed later, so a set touched before
            /// setup still records after it.
            pub fn global() -> ::std::sync::Arc<Self> {
                static INSTANCE: #krate::__private::GlobalInstruments<#name> = #krate::__private::GlobalInstruments::new();
                INSTANCE.get(#scope_tokens, Self::new)
            }
        }
        #keep_alive
    })
}

/// `meter.<kind>(name).with_unit(..).with_description(..)...build()` for one field.
fn field_initializer(
    ident: &Ident,
    ty: &Type,
    attrs: &[syn::Attribute],
    scope: Option<&str>,
) -> syn::Result<TokenStream> {
    let (kind, value) = instrument_kind(ty)?;
    let mut name: Option<String> = None;
    let mut unit_value: Option<String> = None;
    let mut description = doc_comment(attrs);
    let mut bucket_values: Option<(Vec<f64>, Span)> = None;
    let mut callback: Option<Path> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("metric")) {
        let raw: RawOptions = attr.parse_args()?;
        raw.check_keys(FIELD_OPTIONS)?;
        for option in &raw.0 {
            match option.key.to_string().as_str() {
                "name" => {
                    let literal = option.string()?;
                    check_instrument_name(&literal.value(), literal.span())?;
                    name = Some(literal.value());
                }
                "unit" => unit_value = Some(unit(option)?),
                "description" => description = Some(option.string()?.value()),
                "buckets" => bucket_values = Some((buckets(option)?, option.span())),
                "callback" => callback = Some(option.path()?),
                _ => unreachable!("keys are checked above"),
            }
        }
    }
    let name = match name {
        Some(name) => name,
        None => {
            let derived = match scope {
                Some(scope) => format!("{scope}.{ident}"),
                None => ident.to_string(),
            };
            check_instrument_name(&derived, ident.span())?;
            derived
        }
    };
    let is_observable = kind.starts_with("observable");
    if let Some((_, span)) = &bucket_values {
        if kind != "histogram" {
            return Err(syn::Error::new(
                *span,
                "`buckets` applies to `Histogram` fields only",
            ));
        }
    }
    let callback = match (callback, is_observable) {
        (Some(path), true) => quote!(.with_callback(#path)),
        (None, true) => {
            return Err(syn::Error::new_spanned(
                ty,
                "an observable field (`ObservableGauge`, `ObservableUpDownCounter`) needs `#[metric(callback = path::to::fn)]`",
            ));
        }
        (Some(path), false) => {
            return Err(syn::Error::new_spanned(
                path,
                "`callback` applies to observable fields only (`ObservableGauge`, `ObservableUpDownCounter`)",
            ));
        }
        (None, false) => quote!(),
    };
    let builder = format_ident!("{value}_{kind}");
    let unit = unit_value.map(|u| quote!(.with_unit(#u)));
    let description = description.map(|d| quote!(.with_description(#d)));
    let buckets =
        bucket_values.map(|(values, _)| quote!(.with_boundaries(::std::vec![#(#values),*])));
    Ok(quote!(meter.#builder(#name) #unit #description #buckets #callback .build()))
}

/// The builder suffix and value type of an instrument field type such as `Histogram<f64>`.
fn instrument_kind(ty: &Type) -> syn::Result<(&'static str, String)> {
    let unsupported = || {
        let kinds: Vec<String> = KINDS
            .iter()
            .map(|(name, _, values)| format!("{name}<{}>", values.join("|")))
            .collect();
        syn::Error::new_spanned(
            ty,
            format!(
                "unsupported instrument type; expected one of: {}",
                kinds.join(", ")
            ),
        )
    };
    let Type::Path(path) = ty else {
        return Err(unsupported());
    };
    let segment = path.path.segments.last().ok_or_else(unsupported)?;
    let (_, kind, values) = KINDS
        .iter()
        .find(|(name, _, _)| segment.ident == name)
        .ok_or_else(unsupported)?;
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return Err(unsupported());
    };
    let value = match args.args.first() {
        Some(syn::GenericArgument::Type(Type::Path(p))) if args.args.len() == 1 => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => return Err(unsupported()),
    };
    if !values.contains(&value.as_str()) {
        return Err(unsupported());
    }
    Ok((kind, value))
}

/// The field's doc comment, lines trimmed and joined, as the default description.
fn doc_comment(attrs: &[syn::Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .filter(|line| !line.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}
