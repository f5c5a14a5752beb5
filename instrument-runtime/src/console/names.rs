//! The names of the log events the console prints.

/// Name of the span event a log record becomes on the console, printed as a log line under its
/// span.
pub const LOG_EVENT: &str = "log";
/// Attribute of a console log event: the severity.
pub(crate) const LOG_LEVEL_KEY: &str = "level";
/// Attribute of a console log event: the message.
pub(crate) const LOG_MESSAGE_KEY: &str = "message";
