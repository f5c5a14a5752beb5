//! The pool gauges, observed from each monitor's live pool state when metrics are collected, so
//! they are right even when no event happened.

use std::sync::atomic::Ordering;

use opentelemetry::KeyValue;
use opentelemetry::metrics::AsyncInstrument;

use super::monitor::{MonitorInner, for_each_monitor};

fn observe_each(observer: &dyn AsyncInstrument<i64>, value: impl Fn(&MonitorInner) -> i64) {
    for_each_monitor(|monitor| observer.observe(value(monitor), monitor.identity()));
}

fn in_use(monitor: &MonitorInner) -> i64 {
    i64::from(monitor.status.size().saturating_sub(monitor.status.idle()))
}

/// `gauge_db_pool_connections_total`.
pub(crate) fn observe_total(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, |m| i64::from(m.status.size()));
}

/// `gauge_db_pool_connections_checked_out` and `db_pool_in_use`.
pub(crate) fn observe_in_use(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, in_use);
}

/// `gauge_db_pool_connections_available`.
pub(crate) fn observe_available(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, |m| i64::from(m.status.idle()));
}

/// `gauge_db_pool_connections_overflow`: connections above the pool's minimum.
pub(crate) fn observe_overflow(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, |m| {
        i64::from(m.status.size().saturating_sub(m.status.min_size()))
    });
}

/// `db_pool_waiters`.
pub(crate) fn observe_waiters(observer: &dyn AsyncInstrument<i64>) {
    observe_each(observer, |m| m.waiters.load(Ordering::Relaxed).max(0));
}

/// `db_pool_utilization_ratio`: connections in use over the pool's maximum.
pub(crate) fn observe_utilization(observer: &dyn AsyncInstrument<f64>) {
    for_each_monitor(|monitor| {
        let max = monitor.status.max_size().max(1);
        observer.observe(in_use(monitor) as f64 / f64::from(max), monitor.identity());
    });
}

fn observe_semconv(observer: &dyn AsyncInstrument<i64>, value: impl Fn(&MonitorInner) -> i64) {
    for_each_monitor(|monitor| {
        if monitor.semconv {
            observer.observe(value(monitor), std::slice::from_ref(&monitor.pool_name));
        }
    });
}

/// `db.client.connection.count` with `state` = `idle` | `used`.
pub(crate) fn observe_connection_count(observer: &dyn AsyncInstrument<i64>) {
    for_each_monitor(|monitor| {
        if monitor.semconv {
            let name = monitor.pool_name.clone();
            observer.observe(
                i64::from(monitor.status.idle()),
                &[
                    name.clone(),
                    KeyValue::new("db.client.connection.state", "idle"),
                ],
            );
            observer.observe(
                in_use(monitor),
                &[name, KeyValue::new("db.client.connection.state", "used")],
            );
        }
    });
}

/// `db.client.connection.max`.
pub(crate) fn observe_max(observer: &dyn AsyncInstrument<i64>) {
    observe_semconv(observer, |m| i64::from(m.status.max_size()));
}

/// `db.client.connection.idle.min`.
pub(crate) fn observe_idle_min(observer: &dyn AsyncInstrument<i64>) {
    observe_semconv(observer, |m| i64::from(m.status.min_size()));
}

/// `db.client.connection.pending_requests`.
pub(crate) fn observe_pending(observer: &dyn AsyncInstrument<i64>) {
    observe_semconv(observer, |m| m.waiters.load(Ordering::Relaxed).max(0));
}
