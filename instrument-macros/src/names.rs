//! The OpenTelemetry rules for instrument names, units and histogram buckets, checked at
//! compile time.

use proc_macro2::Span;

use crate::args::RawOption;

/// Longest instrument name the OpenTelemetry API accepts.
const MAX_NAME_LEN: usize = 255;
/// Longest unit the OpenTelemetry API accepts.
const MAX_UNIT_LEN: usize = 63;

/// Checks an instrument name: a letter, then letters, digits, `_`, `.`, `-` or `/`, at most 255.
pub(crate) fn check_instrument_name(name: &str, span: Span) -> syn::Result<()> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if !starts_with_letter || !rest_ok {
        return Err(syn::Error::new(
            span,
            format!(
                "invalid instrument name `{name}`: it must start with a letter and contain only letters, digits, `_`, `.`, `-` and `/`"
            ),
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(syn::Error::new(
            span,
            format!(
                "invalid instrument name: {} characters, at most {MAX_NAME_LEN} allowed",
                name.len()
            ),
        ));
    }
    Ok(())
}

/// The string value of `option`, checked as an instrument name.
pub(crate) fn instrument_name(option: &RawOption) -> syn::Result<String> {
    let literal = option.string()?;
    check_instrument_name(&literal.value(), literal.span())?;
    Ok(literal.value())
}

/// The string value of `option`, checked as a unit: ASCII, at most 63 characters.
pub(crate) fn unit(option: &RawOption) -> syn::Result<String> {
    let literal = option.string()?;
    let unit = literal.value();
    if !unit.is_ascii() || unit.len() > MAX_UNIT_LEN {
        return Err(syn::Error::new(
            literal.span(),
            format!("invalid unit `{unit}`: a unit is ASCII and at most {MAX_UNIT_LEN} characters"),
        ));
    }
    Ok(unit)
}

/// The bucket boundaries of `option`: not empty, finite, strictly increasing.
pub(crate) fn buckets(option: &RawOption) -> syn::Result<Vec<f64>> {
    let values = option.numbers()?;
    if values.is_empty() {
        return Err(syn::Error::new(
            option.span(),
            "`buckets` must list at least one boundary",
        ));
    }
    for (i, (value, span)) in values.iter().enumerate() {
        if !value.is_finite() {
            return Err(syn::Error::new(*span, "bucket boundaries must be finite"));
        }
        if i > 0 && *value <= values[i - 1].0 {
            return Err(syn::Error::new(
                *span,
                format!(
                    "bucket boundaries must increase: {value} does not follow {}",
                    values[i - 1].0
                ),
            ));
        }
    }
    Ok(values.into_iter().map(|(value, _)| value).collect())
}
