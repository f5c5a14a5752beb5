//! Log records outside any recorded span, on the console: each is printed on stderr as a line of
//! its own when it happens — the time (UTC), the level, the `tracing` target, then the message
//! and attributes as a log line under a span reads them:
//!
//! ```text
//! 2025-06-01T09:30:00.123Z INFO agent_server: listening on 127.0.0.1:8283  port=8283
//! ```

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::KeyValue;

use super::render::message_text;

/// Prints a log record that belongs to no recorded span on stderr, as one line.
pub(crate) fn print_log_line(
    time: SystemTime,
    level: &str,
    target: &str,
    message: &str,
    attributes: &[KeyValue],
) {
    let line = log_line(time, level, target, message, attributes);
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// The line [`print_log_line`] prints, newline included.
pub(crate) fn log_line(
    time: SystemTime,
    level: &str,
    target: &str,
    message: &str,
    attributes: &[KeyValue],
) -> String {
    format!(
        "{} {level} {target}: {}\n",
        utc_timestamp(time),
        message_text(message, attributes.iter())
    )
}

/// `time` in RFC 3339, UTC, to the millisecond: `2025-06-01T09:30:00.123Z`.
fn utc_timestamp(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60,
        since_epoch.subsec_millis()
    )
}

/// The Gregorian date `days` after 1970-01-01, as Howard Hinnant's `civil_from_days` computes it.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_log_outside_any_span_reads_as_its_own_line() {
        let time = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let line = log_line(
            time,
            "INFO",
            "agent_server",
            "listening on 127.0.0.1:8283",
            &[KeyValue::new("port", 8283)],
        );
        assert_eq!(
            line,
            "2023-11-14T22:13:20.123Z INFO agent_server: listening on 127.0.0.1:8283  port=8283\n"
        );
    }

    #[test]
    fn dates_follow_the_gregorian_calendar() {
        let at = |secs: u64| utc_timestamp(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59.000Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00.000Z");
    }
}
