//! `#[derive(Metrics)]`: a struct whose fields are OpenTelemetry instruments gets `new(&Meter)`
//! and a process-wide `global()` that follows the installed meter provider.
//!
//! A counter, up-down counter, histogram or gauge field must be the `instrument::metrics` type,
//! which records the request's context attributes; OpenTelemetry's own type of the same name
//! records only the attributes given, so a set declared with it would lose them silently. A
//! derive sees tokens, not types, so this is checked twice:
//!
//! - by path, with an error naming the type to use: a field type whose path has an
//!   `opentelemetry` segment (`opentelemetry::metrics::Counter<u64>`,
//!   `instrument::__private::opentelemetry::metrics::Histogram<f64>`);
//! - by type, for what a path cannot show (`use opentelemetry::metrics::Counter;` then
//!   `Counter<u64>`, or a module alias such as `otel::Counter<u64>`): the expansion asks the
//!   compiler that every such field type is one of the `instrument::metrics` types, and the
//!   error is on the field's type.
//!
//! Between the two, none of OpenTelemetry's four gets through: a type alias of another name is
//! not an instrument type to the derive at all (it reports the field as unsupported). Observable
//! instruments are accepted under either path: `instrument::metrics` re-exports OpenTelemetry's
//! (their callbacks record what they are given).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Field, Fields, Ident, Path, Token, Type, parse_quote};

use crate::args::RawOptions;
use crate::names::{buckets, check_instrument_name, unit};

/// The options `#[metrics(..)]` takes on the struct.
const STRUCT_OPTIONS: &[&str] = &["scope", "crate", "context"];
/// The options `#[metric(..)]` takes on a field.
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

/// Expands `#[derive(Metrics)]`, or the errors of its input.
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
        let built = reject_opentelemetry_type(&field.ty, &krate).and_then(|()| {
            field_initializer(ident, &field.ty, &field.attrs, scope.as_deref(), &krate)
        });
        match built {
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
    let context_check = context_instrument_check(fields, &krate);
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
        #context_check
    })
}

/// Rejects a field typed with OpenTelemetry's own counter, up-down counter, histogram or gauge
/// by a path that shows it (one with an `opentelemetry` segment), with the error on the field's
/// type naming the `instrument::metrics` type to use. A type imported or aliased under another
/// path is left to [`context_instrument_check`].
fn reject_opentelemetry_type(ty: &Type, krate: &Path) -> syn::Result<()> {
    let Type::Path(path) = ty else {
        return Ok(());
    };
    let Some(last) = path.path.segments.last() else {
        return Ok(());
    };
    let from_opentelemetry = path
        .path
        .segments
        .iter()
        .any(|segment| segment.ident == "opentelemetry");
    let name = last.ident.to_string();
    if !from_opentelemetry || !CONTEXT_KINDS.contains(&name.as_str()) {
        return Ok(());
    }
    let arguments = &last.arguments;
    let suggested = format!(
        "{}::metrics::{name}{}",
        facade_name(krate),
        quote!(#arguments)
    )
    .replace(' ', "");
    Err(syn::Error::new_spanned(
        ty,
        format!(
            "use `{suggested}`: `opentelemetry::metrics::{name}` records no request-context \
             attributes"
        ),
    ))
}

/// The instrument kinds whose `instrument::metrics` type differs from OpenTelemetry's: it
/// records the request's context attributes.
const CONTEXT_KINDS: &[&str] = &["Counter", "UpDownCounter", "Histogram", "Gauge"];

/// The facade's path as the user wrote it in `crate = ..` (`instrument` by default), for
/// messages.
fn facade_name(krate: &Path) -> String {
    quote!(#krate)
        .to_string()
        .replace(' ', "")
        .trim_start_matches("::")
        .to_owned()
}

/// A compile-time check that every counter, up-down counter, histogram and gauge field is the
/// `instrument::metrics` type, whatever path names it: OpenTelemetry's type imported under a
/// plain name passes [`reject_opentelemetry_type`], and fails here with the error on the
/// field's type.
fn context_instrument_check(fields: &Punctuated<Field, Token![,]>, krate: &Path) -> TokenStream {
    let checked: Vec<&Type> = fields
        .iter()
        .map(|field| &field.ty)
        .filter(|ty| instrument_kind(ty).is_ok_and(|(kind, _)| !kind.starts_with("observable")))
        .collect();
    if checked.is_empty() {
        return quote!();
    }
    let facade = facade_name(krate);
    let message = format!(
        "`{{Self}}` is not an `{facade}::metrics` instrument: it would record no request-context \
         attributes"
    );
    let label = format!("use the `{facade}::metrics` type of this name");
    let calls = checked
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> context_instrument::<#ty>();));
    let kinds = CONTEXT_KINDS.iter().map(|kind| format_ident!("{kind}"));
    quote! {
        const _: () = {
            #[diagnostic::on_unimplemented(message = #message, label = #label)]
            trait ContextInstrument {}
            #(impl<T> ContextInstrument for #krate::metrics::#kinds<T> {})*
            fn context_instrument<I: ContextInstrument>() {}
            #[allow(dead_code)]
            fn fields() {
                #(#calls)*
            }
        };
    }
}

/// `meter.<kind>(name).with_unit(..).with_description(..)...build()` for one field.
fn field_initializer(
    ident: &Ident,
    ty: &Type,
    attrs: &[syn::Attribute],
    scope: Option<&str>,
    krate: &Path,
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
        (Some(path), true) => {
            quote!(.with_callback(#krate::__private::pipeline_callback(#path)))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The error `reject_opentelemetry_type` gives for `ty`, if any.
    fn rejection(ty: Type, krate: Path) -> Option<String> {
        reject_opentelemetry_type(&ty, &krate)
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn opentelemetry_paths_name_the_type_to_use() {
        let facade: Path = parse_quote!(::instrument);
        for (ty, expected) in [
            (
                parse_quote!(opentelemetry::metrics::Counter<u64>),
                "use `instrument::metrics::Counter<u64>`: `opentelemetry::metrics::Counter` \
                 records no request-context attributes",
            ),
            (
                parse_quote!(::opentelemetry::metrics::Histogram<f64>),
                "use `instrument::metrics::Histogram<f64>`",
            ),
            (
                parse_quote!(instrument::__private::opentelemetry::metrics::UpDownCounter<i64>),
                "use `instrument::metrics::UpDownCounter<i64>`",
            ),
            (
                parse_quote!(opentelemetry::metrics::Gauge<u64>),
                "use `instrument::metrics::Gauge<u64>`",
            ),
        ] {
            let error = rejection(ty, facade.clone()).unwrap_or_default();
            assert!(error.starts_with(expected), "{error}");
        }
        let renamed = rejection(
            parse_quote!(opentelemetry::metrics::Counter<f64>),
            parse_quote!(telemetry),
        );
        assert!(
            renamed
                .unwrap_or_default()
                .starts_with("use `telemetry::metrics::Counter<f64>`")
        );
    }

    #[test]
    fn other_paths_are_left_to_the_type_check() {
        let facade: Path = parse_quote!(::instrument);
        for ty in [
            parse_quote!(instrument::metrics::Counter<u64>),
            parse_quote!(Counter<u64>),
            parse_quote!(otel::Histogram<f64>),
            parse_quote!(opentelemetry::metrics::ObservableGauge<i64>),
            parse_quote!(opentelemetry::metrics::ObservableUpDownCounter<i64>),
            parse_quote!((u64, u64)),
        ] {
            assert_eq!(rejection(ty, facade.clone()), None);
        }
    }

    #[test]
    fn the_type_check_covers_the_context_kinds_only() {
        let fields: syn::FieldsNamed = parse_quote!({
            requests: Counter<u64>,
            queued: ObservableGauge<i64>,
        });
        let check = context_instrument_check(&fields.named, &parse_quote!(::instrument));
        let text = check.to_string();
        assert!(
            text.contains("context_instrument :: < Counter < u64 > >"),
            "{text}"
        );
        assert!(!text.contains("ObservableGauge"), "{text}");

        let observable_only: syn::FieldsNamed = parse_quote!({
            queued: ObservableGauge<i64>,
        });
        assert!(
            context_instrument_check(&observable_only.named, &parse_quote!(::instrument))
                .is_empty()
        );
    }
}
