//! Acceptance test: the `#[trace_method]` span is the current OpenTelemetry span.
//!
//! A library that knows only the OpenTelemetry API (`tests/otel-only-lib`) is called from inside
//! `#[trace_method]` functions: sync ones (a plain call, and an outer call around an inner one),
//! an async one across `yield_now` and `sleep` awaits, and 50 concurrent spawned tasks on a
//! two-worker runtime. Whatever the library sees through `opentelemetry::Context::current()`
//! must be the instrumented call's span, as exported over OTLP/gRPC to the test receiver:
//!
//! - the span it starts (`tracer.in_span`) is a child of the call's span, in its trace;
//! - the attribute it sets through `get_active_span` lands on the call's span, and nowhere else;
//! - the `traceparent` it injects names the call's trace and span;
//! - `Context::current()` holds the call's span while the call runs, and no longer once it
//!   returns.
//!
//! Every check is counted over all cases and reported together. The unsampled counterpart
//! (a sampler that drops the call's span) is `otel_citizen_unsampled.rs`: telemetry installs once
//! per process.

#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use instrument::{Protocol, Telemetry, trace_method};
use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId};
use opentelemetry_proto::tonic::common::v1::{KeyValue as ProtoKeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use otel_only_lib::SpanIds;
use receiver::{Receiver, Wire};

/// Concurrent spawned tasks, each one instrumented call.
const SPAWNED_TASKS: usize = 50;

/// How an instrumented call was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sync,
    Async,
    Spawned,
}

impl Kind {
    fn index(self) -> usize {
        self as usize
    }
}

/// What the library saw at one point inside an instrumented call.
#[derive(Debug)]
struct Seen {
    kind: Kind,
    /// The instrumented function: its span's name.
    function: &'static str,
    /// Its `case` argument: `parameter.case` on its span.
    case: String,
    /// Where in the call the library ran.
    point: &'static str,
    /// The call's span as the toolkit reports it (`instrument::current_context()`).
    toolkit: (TraceId, SpanId),
    /// The span in `Context::current()`.
    current: (TraceId, SpanId),
    /// The `traceparent` the global propagator injected for `Context::current()`.
    traceparent: Option<String>,
    /// The span the library started.
    child: SpanIds,
}

impl Seen {
    fn label(&self) -> String {
        format!("{}(case={:?}) at {}", self.function, self.case, self.point)
    }

    /// The attribute the library set on the active span.
    fn tag(&self) -> (String, String) {
        tag(self.function, &self.case, self.point)
    }
}

fn tag(function: &str, case: &str, point: &str) -> (String, String) {
    (format!("lib.tag.{point}"), format!("{function} {case}"))
}

/// Calls the library at `point` of the instrumented call `function(case)`.
fn look(kind: Kind, function: &'static str, case: &str, point: &'static str) -> Seen {
    let toolkit = {
        let cx = instrument::current_context();
        let span = cx.span();
        let span_context = span.span_context();
        (span_context.trace_id(), span_context.span_id())
    };
    let current = otel_only_lib::current_ids();
    let traceparent = otel_only_lib::inject();
    let (key, value) = tag(function, case, point);
    otel_only_lib::tag_active(key, value);
    let child = otel_only_lib::child_span(format!("lib.child {function} {case} {point}"));
    Seen {
        kind,
        function,
        case: case.to_owned(),
        point,
        toolkit,
        current,
        traceparent,
        child,
    }
}

/// `Context::current()` around an instrumented call, seen by its caller.
#[derive(Debug)]
struct Returned {
    kind: Kind,
    function: &'static str,
    case: String,
    before: (TraceId, SpanId),
    after: (TraceId, SpanId),
}

#[trace_method]
fn sync_plain(case: &str) -> Vec<Seen> {
    vec![look(Kind::Sync, "sync_plain", case, "start")]
}

#[trace_method]
fn sync_inner(case: &str) -> Vec<Seen> {
    vec![look(Kind::Sync, "sync_inner", case, "start")]
}

#[trace_method]
fn sync_outer(case: &str) -> Vec<Seen> {
    let mut seen = sync_inner(case);
    seen.push(look(Kind::Sync, "sync_outer", case, "after_inner_call"));
    seen
}

#[trace_method]
async fn async_steps(case: &str) -> Vec<Seen> {
    let mut seen = vec![look(Kind::Async, "async_steps", case, "start")];
    tokio::task::yield_now().await;
    seen.push(look(Kind::Async, "async_steps", case, "after_yield_now"));
    tokio::time::sleep(Duration::from_millis(1)).await;
    seen.push(look(Kind::Async, "async_steps", case, "after_sleep"));
    seen
}

#[trace_method]
async fn spawned_task(case: &str) -> Vec<Seen> {
    let mut seen = vec![look(Kind::Spawned, "spawned_task", case, "start")];
    tokio::time::sleep(Duration::from_millis(1)).await;
    seen.push(look(Kind::Spawned, "spawned_task", case, "after_sleep"));
    seen
}

/// Runs a sync instrumented call on this thread, noting `Context::current()` around it.
fn around_sync(
    function: &'static str,
    case: &str,
    call: fn(&str) -> Vec<Seen>,
) -> (Vec<Seen>, Returned) {
    let before = otel_only_lib::current_ids();
    let seen = call(case);
    let after = otel_only_lib::current_ids();
    let returned = Returned {
        kind: Kind::Sync,
        function,
        case: case.to_owned(),
        before,
        after,
    };
    (seen, returned)
}

/// Runs the async and spawned cases on a two-worker runtime, each in a task of its own and all
/// the spawned ones at once.
fn run_async_cases() -> (Vec<Seen>, Vec<Returned>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut tasks = vec![tokio::spawn(async {
            let before = otel_only_lib::current_ids();
            let seen = async_steps("async").await;
            let after = otel_only_lib::current_ids();
            (
                seen,
                Returned {
                    kind: Kind::Async,
                    function: "async_steps",
                    case: "async".to_owned(),
                    before,
                    after,
                },
            )
        })];
        for task in 0..SPAWNED_TASKS {
            tasks.push(tokio::spawn(async move {
                let case = format!("spawned-{task}");
                let before = otel_only_lib::current_ids();
                let seen = spawned_task(&case).await;
                let after = otel_only_lib::current_ids();
                (
                    seen,
                    Returned {
                        kind: Kind::Spawned,
                        function: "spawned_task",
                        case,
                        before,
                        after,
                    },
                )
            }));
        }
        let mut all_seen = Vec::new();
        let mut returns = Vec::new();
        for task in tasks {
            let (seen, returned) = task.await.expect("the task runs to completion");
            all_seen.extend(seen);
            returns.push(returned);
        }
        (all_seen, returns)
    })
}

fn text(attributes: &[ProtoKeyValue], key: &str) -> Option<String> {
    match attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?
    {
        any_value::Value::StringValue(s) => Some(s.clone()),
        other => Some(format!("{other:?}")),
    }
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(none)".to_owned();
    }
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn ids(ids: (TraceId, SpanId)) -> String {
    if ids.1 == SpanId::INVALID {
        "(no span)".to_owned()
    } else {
        format!("{}/{}", ids.0, ids.1)
    }
}

/// Passed and total counts of one check, by kind of call, with the first failure of each kind.
#[derive(Default)]
struct Tally {
    passed: [usize; 3],
    total: [usize; 3],
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, kind: Kind, ok: bool, failure: impl FnOnce() -> String) {
        self.total[kind.index()] += 1;
        if ok {
            self.passed[kind.index()] += 1;
        } else if self.total[kind.index()] - self.passed[kind.index()] == 1 {
            // The first failure of each kind of call.
            self.failures.push(failure());
        }
    }

    fn all_passed(&self) -> bool {
        self.passed == self.total
    }

    fn line(&self, what: &str) -> String {
        let [ps, pa, pt] = self.passed;
        let [ts, ta, tt] = self.total;
        format!(
            "{} of {} {what} (sync {ps}/{ts}, async {pa}/{ta}, spawned {pt}/{tt})",
            pa + ps + pt,
            ta + ts + tt,
        )
    }
}

#[test]
fn the_trace_method_span_is_the_current_opentelemetry_span() {
    let receiver = Receiver::start(Wire::Grpc);
    let guard = Telemetry::builder()
        .ignore_env()
        .service_name("otel-citizen")
        .endpoint(receiver.endpoint())
        .protocol(Protocol::Grpc)
        .install()
        .expect("telemetry installs");
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let mut seen = Vec::new();
    let mut returns = Vec::new();
    for (function, case, call) in [
        (
            "sync_plain",
            "sync-plain",
            sync_plain as fn(&str) -> Vec<Seen>,
        ),
        ("sync_outer", "sync-nested", sync_outer),
    ] {
        let (s, r) = around_sync(function, case, call);
        seen.extend(s);
        returns.push(r);
    }
    let (async_seen, async_returns) = run_async_cases();
    seen.extend(async_seen);
    returns.extend(async_returns);

    // One span per instrumented call (sync_outer holds sync_inner) and one per library call.
    let calls = returns.len() + 1;
    assert_eq!(calls, 3 + 1 + SPAWNED_TASKS);
    assert_eq!(seen.len(), 3 + 3 + 2 * SPAWNED_TASKS);
    let expected_spans = calls + seen.len();
    guard.force_flush().expect("telemetry flushes");
    assert!(
        receiver.wait_for_spans(expected_spans, Duration::from_secs(30)),
        "{} of {expected_spans} spans arrived",
        receiver.span_count()
    );
    let spans = receiver.spans();
    let by_id: HashMap<&[u8], &Span> = spans.iter().map(|s| (&s.span_id[..], s)).collect();
    let calls_by_case: HashMap<(&str, String), &Span> = spans
        .iter()
        .filter_map(|s| Some(((s.name.as_str(), text(&s.attributes, "parameter.case")?), s)))
        .collect();
    let call_span = |function: &str, case: &str| -> &Span {
        calls_by_case
            .get(&(function, case.to_owned()))
            .unwrap_or_else(|| panic!("the span of {function}(case={case:?}) did not arrive"))
    };

    // The toolkit's own view must name the exported span, or the checks below mean nothing.
    for s in &seen {
        let call = call_span(s.function, &s.case);
        assert_eq!(
            (&s.toolkit.0.to_bytes()[..], &s.toolkit.1.to_bytes()[..]),
            (&call.trace_id[..], &call.span_id[..]),
            "instrument::current_context() names the exported span of {}",
            s.label()
        );
    }

    let mut children = Tally::default();
    let mut tagged = Tally::default();
    let mut tags_elsewhere = Tally::default();
    let mut traceparents = Tally::default();
    let mut currents = Tally::default();
    for s in &seen {
        let call = call_span(s.function, &s.case);
        let (call_trace, call_id) = (hex(&call.trace_id), hex(&call.span_id));

        let child = by_id.get(&s.child.span_id.to_bytes()[..]);
        children.check(
            s.kind,
            child.is_some_and(|c| c.parent_span_id == call.span_id && c.trace_id == call.trace_id),
            || match child {
                None => format!("{}: the library's span {} did not arrive", s.label(), s.child.span_id),
                Some(c) => format!(
                    "{}: the library's span has parent {} in trace {}, not {call_id} in {call_trace}",
                    s.label(),
                    hex(&c.parent_span_id),
                    hex(&c.trace_id)
                ),
            },
        );

        let (key, value) = s.tag();
        tagged.check(
            s.kind,
            text(&call.attributes, &key).as_deref() == Some(value.as_str()),
            || {
                format!(
                    "{}: the #[trace_method] span has {key}={:?}, not {value:?}",
                    s.label(),
                    text(&call.attributes, &key)
                )
            },
        );
        let elsewhere: Vec<&str> = spans
            .iter()
            .filter(|o| o.span_id != call.span_id)
            .filter(|o| text(&o.attributes, &key).as_deref() == Some(value.as_str()))
            .map(|o| o.name.as_str())
            .collect();
        tags_elsewhere.check(s.kind, elsewhere.is_empty(), || {
            format!("{}: {key}={value:?} landed on {elsewhere:?}", s.label())
        });

        let expected = format!("00-{call_trace}-{call_id}-01");
        traceparents.check(
            s.kind,
            s.traceparent.as_deref() == Some(expected.as_str()),
            || {
                format!(
                    "{}: traceparent {:?}, expected {expected:?}",
                    s.label(),
                    s.traceparent
                )
            },
        );

        currents.check(
            s.kind,
            s.current.0.to_bytes()[..] == call.trace_id[..]
                && s.current.1.to_bytes()[..] == call.span_id[..],
            || {
                format!(
                    "{}: Context::current() held {}, expected {call_trace}/{call_id}",
                    s.label(),
                    ids(s.current)
                )
            },
        );
    }

    let mut restored = Tally::default();
    for r in &returns {
        let call = call_span(r.function, &r.case);
        restored.check(
            r.kind,
            r.after == r.before && r.after.1.to_bytes()[..] != call.span_id[..],
            || {
                format!(
                    "{}(case={:?}): after it returned Context::current() held {}, before the call {}, the call's span {}",
                    r.function,
                    r.case,
                    ids(r.after),
                    ids(r.before),
                    hex(&call.span_id)
                )
            },
        );
    }

    let checks = [
        (
            &children,
            "third-party spans were children of their #[trace_method] span",
        ),
        (
            &tagged,
            "get_active_span attributes landed on their #[trace_method] span",
        ),
        (
            &tags_elsewhere,
            "get_active_span attributes stayed off every other span",
        ),
        (
            &traceparents,
            "injected traceparent headers named their #[trace_method] span",
        ),
        (
            &currents,
            "reads of Context::current() inside a #[trace_method] call found its span",
        ),
        (
            &restored,
            "#[trace_method] calls left Context::current() as they found it on return",
        ),
    ];
    let mut report = String::new();
    for (tally, what) in &checks {
        let _ = writeln!(report, "  {}", tally.line(what));
    }
    let mut failures = String::new();
    for (tally, _) in &checks {
        for failure in &tally.failures {
            let _ = writeln!(failures, "  {failure}");
        }
    }
    guard.shutdown().expect("clean shutdown");
    assert!(
        checks.iter().all(|(tally, _)| tally.all_passed()),
        "the #[trace_method] span is not the current OpenTelemetry span:\n{report}first failures:\n{failures}"
    );
    eprintln!("{report}");
}
