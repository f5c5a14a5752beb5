//! Capture configuration: byte limits and the name lists that decide what is recorded.

use std::borrow::Cow;
use std::sync::Arc;

use crate::state::{ConfigCell, ConfigGuard, RuntimeConfig};

/// Default maximum size of one captured value, in bytes (2 MiB).
pub const DEFAULT_MAX_VALUE_BYTES: usize = 2 * 1024 * 1024;
/// Default maximum size of all parameter attributes of one span, in bytes (4 MiB).
pub const DEFAULT_MAX_SPAN_BYTES: usize = 4 * 1024 * 1024;

/// Parameter names excluded by default: their values are replaced by a placeholder that keeps the
/// value's type and id. These are the original `otel` package's 16 names.
pub const DEFAULT_EXCLUDED: [&str; 16] = [
    "agent_state",
    "messages",
    "in_context_messages",
    "message_sequence",
    "content",
    "tool_returns",
    "memory",
    "sources",
    "context",
    "source_code",
    "system",
    "text_chunks",
    "embeddings",
    "embedding",
    "file_bytes",
    "chunks",
];

/// Parameter names never excluded by the default list.
pub const DEFAULT_NEVER_EXCLUDED: [&str; 1] = ["request_data"];

/// Name patterns that mark a parameter, a field or an object key as a secret, recorded as
/// `[redacted]`. A pattern matches when its words (split at `_`, `-` and `.`) appear, in order and
/// adjacent, among the name's words, whatever the case (`openai_api_key` and `settings.auth.token`
/// match; `max_tokens` does not match `token`).
pub const DEFAULT_SECRET_NAMES: [&str; 21] = [
    "password",
    "passwd",
    "pwd",
    "jwt",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "set-cookie",
    "session",
    "credential",
    "credentials",
    "private_key",
    "secret_key",
    "signature",
    "sig",
];

/// Credential scheme words whose following word is a secret (`Authorization: Bearer <token>`).
pub const DEFAULT_CREDENTIAL_SCHEMES: [&str; 2] = ["Bearer", "Basic"];

/// What parameter capture records and how much. Made from [`CaptureConfig::default`] with the
/// fields set that should differ (fields may be added).
///
/// ```
/// use instrument::capture::CaptureConfig;
/// let mut config = CaptureConfig::default();
/// config.max_value_bytes = 1024;
/// assert!(config.is_secret("db_password"));
/// assert!(!config.is_secret("max_tokens"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureConfig {
    /// Maximum bytes of one parameter value; longer values are cut with a marker.
    pub max_value_bytes: usize,
    /// Maximum bytes of all parameter attributes of one span; past it the rest are dropped.
    pub max_span_bytes: usize,
    /// Names whose values are replaced by an `(excluded ...)` placeholder.
    pub excluded_by_default: Vec<Cow<'static, str>>,
    /// Names the default exclusion list never applies to.
    pub never_excluded: Vec<Cow<'static, str>>,
    /// Name patterns recorded as `[redacted]`: parameters, struct fields and map keys at any
    /// depth, `name=value` and `name: value` pairs and URL query parameters inside text.
    pub secret_names: Vec<Cow<'static, str>>,
    /// Scheme words (matched ignoring case) whose credentials are hidden inside text:
    /// `Bearer abc` is recorded as `Bearer [redacted]`.
    pub credential_schemes: Vec<Cow<'static, str>>,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        let owned = |names: &[&'static str]| names.iter().map(|n| Cow::Borrowed(*n)).collect();
        Self {
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_span_bytes: DEFAULT_MAX_SPAN_BYTES,
            excluded_by_default: owned(&DEFAULT_EXCLUDED),
            never_excluded: owned(&DEFAULT_NEVER_EXCLUDED),
            secret_names: owned(&DEFAULT_SECRET_NAMES),
            credential_schemes: owned(&DEFAULT_CREDENTIAL_SCHEMES),
        }
    }
}

impl CaptureConfig {
    /// Whether `name` looks like a secret under [`CaptureConfig::secret_names`]. Allocates
    /// nothing: names and patterns are compared word by word, ignoring ASCII case.
    pub fn is_secret(&self, name: &str) -> bool {
        let mut words = [""; MAX_NAME_WORDS];
        let count = split_words(name, &mut words);
        let words = &words[..count];
        self.secret_names.iter().any(|pattern| {
            let mut wanted = [""; MAX_NAME_WORDS];
            let wanted_count = split_words(pattern, &mut wanted);
            let wanted = &wanted[..wanted_count];
            !wanted.is_empty()
                && words.windows(wanted.len()).any(|window| {
                    window
                        .iter()
                        .zip(wanted)
                        .all(|(word, want)| word.eq_ignore_ascii_case(want))
                })
        })
    }

    /// Whether the default exclusion list applies to `name`.
    pub fn is_excluded_by_default(&self, name: &str) -> bool {
        !self.never_excluded.iter().any(|n| n == name)
            && self.excluded_by_default.iter().any(|n| n == name)
    }
}

/// Most words of a name compared with the secret patterns (the rest are ignored).
pub(super) const MAX_NAME_WORDS: usize = 16;

/// Splits `name` into its non-empty words at `_`, `-`, `.`, spaces and camelCase humps
/// (`accessToken` is `access`, `Token`); returns how many.
pub(super) fn split_words<'a>(name: &'a str, words: &mut [&'a str; MAX_NAME_WORDS]) -> usize {
    let mut count = 0;
    for chunk in name.split(['_', '-', '.', ' ']).filter(|w| !w.is_empty()) {
        let bytes = chunk.as_bytes();
        let mut start = 0;
        for i in 1..=bytes.len() {
            let hump = i < bytes.len()
                && bytes[i].is_ascii_uppercase()
                && (bytes[i - 1].is_ascii_lowercase() || bytes[i - 1].is_ascii_digit());
            if i == bytes.len() || hump {
                if count == MAX_NAME_WORDS {
                    return count;
                }
                words[count] = &chunk[start..i];
                count += 1;
                start = i;
            }
        }
    }
    count
}

static CONFIG: ConfigCell<CaptureConfig> = ConfigCell::new();

/// The capture configuration in force.
pub fn capture_config() -> Arc<CaptureConfig> {
    CONFIG.get()
}

/// Replaces the capture configuration for every span started from now on.
pub fn set_capture_config(config: CaptureConfig) {
    CONFIG.set(config);
}

/// Uses `config` until the returned guard drops (also when a panic unwinds), then restores the
/// configuration that was in force.
pub fn temporary_capture_config(config: CaptureConfig) -> ConfigGuard<CaptureConfig> {
    CONFIG.temporary(config)
}

impl RuntimeConfig for CaptureConfig {
    fn install(self) {
        set_capture_config(self);
    }
}

/// Runs `f` with the configuration in force, without taking a reference count.
pub(crate) fn with_config<R>(f: impl FnOnce(&CaptureConfig) -> R) -> R {
    CONFIG.with(f)
}

/// A number that changes whenever the configuration is replaced; never zero.
pub(crate) fn generation() -> u32 {
    CONFIG.generation()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_whole_words() {
        let config = CaptureConfig::default();
        for name in [
            "password",
            "db_password",
            "api_key",
            "openai_api_key",
            "Authorization",
            "access_token",
            "apikey",
            "settings.auth.token",
            "Set-Cookie",
            "x-api-key",
            "client_secret",
            "sessionToken",
            "accessToken",
            "apiKey",
            "APIKey",
        ] {
            assert!(config.is_secret(name), "{name} should be secret");
        }
        for name in [
            "max_tokens",
            "tokenizer",
            "agent_id",
            "keyboard",
            "api",
            "passwords_count",
            "maxTokens",
            "signed_at",
        ] {
            assert!(!config.is_secret(name), "{name} should not be secret");
        }
    }

    #[test]
    fn default_exclusions_are_the_original_sixteen() {
        let config = CaptureConfig::default();
        assert_eq!(config.excluded_by_default.len(), 16);
        assert!(config.is_excluded_by_default("messages"));
        assert!(config.is_excluded_by_default("agent_state"));
        assert!(!config.is_excluded_by_default("request_data"));
        assert!(!config.is_excluded_by_default("agent_id"));
    }

    #[test]
    fn never_excluded_wins_over_excluded() {
        let mut config = CaptureConfig::default();
        config.excluded_by_default.push("request_data".into());
        assert!(!config.is_excluded_by_default("request_data"));
    }
}
