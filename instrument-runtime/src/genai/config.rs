//! Whether prompt and completion content is recorded: off by default, on with
//! `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` (read at setup; `SPAN_ONLY` and
//! `SPAN_AND_EVENT` too) or with [`GenAiConfig`] through `Telemetry::builder().config(..)`,
//! which wins over the variable.

use std::sync::Arc;

use serde::Serialize;

use crate::capture;
use crate::state::{ConfigCell, ConfigGuard, RuntimeConfig};

/// The environment variable that turns content capture on (`true`, or the GenAI utilities'
/// `SPAN_ONLY` and `SPAN_AND_EVENT`) or off (`false`, `NO_CONTENT`, `EVENT_ONLY`), read when
/// telemetry is installed.
///
/// ```
/// assert_eq!(
///     instrument::genai::CAPTURE_MESSAGE_CONTENT_VARIABLE,
///     "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
/// );
/// ```
pub const CAPTURE_MESSAGE_CONTENT_VARIABLE: &str =
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";

/// What GenAI instrumentation records beyond names, models and counts.
///
/// ```
/// use instrument::genai::{GenAiConfig, genai_config, temporary_genai_config};
///
/// assert!(!genai_config().capture_message_content, "off by default");
/// let _content = temporary_genai_config(GenAiConfig::with_message_content());
/// assert!(genai_config().capture_message_content);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GenAiConfig {
    /// Record `gen_ai.input.messages` and `gen_ai.output.messages` on model calls, as JSON
    /// bounded by the capture limits (`max_value_bytes`) with secrets redacted by the capture
    /// rules. Prompts and completions hold personal data: off unless asked for.
    pub capture_message_content: bool,
}

impl GenAiConfig {
    /// The settings with prompt and completion content recorded.
    pub fn with_message_content() -> Self {
        Self {
            capture_message_content: true,
        }
    }
}

static CONFIG: ConfigCell<GenAiConfig> = ConfigCell::new();

/// The GenAI settings in force.
///
/// ```
/// assert!(!instrument::genai::genai_config().capture_message_content);
/// ```
pub fn genai_config() -> Arc<GenAiConfig> {
    CONFIG.get()
}

/// Replaces the GenAI settings.
///
/// ```
/// use instrument::genai::{GenAiConfig, set_genai_config};
///
/// set_genai_config(GenAiConfig::default());
/// ```
pub fn set_genai_config(config: GenAiConfig) {
    CONFIG.set(config);
}

/// Uses `config` until the returned guard drops (also when a panic unwinds), then restores the
/// settings that were in force.
///
/// ```
/// use instrument::genai::{GenAiConfig, genai_config, temporary_genai_config};
///
/// {
///     let _content = temporary_genai_config(GenAiConfig::with_message_content());
///     assert!(genai_config().capture_message_content);
/// }
/// assert!(!genai_config().capture_message_content);
/// ```
pub fn temporary_genai_config(config: GenAiConfig) -> ConfigGuard<GenAiConfig> {
    CONFIG.temporary(config)
}

impl RuntimeConfig for GenAiConfig {
    fn install(self) {
        set_genai_config(self);
    }
}

/// What setup does with [`CAPTURE_MESSAGE_CONTENT_VARIABLE`], before the builder's configs.
pub(crate) fn apply_environment(capture_message_content: bool) {
    set_genai_config(GenAiConfig {
        capture_message_content,
    });
}

/// Whether content is recorded now.
pub(crate) fn captures_content() -> bool {
    CONFIG.with(|config| config.capture_message_content)
}

/// `value` as content capture records it: JSON cut at `max_value_bytes`, secret-named keys and
/// secrets inside strings redacted; `None` when content capture is off (nothing is serialized).
pub(crate) fn content_text<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    captures_content().then(|| capture::json_text(value, capture::limits().0))
}
