//! The standard OpenTelemetry environment variables, read once at setup. A bad value is reported
//! on stderr, naming the variable, and the default is used instead.

use std::time::Duration;

use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{Sampler, SpanLimits};

use crate::diagnostics::warn;
use crate::environment;
use crate::export::{BatchSettings, Protocol, TailSampling};

/// Where a signal goes, as `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER` and
/// `OTEL_LOGS_EXPORTER` say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Over OTLP.
    Otlp,
    /// To the console (stderr).
    Console,
    /// Nowhere.
    Off,
}

/// The destination `var` names (`otlp`, `console`, `none`), or the default for whether an OTLP
/// endpoint is set: OTLP when it is, the console otherwise.
pub(crate) fn destination(var: &str, setting: Option<&str>, endpoint_set: bool) -> Destination {
    match setting.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") if endpoint_set => Destination::Otlp,
        None | Some("") => Destination::Console,
        Some("otlp") => Destination::Otlp,
        Some("console") => Destination::Console,
        Some("none") => Destination::Off,
        Some(other) => {
            warn(&format!(
                "{var}: unknown value {other:?} (known: otlp, console, none); using the default"
            ));
            destination(var, None, endpoint_set)
        }
    }
}

/// What the environment says, each field `None` where the variable is unset or invalid.
#[derive(Debug, Default)]
pub(crate) struct EnvSettings {
    pub sdk_disabled: bool,
    pub service_name: Option<String>,
    pub resource_attributes: Vec<(String, String)>,
    pub endpoint: Option<String>,
    /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`.
    pub metrics_endpoint: Option<String>,
    pub protocol: Option<Protocol>,
    /// `OTEL_TRACES_EXPORTER`, as written.
    pub traces_exporter: Option<String>,
    /// `OTEL_METRICS_EXPORTER`, as written.
    pub metrics_exporter: Option<String>,
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`.
    pub timeout: Option<Duration>,
    pub sampler: Option<Sampler>,
    /// `OTEL_TRACES_SAMPLER=instrument_keep_errors` with its `OTEL_TRACES_SAMPLER_ARG`.
    pub tail_sampling: Option<TailSampling>,
    pub metric_interval: Option<Duration>,
    pub temporality: Option<Temporality>,
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`.
    #[cfg(feature = "genai")]
    pub genai_capture_message_content: Option<bool>,
    /// `INSTRUMENT_DB_MONITOR_JOINED_LOADING`.
    pub db_monitor_joined_loading: Option<bool>,
    /// `INSTRUMENT_DB_LAZY_LOADING_ONLY`.
    pub db_lazy_loading_only: Option<bool>,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BSP_SCHEDULE_DELAY`.
    pub batch: BatchSettings,
    /// The SDK's span limits, changed by `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`,
    /// `OTEL_SPAN_EVENT_COUNT_LIMIT` and `OTEL_SPAN_LINK_COUNT_LIMIT`.
    pub span_limits: SpanLimits,
    /// `INSTRUMENT_EXPORT_FILE`.
    #[cfg(feature = "file")]
    pub export_file: Option<String>,
}

impl EnvSettings {
    /// Reads the process environment.
    pub(super) fn from_process() -> Self {
        Self::from_lookup(environment::read)
    }

    /// Reads settings through `lookup`, which returns a variable's value.
    pub(super) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let number =
            |name: &str| -> Option<u64> { environment::number(name, get(name).as_deref()) };
        let endpoint_var = if get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some() {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        } else {
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        };
        let protocol_var = if get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").is_some() {
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
        } else {
            "OTEL_EXPORTER_OTLP_PROTOCOL"
        };
        Self {
            sdk_disabled: get("OTEL_SDK_DISABLED")
                .is_some_and(|v| parse_bool("OTEL_SDK_DISABLED", &v)),
            service_name: get("OTEL_SERVICE_NAME"),
            resource_attributes: get("OTEL_RESOURCE_ATTRIBUTES")
                .map(|v| environment::key_value_list("OTEL_RESOURCE_ATTRIBUTES", &v))
                .unwrap_or_default(),
            endpoint: get(endpoint_var).and_then(|v| valid_endpoint(endpoint_var, v)),
            metrics_endpoint: get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
                .and_then(|v| valid_endpoint("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", v)),
            protocol: get(protocol_var).and_then(|v| parse_protocol(protocol_var, &v)),
            traces_exporter: get("OTEL_TRACES_EXPORTER"),
            metrics_exporter: get("OTEL_METRICS_EXPORTER"),
            timeout: get("OTEL_EXPORTER_OTLP_TIMEOUT").and_then(|v| parse_timeout(&v)),
            sampler: get("OTEL_TRACES_SAMPLER")
                .filter(|v| v != KEEP_ERRORS_SAMPLER)
                .and_then(|v| parse_sampler(&v, get("OTEL_TRACES_SAMPLER_ARG").as_deref())),
            tail_sampling: get("OTEL_TRACES_SAMPLER")
                .filter(|v| v == KEEP_ERRORS_SAMPLER)
                .map(|_| TailSampling::from_env_arg(get("OTEL_TRACES_SAMPLER_ARG").as_deref())),
            metric_interval: get("OTEL_METRIC_EXPORT_INTERVAL").and_then(|v| parse_interval(&v)),
            temporality: get("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE")
                .and_then(|v| parse_temporality(&v)),
            #[cfg(feature = "genai")]
            genai_capture_message_content: get(crate::genai::CAPTURE_MESSAGE_CONTENT_VARIABLE)
                .map(|v| parse_content_capture(&v)),
            db_monitor_joined_loading: get(MONITOR_JOINED_LOADING)
                .map(|v| parse_bool(MONITOR_JOINED_LOADING, &v)),
            db_lazy_loading_only: get(LAZY_LOADING_ONLY).map(|v| parse_bool(LAZY_LOADING_ONLY, &v)),
            batch: BatchSettings {
                max_queue_size: number("OTEL_BSP_MAX_QUEUE_SIZE").map(saturating_usize),
                max_export_batch_size: number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")
                    .map(saturating_usize),
                scheduled_delay: number("OTEL_BSP_SCHEDULE_DELAY").map(Duration::from_millis),
            },
            span_limits: span_limits(&number),
            #[cfg(feature = "file")]
            export_file: get("INSTRUMENT_EXPORT_FILE"),
        }
    }
}

/// `n` as a `usize`, the largest one where it does not fit.
fn saturating_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The SDK's span limits with those the variables set.
fn span_limits(number: &dyn Fn(&str) -> Option<u64>) -> SpanLimits {
    let mut limits = SpanLimits::default();
    let read = |name: &str| number(name).and_then(|n| u32::try_from(n).ok());
    if let Some(n) = read("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") {
        limits.max_attributes_per_span = n;
    }
    if let Some(n) = read("OTEL_SPAN_EVENT_COUNT_LIMIT") {
        limits.max_events_per_span = n;
    }
    if let Some(n) = read("OTEL_SPAN_LINK_COUNT_LIMIT") {
        limits.max_links_per_span = n;
    }
    limits
}

/// The original's `monitor_joined_loading` switch.
const MONITOR_JOINED_LOADING: &str = "INSTRUMENT_DB_MONITOR_JOINED_LOADING";
/// The original's `lazy_loading_only` switch.
const LAZY_LOADING_ONLY: &str = "INSTRUMENT_DB_LAZY_LOADING_ONLY";

fn parse_bool(var: &str, value: &str) -> bool {
    match value.to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        _ => {
            warn(&format!(
                "{var}={value:?} is not true or false; treating it as false"
            ));
            false
        }
    }
}

/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`: `true` or `false`, or one of the
/// OpenTelemetry GenAI utilities' modes, of which `SPAN_ONLY` and `SPAN_AND_EVENT` record
/// content on spans (the toolkit emits no GenAI events).
#[cfg(feature = "genai")]
fn parse_content_capture(value: &str) -> bool {
    match value.to_ascii_uppercase().as_str() {
        "SPAN_ONLY" | "SPAN_AND_EVENT" => true,
        "NO_CONTENT" | "EVENT_ONLY" => false,
        _ => parse_bool(crate::genai::CAPTURE_MESSAGE_CONTENT_VARIABLE, value),
    }
}

/// Checks that an endpoint is an `http://` or `https://` URL with a host.
pub(crate) fn valid_endpoint(var: &str, value: String) -> Option<String> {
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.contains(char::is_whitespace) =>
        {
            Some(value)
        }
        _ => {
            warn(&format!(
                "{var}={value:?} is not an http:// or https:// URL with a host; spans go to the console instead"
            ));
            None
        }
    }
}

fn parse_timeout(value: &str) -> Option<Duration> {
    match value.parse::<u64>() {
        Ok(millis) if millis > 0 => Some(Duration::from_millis(millis)),
        _ => {
            warn(&format!(
                "OTEL_EXPORTER_OTLP_TIMEOUT={value:?} is not a positive number of milliseconds; using 10000"
            ));
            None
        }
    }
}

fn parse_interval(value: &str) -> Option<Duration> {
    match value.parse::<u64>() {
        Ok(millis) if millis > 0 => Some(Duration::from_millis(millis)),
        _ => {
            warn(&format!(
                "OTEL_METRIC_EXPORT_INTERVAL={value:?} is not a positive number of milliseconds; using 60000"
            ));
            None
        }
    }
}

fn parse_temporality(value: &str) -> Option<Temporality> {
    match value.to_ascii_lowercase().as_str() {
        "cumulative" => Some(Temporality::Cumulative),
        "delta" => Some(Temporality::Delta),
        "lowmemory" => Some(Temporality::LowMemory),
        _ => {
            warn(&format!(
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE={value:?} is not cumulative, delta or lowmemory; using cumulative"
            ));
            None
        }
    }
}

fn parse_protocol(var: &str, value: &str) -> Option<Protocol> {
    match value {
        "grpc" => Some(Protocol::Grpc),
        "http/protobuf" => Some(Protocol::HttpProtobuf),
        "http/json" => {
            warn(&format!(
                "{var}=http/json is not supported; using http/protobuf"
            ));
            Some(Protocol::HttpProtobuf)
        }
        _ => {
            warn(&format!(
                "{var}={value:?} is not grpc or http/protobuf; using http/protobuf"
            ));
            None
        }
    }
}

/// The `OTEL_TRACES_SAMPLER` value that selects the toolkit's tail sampling.
const KEEP_ERRORS_SAMPLER: &str = "instrument_keep_errors";

fn parse_sampler(value: &str, arg: Option<&str>) -> Option<Sampler> {
    let ratio = || match arg.map(str::parse::<f64>) {
        None => 1.0,
        Some(Ok(r)) if (0.0..=1.0).contains(&r) => r,
        Some(_) => {
            warn(&format!(
                "OTEL_TRACES_SAMPLER_ARG={:?} is not a ratio between 0 and 1; using 1.0",
                arg.unwrap_or_default()
            ));
            1.0
        }
    };
    Some(match value {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio())))
        }
        other => {
            warn(&format!(
                "OTEL_TRACES_SAMPLER={other:?} is not a known sampler (always_on, always_off, traceidratio, \
                 parentbased_always_on, parentbased_always_off, parentbased_traceidratio, \
                 instrument_keep_errors); using parentbased_always_on"
            ));
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> EnvSettings {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvSettings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn reads_the_orm_switches() {
        let s = settings(&[
            ("INSTRUMENT_DB_MONITOR_JOINED_LOADING", "false"),
            ("INSTRUMENT_DB_LAZY_LOADING_ONLY", "TRUE"),
        ]);
        assert_eq!(s.db_monitor_joined_loading, Some(false));
        assert_eq!(s.db_lazy_loading_only, Some(true));
        let unset = settings(&[]);
        assert_eq!(unset.db_monitor_joined_loading, None);
        assert_eq!(unset.db_lazy_loading_only, None);
    }

    #[test]
    fn reads_the_standard_variables() {
        let s = settings(&[
            ("OTEL_SERVICE_NAME", "svc"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=prod,team=a%2Cb",
            ),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("OTEL_SDK_DISABLED", "TRUE"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "1500"),
            ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta"),
        ]);
        assert_eq!(s.metric_interval, Some(Duration::from_millis(1500)));
        assert_eq!(s.temporality, Some(Temporality::Delta));
        assert!(s.sdk_disabled);
        assert_eq!(s.service_name.as_deref(), Some("svc"));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:4317"));
        assert_eq!(s.protocol, Some(Protocol::Grpc));
        assert_eq!(s.resource_attributes[1], ("team".into(), "a,b".into()));
        assert!(matches!(s.sampler, Some(Sampler::TraceIdRatioBased(r)) if r == 0.25));
        assert_eq!(s.tail_sampling, None);
    }

    #[cfg(feature = "genai")]
    #[test]
    fn genai_content_capture_is_read_as_a_boolean_or_a_span_mode() {
        let variable = crate::genai::CAPTURE_MESSAGE_CONTENT_VARIABLE;
        assert_eq!(settings(&[]).genai_capture_message_content, None);
        let on = settings(&[(variable, "TRUE")]);
        assert_eq!(on.genai_capture_message_content, Some(true));
        let off = settings(&[(variable, "false")]);
        assert_eq!(off.genai_capture_message_content, Some(false));
        let bad = settings(&[(variable, "yes")]);
        assert_eq!(
            bad.genai_capture_message_content,
            Some(false),
            "not true: off"
        );
        for (mode, on) in [
            ("span_only", true),
            ("SPAN_AND_EVENT", true),
            ("NO_CONTENT", false),
        ] {
            let read = settings(&[(variable, mode)]).genai_capture_message_content;
            assert_eq!(read, Some(on), "{mode}");
        }
    }

    #[test]
    fn instrument_keep_errors_selects_tail_sampling() {
        let s = settings(&[
            ("OTEL_TRACES_SAMPLER", "instrument_keep_errors"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.05,250"),
        ]);
        assert!(
            s.sampler.is_none(),
            "the head sampler stays parent-based always-on"
        );
        assert_eq!(
            s.tail_sampling,
            Some(TailSampling::keep_errors_and_slow(
                0.05,
                Duration::from_millis(250)
            ))
        );
    }

    #[test]
    fn per_signal_settings_and_destinations() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example.com"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "https://metrics.example.com:4318",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ]);
        assert_eq!(
            s.metrics_endpoint.as_deref(),
            Some("https://metrics.example.com:4318")
        );
        assert_eq!(s.timeout, Some(Duration::from_millis(2500)));
        let traces = s.traces_exporter.as_deref();
        assert_eq!(
            destination("OTEL_TRACES_EXPORTER", traces, true),
            Destination::Console
        );
        let metrics = s.metrics_exporter.as_deref();
        assert_eq!(
            destination("OTEL_METRICS_EXPORTER", metrics, true),
            Destination::Off
        );
        assert_eq!(destination("X", None, true), Destination::Otlp);
        assert_eq!(destination("X", None, false), Destination::Console);
        assert_eq!(destination("X", Some("OTLP"), false), Destination::Otlp);
        assert_eq!(destination("X", Some("bogus"), false), Destination::Console);
    }

    #[test]
    fn bad_values_fall_back() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_SDK_DISABLED", "maybe"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "-5"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "sometimes",
            ),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "-1"),
        ]);
        assert_eq!(s.batch.max_queue_size, None);
        assert_eq!(
            s.span_limits.max_events_per_span,
            SpanLimits::default().max_events_per_span
        );
        assert_eq!(s.metric_interval, None);
        assert_eq!(s.temporality, None);
        assert!(!s.sdk_disabled);
        assert_eq!(s.endpoint, None);
        assert_eq!(s.protocol, None);
        assert!(s.sampler.is_none());
    }

    #[test]
    fn reads_the_batch_settings_and_span_limits() {
        let s = settings(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "4096"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", " 512 "),
            ("OTEL_BSP_SCHEDULE_DELAY", "250"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "64"),
            ("OTEL_SPAN_LINK_COUNT_LIMIT", "8"),
        ]);
        assert_eq!(
            s.batch,
            BatchSettings {
                max_queue_size: Some(4096),
                max_export_batch_size: Some(512),
                scheduled_delay: Some(Duration::from_millis(250)),
            }
        );
        assert_eq!(s.span_limits.max_attributes_per_span, 64);
        assert_eq!(s.span_limits.max_links_per_span, 8);
        assert_eq!(
            s.span_limits.max_events_per_span,
            SpanLimits::default().max_events_per_span
        );
        assert_eq!(settings(&[]).batch, BatchSettings::default());
    }

    #[test]
    fn signal_specific_endpoint_wins() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318"),
        ]);
        assert_eq!(s.endpoint.as_deref(), Some("http://b:4318"));
    }
}
