//! The one place the process environment is read. Setup reads its variables (`OTEL_*`,
//! `INSTRUMENT_*`) through [`read`] once per install, unless the builder said `ignore_env()`;
//! the integrations that look a variable up when first used (`OTEL_PROPAGATORS`,
//! `OTEL_SEMCONV_STABILITY_OPT_IN`) go through [`setting`], which answers nothing while the
//! installed telemetry ignores the environment. [`number`] warns about a value that is not a
//! number, naming the variable, and the caller's default applies.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::diagnostics::warn;

static IGNORED: AtomicBool = AtomicBool::new(false);

/// Whether the installed telemetry ignores the environment (set by each install).
pub(crate) fn set_ignored(ignored: bool) {
    IGNORED.store(ignored, Ordering::Relaxed);
}

/// The variable's value, trimmed; `None` when unset, empty or not Unicode.
pub(crate) fn read(name: &str) -> Option<String> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// [`read`], for an integration's setting: nothing while the installed telemetry ignores the
/// environment.
#[cfg(feature = "http")]
pub(crate) fn setting(name: &str) -> Option<String> {
    if IGNORED.load(Ordering::Relaxed) {
        return None;
    }
    read(name)
}

/// The variable as a number; a value that is not one is reported (naming the variable) and
/// left out.
pub(crate) fn number<T: FromStr>(name: &str, value: Option<&str>) -> Option<T> {
    let value = value?;
    match value.parse() {
        Ok(number) => Some(number),
        Err(_) => {
            warn(&format!(
                "{name}={value:?} is not a valid number; using the default"
            ));
            None
        }
    }
}

/// A user's preference that is not a telemetry setting (`NO_COLOR`, `RUST_LOG`): read whatever
/// `ignore_env()` says.
pub(crate) fn preference(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Parses the variable `name`'s `key1=value1,key2=value2` (`OTEL_RESOURCE_ATTRIBUTES`,
/// `OTEL_EXPORTER_OTLP_HEADERS`), percent-decoding values; malformed pairs are reported.
pub(crate) fn key_value_list(name: &str, value: &str) -> Vec<(String, String)> {
    value
        .split(',')
        .filter(|pair| !pair.trim().is_empty())
        .filter_map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Some((k.trim().to_owned(), percent_decode(v.trim())))
            }
            _ => {
                warn(&format!(
                    "{name} has a malformed pair {pair:?}; skipping it"
                ));
                None
            }
        })
        .collect()
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(byte) = value
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_parsed_and_anything_else_left_out() {
        assert_eq!(
            number::<usize>("OTEL_BSP_MAX_QUEUE_SIZE", Some("2048")),
            Some(2048)
        );
        assert_eq!(
            number::<usize>("OTEL_BSP_MAX_QUEUE_SIZE", Some("lots")),
            None
        );
        assert_eq!(number::<usize>("OTEL_BSP_MAX_QUEUE_SIZE", None), None);
    }
}
