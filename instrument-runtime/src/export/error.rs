//! Why telemetry could not be installed, flushed or shut down.

use std::fmt;

/// Why setup did not install telemetry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetupError {
    /// Telemetry is installed already; drop its guard first.
    AlreadyInstalled,
    /// An exporter could not be built.
    Exporter(String),
    /// Flushing or shutting down failed (for example, the collector could not be reached).
    Shutdown(String),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::AlreadyInstalled => {
                f.write_str("telemetry is already installed; drop its guard first")
            }
            SetupError::Exporter(e) => write!(f, "cannot build the exporter: {e}"),
            SetupError::Shutdown(e) => write!(f, "telemetry shutdown failed: {e}"),
        }
    }
}

impl std::error::Error for SetupError {}
