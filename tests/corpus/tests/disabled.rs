//! Every corpus variant with no telemetry installed (this binary never installs any): the
//! instrumented corpus returns what the plain corpus returns.

#![deny(warnings)]

mod support;

#[test]
fn nothing_is_installed() {
    assert!(!instrument::is_enabled());
    assert!(!instrument::metrics_enabled());
}

#[test]
fn traced() {
    support::assert_same_as_plain("traced", &support::traced::run_all());
}

#[test]
fn skip_all() {
    support::assert_same_as_plain("skip_all", &support::skip_all::run_all());
}

#[test]
fn named() {
    support::assert_same_as_plain("named", &support::named::run_all());
}

#[test]
fn exclude() {
    support::assert_same_as_plain("exclude", &support::exclude::run_all());
}

#[test]
fn metric() {
    support::assert_same_as_plain("metric", &support::metric::run_all());
}

#[test]
fn traced_then_metric() {
    support::assert_same_as_plain(
        "traced_then_metric",
        &support::traced_then_metric::run_all(),
    );
}

#[test]
fn metric_then_traced() {
    support::assert_same_as_plain(
        "metric_then_traced",
        &support::metric_then_traced::run_all(),
    );
}
