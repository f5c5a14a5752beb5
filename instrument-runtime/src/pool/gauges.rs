//! The pool gauges, observed from each monitor's live pool state when metrics are collected, so
//! they are right even when no event happened. A pool that closes keeps the reading taken just
//! before it closed, and a monitor that goes away leaves that last reading behind for the next
//! collection (each gauge reports it once), so a short program's table at exit still shows the
//! pool as it was rather than nothing.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError, Weak};

use opentelemetry::KeyValue;
use opentelemetry::metrics::AsyncInstrument;

use crate::state;

/// One reading of a pool's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reading {
    pub(crate) size: u32,
    pub(crate) idle: u32,
    pub(crate) max: u32,
    pub(crate) min: u32,
    pub(crate) base: Option<u32>,
    pub(crate) waiters: i64,
}

impl Reading {
    fn in_use(&self) -> i64 {
        i64::from(self.size.saturating_sub(self.idle))
    }
}

/// The gauges, one bit each, so that a retired monitor's last reading is reported once by each.
#[derive(Clone, Copy)]
enum Gauge {
    Total = 0,
    CheckedOut,
    Available,
    Overflow,
    InUse,
    Waiters,
    Utilization,
    ConnectionCount,
    Max,
    IdleMin,
    Pending,
}

const ORIGINAL_GAUGES: u16 = (1 << (Gauge::Utilization as u16 + 1)) - 1;
const ALL_GAUGES: u16 = (1 << (Gauge::Pending as u16 + 1)) - 1;

/// How many retired readings wait for a collection at most; the oldest go first.
const RETIRED_BOUND: usize = 64;

/// What one gauge callback reads of one pool.
struct Source<'a> {
    identity: &'a [KeyValue; 2],
    pool_name: &'a KeyValue,
    semconv: bool,
    reading: Reading,
}

/// The last reading of a monitor that went away, and the gauges that have yet to report it.
struct Retired {
    identity: [KeyValue; 2],
    pool_name: KeyValue,
    semconv: bool,
    reading: Reading,
    pending: u16,
}

/// What the gauges read of a watched pool (the pool monitor is one).
pub(super) trait GaugedPool: Send + Sync {
    /// `engine_name` and `pool_mode`.
    fn identity(&self) -> &[KeyValue; 2];
    /// `db.client.connection.pool.name`.
    fn pool_name(&self) -> &KeyValue;
    /// Whether the `db.client.connection.*` gauges report it too.
    fn semconv(&self) -> bool;
    /// The pool's state now, or as it was just before it closed.
    fn reading(&self) -> Reading;
    /// Runs once per collection of the checked-out gauge (the long-held check).
    fn on_collect(&self);
}

/// The pools one pipeline's gauges report, and the last readings of monitors that went away.
#[derive(Default)]
struct Watched {
    pools: Vec<Weak<dyn GaugedPool>>,
    retired: VecDeque<Retired>,
}

/// The pools watched outside any scoped pipeline, which the global default's gauges report
/// (also those made before telemetry was installed).
static PROCESS_POOLS: Mutex<Watched> = Mutex::new(Watched {
    pools: Vec::new(),
    retired: VecDeque::new(),
});

/// Runs `f` with the pools of the pipeline in force: a scoped pipeline's own, else the
/// process's.
fn with_watched<R>(f: impl FnOnce(&mut Watched) -> R) -> R {
    match state::with_scoped(|pipeline| pipeline.extension::<Mutex<Watched>>()) {
        Some(watched) => f(&mut watched.lock().unwrap_or_else(PoisonError::into_inner)),
        None => f(&mut PROCESS_POOLS.lock().unwrap_or_else(PoisonError::into_inner)),
    }
}

/// Reports `pool` in every collection of the pipeline in force while it lives.
pub(super) fn watch(pool: Weak<dyn GaugedPool>) {
    with_watched(|watched| watched.pools.push(pool));
}

/// Runs `f` for every live pool.
fn for_each_pool(mut f: impl FnMut(&dyn GaugedPool)) {
    with_watched(|watched| {
        watched.pools.retain(|weak| match weak.upgrade() {
            Some(pool) => {
                f(&*pool);
                true
            }
            None => false,
        });
    });
}

/// Leaves `monitor`'s last reading for the next collection.
pub(super) fn retire(monitor: &dyn GaugedPool) {
    with_watched(|watched| retire_into(&mut watched.retired, monitor));
}

fn retire_into(retired: &mut VecDeque<Retired>, monitor: &dyn GaugedPool) {
    if retired.len() == RETIRED_BOUND {
        retired.pop_front();
    }
    retired.push_back(Retired {
        identity: monitor.identity().clone(),
        pool_name: monitor.pool_name().clone(),
        semconv: monitor.semconv(),
        reading: monitor.reading(),
        pending: if monitor.semconv() {
            ALL_GAUGES
        } else {
            ORIGINAL_GAUGES
        },
    });
}

/// Runs `f` for every live monitor and every retired reading `gauge` has not reported yet.
fn each_source(gauge: Gauge, mut f: impl FnMut(&Source<'_>)) {
    for_each_pool(|monitor| {
        f(&Source {
            identity: monitor.identity(),
            pool_name: monitor.pool_name(),
            semconv: monitor.semconv(),
            reading: monitor.reading(),
        });
    });
    let bit = 1u16 << gauge as u16;
    with_watched(|watched| report_retired(&mut watched.retired, bit, &mut f));
}

fn report_retired(retired: &mut VecDeque<Retired>, bit: u16, f: &mut impl FnMut(&Source<'_>)) {
    for entry in retired.iter_mut().filter(|entry| entry.pending & bit != 0) {
        entry.pending &= !bit;
        f(&Source {
            identity: &entry.identity,
            pool_name: &entry.pool_name,
            semconv: entry.semconv,
            reading: entry.reading,
        });
    }
    retired.retain(|entry| entry.pending != 0);
}

fn observe_each(
    observer: &dyn AsyncInstrument<i64>,
    gauge: Gauge,
    value: impl Fn(&Reading) -> i64,
) {
    each_source(gauge, |source| {
        observer.observe(value(&source.reading), source.identity);
    });
}

/// `gauge_db_pool_connections_total`: the pool's capacity (its maximum size), as the original's
/// "total pool capacity"; the connections open are `checked_out` + `available`.
pub(crate) fn observe_total(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, Gauge::Total, |r| i64::from(r.max));
}

/// `gauge_db_pool_connections_checked_out`. Its callback also counts the connections held past
/// their monitor's long-held threshold (once per collection, no thread of its own).
pub(crate) fn observe_checked_out(observer: &dyn AsyncInstrument<i64>) {
    for_each_pool(|pool| pool.on_collect());
    observe_each(observer, Gauge::CheckedOut, Reading::in_use);
}

/// `db_pool_in_use`.
pub(crate) fn observe_in_use(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, Gauge::InUse, Reading::in_use);
}

/// `gauge_db_pool_connections_available`.
pub(crate) fn observe_available(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, Gauge::Available, |r| i64::from(r.idle));
}

/// `gauge_db_pool_connections_overflow`: connections open beyond the pool's base size; 0 for a
/// pool that has only a maximum (sqlx, deadpool).
pub(crate) fn observe_overflow(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, Gauge::Overflow, |r| {
        r.base
            .map_or(0, |base| i64::from(r.size.saturating_sub(base)))
    });
}

/// `db_pool_waiters`.
pub(crate) fn observe_waiters(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, Gauge::Waiters, |r| r.waiters.max(0));
}

/// `db_pool_utilization_ratio`: connections in use over the pool's maximum.
pub(crate) fn observe_utilization(observer: &dyn AsyncInstrument<f64>) {
    each_source(Gauge::Utilization, |source| {
        let max = source.reading.max.max(1);
        observer.observe(
            source.reading.in_use() as f64 / f64::from(max),
            source.identity,
        );
    });
}

fn observe_semconv(
    observer: &dyn AsyncInstrument<i64>,
    gauge: Gauge,
    value: impl Fn(&Reading) -> i64,
) {
    each_source(gauge, |source| {
        if source.semconv {
            observer.observe(
                value(&source.reading),
                std::slice::from_ref(source.pool_name),
            );
        }
    });
}

/// `db.client.connection.count` with `state` = `idle` | `used`.
pub(crate) fn observe_connection_count(observer: &dyn AsyncInstrument<i64>) {
    each_source(Gauge::ConnectionCount, |source| {
        if source.semconv {
            let name = source.pool_name.clone();
            observer.observe(
                i64::from(source.reading.idle),
                &[
                    name.clone(),
                    KeyValue::new("db.client.connection.state", "idle"),
                ],
            );
            observer.observe(
                source.reading.in_use(),
                &[name, KeyValue::new("db.client.connection.state", "used")],
            );
        }
    });
}

/// `db.client.connection.max`.
pub(crate) fn observe_max(observer: &dyn AsyncInstrument<i64>) {
    observe_semconv(observer, Gauge::Max, |r| i64::from(r.max));
}

/// `db.client.connection.idle.min`.
pub(crate) fn observe_idle_min(observer: &dyn AsyncInstrument<i64>) {
    observe_semconv(observer, Gauge::IdleMin, |r| i64::from(r.min));
}

/// `db.client.connection.pending_requests`.
pub(crate) fn observe_pending(observer: &dyn AsyncInstrument<i64>) {
    observe_semconv(observer, Gauge::Pending, |r| r.waiters.max(0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::{PoolMonitor, PoolStatus};

    struct Fixed;

    impl PoolStatus for Fixed {
        fn size(&self) -> u32 {
            3
        }
        fn idle(&self) -> u32 {
            1
        }
        fn max_size(&self) -> u32 {
            5
        }
        fn min_size(&self) -> u32 {
            1
        }
    }

    fn readings_of(engine: &str, gauge: Gauge) -> Vec<Reading> {
        let mut seen = Vec::new();
        each_source(gauge, |source| {
            if source.identity[0].value.as_str() == engine {
                seen.push(source.reading);
            }
        });
        seen
    }

    #[test]
    fn a_dropped_monitor_is_reported_once_by_each_gauge() {
        let monitor = PoolMonitor::new("gauges-retired", "queue", Fixed, false);
        let live = readings_of("gauges-retired", Gauge::Total);
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].size, 3);
        drop(monitor);
        assert_eq!(readings_of("gauges-retired", Gauge::Total), live);
        assert!(readings_of("gauges-retired", Gauge::Total).is_empty());
        assert_eq!(readings_of("gauges-retired", Gauge::Available), live);
        assert!(
            readings_of("gauges-retired", Gauge::Max).is_empty(),
            "the semantic-convention gauges only report monitors that asked for them"
        );
    }

    #[test]
    fn a_closing_pool_keeps_its_last_reading() {
        // A metric collection of another test running at the same moment reports (and so takes)
        // a retired monitor's readings first: each attempt sees the closing reading or nothing,
        // never another, and an attempt left alone sees it for every gauge.
        let undisturbed = (0..20).any(|attempt| {
            let engine = format!("gauges-closing-{attempt}");
            let monitor = PoolMonitor::new(engine.clone(), "queue", Fixed, true);
            monitor.pool_closing();
            let reading = readings_of(&engine, Gauge::InUse);
            assert_eq!(reading[0].in_use(), 2);
            drop(monitor);
            [Gauge::Total, Gauge::Pending, Gauge::ConnectionCount]
                .into_iter()
                .map(|gauge| readings_of(&engine, gauge))
                .all(|seen| {
                    assert!(seen.is_empty() || seen == reading, "{seen:?}");
                    seen == reading
                })
        });
        assert!(undisturbed, "every gauge reports the closing reading");
    }
}
