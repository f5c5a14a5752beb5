//! Parameter capture: turns a call's arguments into bounded span attributes.
//!
//! Each parameter gets one of three treatments, decided by its name and the configuration
//! ([`Treatment`]): its value text (bounded per value and per span), an `(excluded ...)`
//! placeholder that keeps its type and id, or `[redacted]`.

mod autoref;
mod bounded;
mod config;
mod ids;
mod integer;
mod param_text;
mod redact;
mod scalar;
mod secret_scan;
mod sink;
mod thread_cache;
mod type_name;

pub(crate) use autoref::WriteStop;
pub use autoref::{Capture, Param, ViaDebug, ViaJson, ViaOpaque, ViaScalar, ViaText};
pub(crate) use bounded::{BoundedText, floor_char_boundary};
pub use config::{
    CaptureConfig, DEFAULT_CREDENTIAL_SCHEMES, DEFAULT_EXCLUDED, DEFAULT_MAX_SPAN_BYTES,
    DEFAULT_MAX_VALUE_BYTES, DEFAULT_NEVER_EXCLUDED, DEFAULT_SECRET_NAMES, capture_config,
    set_capture_config, temporary_capture_config,
};
pub use ids::{Ids, MAX_LISTED_IDS, find_ids};
pub use integer::Written;
pub use param_text::ShortText;
pub(crate) use param_text::{CapturedParam, ParamText};
pub use type_name::short_type_name;
pub(crate) use type_name::{base_type_name, type_path, variant_name};

pub(crate) use config::{generation, with_config};

/// Held by unit tests that change the capture configuration or depend on its defaults.
#[cfg(test)]
pub(crate) static TEST_CONFIG_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
pub(crate) use redact::Redacted;
pub use redact::write_redacted_json;
pub(crate) use secret_scan::Syntax;
pub(crate) use thread_cache::{is_secret_name, is_secret_static, limits};

/// Values hidden as secrets: the process's count (outside any scoped pipeline), or a scoped
/// pipeline's own.
#[derive(Debug, Default)]
struct Redactions(std::sync::atomic::AtomicU64);

static PROCESS_REDACTIONS: Redactions = Redactions(std::sync::atomic::AtomicU64::new(0));

/// Runs `f` with the redaction count of the pipeline in force.
fn with_redactions<R>(f: impl FnOnce(&std::sync::atomic::AtomicU64) -> R) -> R {
    match crate::state::with_scoped(|pipeline| pipeline.extension::<Redactions>()) {
        Some(scoped) => f(&scoped.0),
        None => f(&PROCESS_REDACTIONS.0),
    }
}

/// Counts `count` values hidden as secrets.
pub(crate) fn count_redactions(count: u64) {
    if count > 0 {
        with_redactions(|total| total.fetch_add(count, std::sync::atomic::Ordering::Relaxed));
    }
}

/// How many values the toolkit has recorded as `[redacted]` since the process started (since it
/// was built, inside a pipeline a thread holds with `TelemetryGuard::set_default`):
/// secret-named parameters, fields and keys, and secrets found inside text (URL passwords,
/// secret query parameters, `Bearer` credentials, `name: value` pairs).
///
/// ```
/// let before = instrument::capture::redactions();
/// assert_eq!(instrument::capture::redact_text("postgres://app:pw@db/main"), "postgres://app:[redacted]@db/main");
/// assert!(instrument::capture::redactions() > before);
/// ```
pub fn redactions() -> u64 {
    with_redactions(|total| total.load(std::sync::atomic::Ordering::Relaxed))
}

/// `text` with the secrets inside it hidden, under the capture configuration in force: the
/// password of a URL (`scheme://user:[redacted]@host`), secret-named query and `name=value`
/// parameters, `name: value` pairs, and `Bearer`/`Basic` credentials. Text with nothing to hide
/// is returned as it is, without a copy.
///
/// ```
/// use instrument::capture::redact_text;
/// assert_eq!(redact_text("GET /v1/models?api_key=sk-123&limit=5"), "GET /v1/models?api_key=[redacted]&limit=5");
/// assert_eq!(redact_text("Authorization: Bearer eyJhbGciOi"), "Authorization: [redacted]");
/// assert_eq!(redact_text("Bearer eyJhbGciOi"), "Bearer [redacted]");
/// assert_eq!(redact_text("max_tokens=512"), "max_tokens=512");
/// ```
pub fn redact_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !secret_scan::may_hold_secret(text.as_bytes()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = BoundedText::new(usize::MAX);
    out.push(text.as_bytes());
    if out.redactions() == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(out.finish(None))
}

use crate::diagnostics::{contain, report_failure};

/// Attribute set on a span whose parameters did not all fit in `max_span_bytes`.
pub const TRUNCATED_KEY: &str = "parameters.truncated";
/// Attribute giving why parameters were dropped.
pub const TRUNCATED_REASON_KEY: &str = "parameters.truncated_reason";
/// The text recorded for a parameter whose name looks like a secret.
pub const REDACTED: &str = "[redacted]";

/// What the macro says about one parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamRule {
    /// Decided by the configuration's lists.
    Default,
    /// Named in `exclude = [...]`.
    Exclude,
    /// Named in `include = [...]`: the default exclusion list does not apply.
    Include,
}

/// How a parameter is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Treatment {
    /// Its value text.
    Record,
    /// A placeholder with its type and id.
    Exclude,
    /// `[redacted]`.
    Redact,
}

impl Treatment {
    /// Decides the treatment of parameter `name` under `rule` and `config`. Secrets are always
    /// redacted, even when excluded or included explicitly.
    pub(crate) fn decide(name: &str, rule: ParamRule, config: &CaptureConfig) -> Self {
        if config.is_secret(name) {
            return Treatment::Redact;
        }
        match rule {
            ParamRule::Exclude => Treatment::Exclude,
            ParamRule::Include => Treatment::Record,
            ParamRule::Default if config.is_excluded_by_default(name) => Treatment::Exclude,
            ParamRule::Default => Treatment::Record,
        }
    }
}

/// One parameter to capture: its attribute key, treatment and value.
pub(crate) struct ParamValue<'a> {
    pub key: &'static str,
    pub treatment: Treatment,
    pub value: &'a dyn Capture,
}

/// Where captured parameters go: short texts written in place into the sink's room when it has
/// one, everything else handed over as a [`CapturedParam`]. A closure taking
/// [`CapturedParam`]s is a sink with no room.
pub(crate) trait ParamSink<'a> {
    /// Room for the next parameter's text, written in place; `None` when there is none.
    fn room(&mut self) -> Option<&mut [u8]>;
    /// The first `len` bytes of the room are now `key`'s text.
    fn commit(&mut self, key: &'static str, len: usize);
    /// A parameter (or the truncation mark) not written in place.
    fn record(&mut self, captured: CapturedParam<'a>);
    /// The first 8 bytes of the room are now `key`'s integer (an `i64`'s when `signed`, else a
    /// `u64`'s), its digits to be written where the span is exported.
    fn commit_integer(&mut self, key: &'static str, signed: bool);
}

impl<'a, F: FnMut(CapturedParam<'a>)> ParamSink<'a> for F {
    fn room(&mut self) -> Option<&mut [u8]> {
        None
    }
    fn commit(&mut self, _: &'static str, _: usize) {}
    fn commit_integer(&mut self, _: &'static str, _: bool) {}
    fn record(&mut self, captured: CapturedParam<'a>) {
        self(captured);
    }
}

/// Hands the captured `params` to `sink` in order, within `max_value_bytes` per value and
/// `max_span_bytes` in all (the configuration's limits, as [`limits`] gives them).
pub(crate) fn capture_params<'a>(
    params: impl Iterator<Item = ParamValue<'a>>,
    (max_value_bytes, max_span_bytes): (usize, usize),
    sink: &mut impl ParamSink<'a>,
) {
    let truncated = CapturedParam::Truncated { max_span_bytes };
    let mut used = 0usize;
    for param in params {
        let remaining = max_span_bytes.saturating_sub(used + param.key.len());
        let text = match param.treatment {
            Treatment::Redact => {
                count_redactions(1);
                ParamText::Short(ShortText::Borrowed(REDACTED))
            }
            Treatment::Exclude => ParamText::Owned(excluded_placeholder(param.value)),
            Treatment::Record => {
                let limit = max_value_bytes.min(remaining);
                // Within `limit`, so within what remains of the span's budget.
                let written = sink
                    .room()
                    .and_then(|room| param.value.write_short(limit, room));
                if let Some(written) = written {
                    let len = match written {
                        Written::Text(len) => {
                            sink.commit(param.key, len);
                            len
                        }
                        Written::Integer { digits, signed } => {
                            sink.commit_integer(param.key, signed);
                            digits
                        }
                    };
                    used += param.key.len() + len;
                    continue;
                }
                match param.value.text_within(limit) {
                    Some(short) => ParamText::Short(short),
                    _ => match value_text(param.value, limit) {
                        ValueText::Cut(_) if limit < max_value_bytes => {
                            sink.record(truncated);
                            return;
                        }
                        ValueText::Whole(text) | ValueText::Cut(text) => ParamText::Owned(text),
                    },
                }
            }
        };
        let len = text.as_bytes().len();
        if len > remaining {
            sink.record(truncated);
            return;
        }
        used += param.key.len() + len;
        sink.record(CapturedParam::Value {
            key: param.key,
            text,
        });
    }
}

/// A value's text, whole or cut at the limit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ValueText {
    Whole(String),
    Cut(String),
}

thread_local! {
    /// The buffer values are written into before being copied to an exactly-sized `String`.
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A scratch buffer larger than this is freed rather than kept for the thread's next capture.
const MAX_KEPT_SCRATCH: usize = 64 * 1024;

/// Writes `value`'s text within `limit` bytes. A failing or panicking `Serialize`/`Debug` impl
/// gives `<serialization failed: T>` and is counted; it never reaches the caller.
pub(crate) fn value_text(value: &dyn Capture, limit: usize) -> ValueText {
    if !value.is_writable() {
        return ValueText::Whole(format!(
            "<unserializable: {}>",
            short_type_name(value.type_name())
        ));
    }
    if let Some(text) = value.text_within(limit) {
        return ValueText::Whole(text.as_str().to_owned());
    }
    let mut out = BoundedText::with_buffer(SCRATCH.take(), limit);
    let written = contain(|| value.write_text(&mut out));
    let cut = match written {
        Ok(Ok(())) => false,
        Ok(Err(WriteStop::Limit)) => true,
        Ok(Err(WriteStop::Failed)) | Err(_) => {
            report_failure(
                "a parameter's Serialize/Debug impl failed or panicked while being captured",
            );
            return ValueText::Whole(format!(
                "<serialization failed: {}>",
                short_type_name(value.type_name())
            ));
        }
    };
    let (text, buffer) = out.finish_reusing(if cut { value.exact_len() } else { None });
    if buffer.capacity() <= MAX_KEPT_SCRATCH {
        SCRATCH.set(buffer);
    }
    if cut {
        ValueText::Cut(text)
    } else {
        ValueText::Whole(text)
    }
}

/// `value` as parameter capture records it: JSON with secret-named fields and keys hidden at
/// any depth and secrets inside its strings hidden (URL passwords, secret query parameters,
/// `Bearer` credentials), cut at `limit` bytes with the truncation marker.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Db { url: &'static str, pool: u32 }
///
/// let text = instrument::capture::json_text(&Db { url: "postgres://app:pw@db/main", pool: 5 }, 1024);
/// assert_eq!(text, r#"{"url":"postgres://app:[redacted]@db/main","pool":5}"#);
/// ```
pub fn json_text<T: serde::Serialize + ?Sized>(value: &T, limit: usize) -> String {
    match value_text(&(&&Param(value)).__instrument_capture(), limit) {
        ValueText::Whole(text) | ValueText::Cut(text) => text,
    }
}

/// Writes with `write` into a bounded buffer of `limit` bytes, reusing this thread's scratch
/// allocation, and returns the finished text (see [`BoundedText::finish`]).
#[cfg(feature = "tracing")]
pub(crate) fn with_scratch<R>(
    limit: usize,
    write: impl FnOnce(&mut BoundedText) -> R,
) -> (R, String) {
    let mut out = BoundedText::with_buffer(SCRATCH.take(), limit);
    let result = write(&mut out);
    let (text, buffer) = out.finish_reusing(None);
    if buffer.capacity() <= MAX_KEPT_SCRATCH {
        SCRATCH.set(buffer);
    }
    (result, text)
}

/// The placeholder of an excluded value: `<Type (excluded, id=42)>`,
/// `<Vec<Message> (excluded, ids=[m1,m2,m3,m4,m5] (12 total))>` or `<Type (excluded)>`.
pub(crate) fn excluded_placeholder(value: &dyn Capture) -> String {
    let ty = short_type_name(value.type_name());
    let ids = contain(|| value.ids()).unwrap_or_else(|_| {
        report_failure("a parameter's Serialize impl panicked while looking for its id");
        Ids::None
    });
    match ids {
        Ids::None => format!("<{ty} (excluded)>"),
        Ids::One(id) => format!("<{ty} (excluded, id={id})>"),
        Ids::Many { ids, total } if ids.is_empty() => format!("<{ty} (excluded, {total} total)>"),
        Ids::Many { ids, total } => {
            format!("<{ty} (excluded, ids=[{}] ({total} total))>", ids.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Serialize, Serializer};

    #[derive(Serialize)]
    struct Message {
        id: &'static str,
    }

    struct Panics;
    impl Serialize for Panics {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            panic!("boom")
        }
    }

    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("nope"))
        }
    }

    fn capture<T: Serialize>(value: &T) -> impl Capture + '_ {
        (&&Param(value)).__instrument_capture()
    }

    #[test]
    fn placeholders() {
        let one = Message { id: "m1" };
        assert_eq!(
            excluded_placeholder(&capture(&one)),
            "<Message (excluded, id=m1)>"
        );
        let many: Vec<Message> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|id| Message { id })
            .collect();
        assert_eq!(
            excluded_placeholder(&capture(&many)),
            "<Vec<Message> (excluded, ids=[a,b,c,d,e] (6 total))>"
        );
        assert_eq!(excluded_placeholder(&capture(&5u8)), "<u8 (excluded)>");
    }

    #[test]
    fn failing_and_panicking_impls_are_contained() {
        assert_eq!(
            value_text(&capture(&Fails), 100),
            ValueText::Whole("<serialization failed: Fails>".into())
        );
        assert_eq!(
            value_text(&capture(&Panics), 100),
            ValueText::Whole("<serialization failed: Panics>".into())
        );
    }

    #[test]
    fn treatment_order() {
        let config = CaptureConfig::default();
        assert_eq!(
            Treatment::decide("messages", ParamRule::Default, &config),
            Treatment::Exclude
        );
        assert_eq!(
            Treatment::decide("messages", ParamRule::Include, &config),
            Treatment::Record
        );
        assert_eq!(
            Treatment::decide("agent_id", ParamRule::Exclude, &config),
            Treatment::Exclude
        );
        assert_eq!(
            Treatment::decide("api_key", ParamRule::Include, &config),
            Treatment::Redact
        );
        assert_eq!(
            Treatment::decide("request_data", ParamRule::Default, &config),
            Treatment::Record
        );
    }

    #[test]
    fn span_budget_drops_the_rest() {
        let config = CaptureConfig {
            max_value_bytes: 100,
            max_span_bytes: 150,
            ..CaptureConfig::default()
        };
        let a = "a".repeat(90);
        let b = "b".repeat(90);
        let (ca, cb) = (capture(&a), capture(&b));
        let mut attrs = Vec::new();
        let params = [("parameter.a", &ca as &dyn Capture), ("parameter.b", &cb)];
        capture_params(
            params.iter().map(|(key, value)| ParamValue {
                key,
                treatment: Treatment::Record,
                value: *value,
            }),
            (config.max_value_bytes, config.max_span_bytes),
            &mut |captured: CapturedParam<'_>| captured.into_attributes(|kv| attrs.push(kv)),
        );
        let keys: Vec<_> = attrs.iter().map(|kv| kv.key.as_str().to_owned()).collect();
        assert_eq!(keys, ["parameter.a", TRUNCATED_KEY, TRUNCATED_REASON_KEY]);
        assert_eq!(attrs[2].value.as_str(), "Total size exceeded 150 bytes");
    }
}
