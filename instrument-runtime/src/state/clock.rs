//! Span times read from the CPU's cycle counter (`quanta`'s TSC clock, where the CPU has an
//! invariant one; the monotonic clock otherwise): a read costs a few instructions instead of a
//! `clock_gettime` call, and the reading becomes a wall-clock time where the span is exported,
//! against an [`Anchor`] taken there. The clock is calibrated once (about a millisecond), when
//! telemetry is installed or at the first span, never at process start.

use std::sync::OnceLock;
use std::time::SystemTime;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

#[inline]
fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Calibrates the clock now, so that the first span does not wait for it.
pub(crate) fn calibrate() {
    clock();
}

/// A moment of a span: a reading of the clock, or a wall-clock time given by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Moment {
    Reading(u64),
    Wall(SystemTime),
}

impl Moment {
    /// The moment of a span that has none yet.
    pub(crate) const NONE: Self = Self::Wall(SystemTime::UNIX_EPOCH);

    /// Now.
    #[inline]
    pub(crate) fn now() -> Self {
        Self::Reading(clock().raw())
    }

    /// The wall-clock time of this moment.
    pub(crate) fn to_system_time(self, anchor: &Anchor) -> SystemTime {
        match self {
            Self::Wall(time) => time,
            Self::Reading(reading) if reading >= anchor.reading => {
                anchor.wall + clock().delta(anchor.reading, reading)
            }
            Self::Reading(reading) => anchor
                .wall
                .checked_sub(clock().delta(reading, anchor.reading))
                .unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }
}

/// The time since a moment, read from the span clock: what an operation that is not a span
/// (a GenAI call's metrics) measures its duration with, at the cost of a span time.
#[cfg(feature = "genai")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stopwatch(u64);

#[cfg(feature = "genai")]
impl Stopwatch {
    /// Starts now.
    #[inline]
    pub(crate) fn start() -> Self {
        Self(clock().raw())
    }

    /// The time since the start.
    #[inline]
    pub(crate) fn elapsed(&self) -> std::time::Duration {
        clock().delta(self.0, clock().raw())
    }
}

/// A wall-clock time and the clock's reading at that time, against which readings become
/// wall-clock times. Taken where spans are converted for export (once per batch of them), so the
/// drift between the two clocks never has time to add up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Anchor {
    wall: SystemTime,
    reading: u64,
}

impl Anchor {
    /// The two clocks read now.
    pub(crate) fn now() -> Self {
        Self {
            wall: SystemTime::now(),
            reading: clock().raw(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// How long from `start` to `end` (zero if `end` is not later).
    fn between(start: Moment, end: Moment) -> Duration {
        let anchor = Anchor::now();
        end.to_system_time(&anchor)
            .duration_since(start.to_system_time(&anchor))
            .unwrap_or_default()
    }

    #[test]
    fn readings_become_the_wall_clock_times_they_were_read_at() {
        let before = SystemTime::now();
        let moment = Moment::now();
        let after = SystemTime::now();
        std::thread::sleep(Duration::from_millis(20));
        let at = moment.to_system_time(&Anchor::now());
        let slack = Duration::from_millis(2);
        assert!(
            at + slack >= before && at <= after + slack,
            "{at:?} not in {before:?}..{after:?}"
        );
    }

    #[test]
    fn a_reading_after_the_anchor_is_later_than_it() {
        let anchor = Anchor::now();
        std::thread::sleep(Duration::from_millis(5));
        let later = Moment::now().to_system_time(&anchor);
        assert!(later.duration_since(anchor.wall).unwrap() >= Duration::from_millis(4));
    }

    #[test]
    fn durations_between_readings_follow_the_wall_clock() {
        let start = Moment::now();
        std::thread::sleep(Duration::from_millis(30));
        let took = between(start, Moment::now());
        assert!(
            took >= Duration::from_millis(29) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }

    #[test]
    fn a_given_wall_clock_time_is_kept() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(Moment::Wall(time).to_system_time(&Anchor::now()), time);
        assert_eq!(
            Moment::NONE.to_system_time(&Anchor::now()),
            SystemTime::UNIX_EPOCH
        );
    }
}
