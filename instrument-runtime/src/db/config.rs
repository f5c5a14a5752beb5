//! Database instrumentation settings: the original's `enabled`, `sql_truncate_length`,
//! `monitor_joined_loading`, `lazy_loading_only` and `log_instrumentation_errors`, and ours
//! (repeated queries, bind values, `sanitize_query_text`, the large-flush threshold).

use std::sync::Arc;

use crate::state::{ConfigCell, ConfigGuard, RuntimeConfig};

/// What database instrumentation records. Made from `InstrumentationConfig::default()` with the
/// fields set that should differ (fields may be added).
///
/// ```
/// use instrument::db::{InstrumentationConfig, instrumentation_config, temporary_instrumentation_config};
/// {
///     let mut config = InstrumentationConfig::default();
///     config.sql_truncate_length = 80;
///     let _guard = temporary_instrumentation_config(config);
///     assert_eq!(instrumentation_config().sql_truncate_length, 80);
/// }
/// assert_eq!(instrumentation_config().sql_truncate_length, 1000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstrumentationConfig {
    /// Record query spans, metrics and detections at all.
    pub enabled: bool,
    /// Longest `db.query.text` kept, in bytes; longer text is cut and ends in `...`.
    pub sql_truncate_length: usize,
    /// Report a statement shape repeated under one parent span (N+1 queries).
    pub monitor_repeated_queries: bool,
    /// How many executions of one shape under one parent make a repeated-query report.
    pub repeated_query_threshold: u32,
    /// Warn (rate-limited) about failures inside the instrumentation.
    pub log_instrumentation_errors: bool,
    /// Record bind values as `instrument.db.query.parameters` (off: values may be personal data).
    pub record_bind_values: bool,
    /// Replace the literals of `db.query.text` (strings, numbers, hex, `IN` lists of them) by
    /// `?` and drop its comments, as the semantic conventions recommend for statements that are
    /// not parameterized; placeholders and identifiers stay. Off: the text as written.
    pub sanitize_query_text: bool,
    /// Spans for relations loaded joined (`find_with_related`, ...); off cuts span volume, the
    /// statements stay traced (environment: `INSTRUMENT_DB_MONITOR_JOINED_LOADING`).
    pub monitor_joined_loading: bool,
    /// Spans only for lazy loads, the N+1 suspects (environment:
    /// `INSTRUMENT_DB_LAZY_LOADING_ONLY`).
    pub lazy_loading_only: bool,
    /// Rows a transaction may insert, update and delete in all before its flush is marked large.
    pub large_flush_threshold: u32,
}

impl Default for InstrumentationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            sql_truncate_length: 1000,
            monitor_repeated_queries: true,
            repeated_query_threshold: 10,
            log_instrumentation_errors: true,
            record_bind_values: false,
            sanitize_query_text: true,
            monitor_joined_loading: true,
            lazy_loading_only: false,
            large_flush_threshold: 100,
        }
    }
}

static CONFIG: ConfigCell<InstrumentationConfig> = ConfigCell::new();

/// The database instrumentation settings in force.
pub fn instrumentation_config() -> Arc<InstrumentationConfig> {
    CONFIG.get()
}

/// Replaces the database instrumentation settings.
pub fn set_instrumentation_config(config: InstrumentationConfig) {
    CONFIG.set(config);
}

/// Applies the environment's switches (`INSTRUMENT_DB_MONITOR_JOINED_LOADING`,
/// `INSTRUMENT_DB_LAZY_LOADING_ONLY`) to the settings in force, at setup; a config given to the
/// builder is installed after, and wins.
pub(crate) fn apply_environment(
    monitor_joined_loading: Option<bool>,
    lazy_loading_only: Option<bool>,
) {
    let mut config = (*instrumentation_config()).clone();
    if let Some(on) = monitor_joined_loading {
        config.monitor_joined_loading = on;
    }
    if let Some(on) = lazy_loading_only {
        config.lazy_loading_only = on;
    }
    set_instrumentation_config(config);
}

/// Whether queries are being instrumented: enabled in the settings and a tracer installed.
pub fn is_instrumentation_active() -> bool {
    CONFIG.with(|config| config.enabled) && crate::state::enabled()
}

/// Uses `config` until the returned guard drops (also when a panic unwinds), then restores the
/// settings that were in force.
pub fn temporary_instrumentation_config(
    config: InstrumentationConfig,
) -> ConfigGuard<InstrumentationConfig> {
    CONFIG.temporary(config)
}

impl RuntimeConfig for InstrumentationConfig {
    fn install(self) {
        set_instrumentation_config(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_settings_are_restored_on_panic() {
        let before = instrumentation_config();
        let result = std::panic::catch_unwind(|| {
            let _guard = temporary_instrumentation_config(InstrumentationConfig {
                enabled: false,
                ..Default::default()
            });
            assert!(!instrumentation_config().enabled);
            panic!("inside");
        });
        assert!(result.is_err());
        assert_eq!(instrumentation_config(), before);
    }
}
