//! Acceptance test, unsampled: when the sampler drops a `#[trace_method]` span, the span is still
//! the current OpenTelemetry span. A library that knows only the OpenTelemetry API
//! (`tests/otel-only-lib`) injects a `traceparent` naming it with the sampled flag off (so the
//! services downstream drop their part of the trace too), and the span it starts joins the trace
//! unsampled. Nothing of it is exported. The sampled counterpart is `otel_citizen.rs` (telemetry
//! installs once per process).

#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use std::fmt::Write as _;
use std::time::Duration;

use instrument::{Protocol, Telemetry, trace_method};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry::{Context, global};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::Sampler;
use otel_only_lib::SpanIds;
use receiver::{Receiver, Wire};

/// What the library saw at one point inside an instrumented call.
#[derive(Debug)]
struct Seen {
    label: String,
    /// The call's span as the toolkit reports it (`instrument::current_context()`).
    toolkit: SpanContext,
    current: (TraceId, SpanId),
    traceparent: Option<String>,
    child: SpanIds,
}

fn look(label: String) -> Seen {
    let toolkit = instrument::current_context().span().span_context().clone();
    let current = otel_only_lib::current_ids();
    let traceparent = otel_only_lib::inject();
    otel_only_lib::tag_active("lib.tag", label.clone());
    let child = otel_only_lib::child_span(format!("lib.child {label}"));
    Seen {
        label,
        toolkit,
        current,
        traceparent,
        child,
    }
}

#[trace_method]
fn unsampled_sync(case: &str) -> Vec<Seen> {
    vec![look(format!("unsampled_sync(case={case:?})"))]
}

#[trace_method]
async fn unsampled_async(case: &str) -> Vec<Seen> {
    let mut seen = vec![look(format!("unsampled_async(case={case:?}) at start"))];
    tokio::time::sleep(Duration::from_millis(1)).await;
    seen.push(look(format!("unsampled_async(case={case:?}) after_sleep")));
    seen
}

fn ids(ids: (TraceId, SpanId)) -> String {
    if ids.1 == SpanId::INVALID {
        "(no span)".to_owned()
    } else {
        format!("{}/{}", ids.0, ids.1)
    }
}

#[test]
fn an_unsampled_trace_method_span_is_still_the_current_opentelemetry_span() {
    let receiver = Receiver::start(Wire::Grpc);
    let guard = Telemetry::builder()
        .ignore_env()
        .service_name("otel-citizen-unsampled")
        .endpoint(receiver.endpoint())
        .protocol(Protocol::Grpc)
        // Root spans are dropped; spans under a sampled remote parent (the canary) are kept.
        .sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
        .install()
        .expect("telemetry installs");
    global::set_text_map_propagator(TraceContextPropagator::new());

    let before = otel_only_lib::current_ids();
    let mut seen = unsampled_sync("sync");
    let after = otel_only_lib::current_ids();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    seen.extend(runtime.block_on(async {
        tokio::spawn(unsampled_async("async"))
            .await
            .expect("the task runs to completion")
    }));

    // The call's span exists, unsampled, or the checks below mean nothing.
    for s in &seen {
        assert!(
            s.toolkit.is_valid() && !s.toolkit.is_sampled(),
            "{}: instrument::current_context() holds an unsampled span: {:?}",
            s.label,
            s.toolkit
        );
    }

    // A span under a sampled remote parent is kept: once it arrives, after a flush, whatever
    // else was exported has arrived too.
    let remote = SpanContext::new(
        TraceId::from(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        SpanId::from(0x0123_4567_89ab_cdef),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    global::tracer("otel-citizen-canary").in_span_with_context(
        "canary",
        &Context::new().with_remote_span_context(remote),
        |_| {},
    );
    guard.force_flush().expect("telemetry flushes");
    assert!(
        receiver.wait_for_spans(1, Duration::from_secs(30)),
        "the canary span arrived"
    );
    guard.shutdown().expect("clean shutdown");

    let mut failures = String::new();
    let mut fail = |failure: String| {
        let _ = writeln!(failures, "  {failure}");
    };
    let names = receiver.span_names();
    if names != ["canary"] {
        fail(format!(
            "spans of unsampled calls were exported: {names:?} arrived, only the canary expected"
        ));
    }
    let (mut traceparents, mut currents, mut children) = (0, 0, 0);
    for s in &seen {
        let (trace, span) = (s.toolkit.trace_id(), s.toolkit.span_id());
        let expected = format!("00-{trace}-{span}-00");
        if s.traceparent.as_deref() == Some(expected.as_str()) {
            traceparents += 1;
        } else {
            fail(format!(
                "{}: traceparent {:?}, expected {expected:?}",
                s.label, s.traceparent
            ));
        }
        if s.current == (trace, span) {
            currents += 1;
        } else {
            fail(format!(
                "{}: Context::current() held {}, expected {trace}/{span}",
                s.label,
                ids(s.current)
            ));
        }
        let c = &s.child;
        if !c.sampled
            && c.trace_id == trace
            && (c.parent_trace_id, c.parent_span_id) == (trace, span)
        {
            children += 1;
        } else {
            fail(format!(
                "{}: the library's span (sampled: {}) is in trace {} under {}, expected unsampled in {trace} under {span}",
                s.label,
                c.sampled,
                c.trace_id,
                ids((c.parent_trace_id, c.parent_span_id))
            ));
        }
    }
    let restored = after == before && after.1 != seen[0].toolkit.span_id();
    if !restored {
        fail(format!(
            "unsampled_sync: after it returned Context::current() held {}, before the call {}",
            ids(after),
            ids(before)
        ));
    }
    let n = seen.len();
    let report = format!(
        "  {traceparents} of {n} injected traceparent headers named their unsampled #[trace_method] span (flags 00)\n  \
         {currents} of {n} reads of Context::current() inside an unsampled #[trace_method] call found its span\n  \
         {children} of {n} third-party spans joined their unsampled #[trace_method] span, unsampled\n  \
         {} of 1 calls left Context::current() as they found it on return\n  \
         {} spans of unsampled calls exported (0 expected)\n",
        u8::from(restored),
        names.iter().filter(|n| *n != "canary").count()
    );
    assert!(
        failures.is_empty(),
        "an unsampled #[trace_method] span is not the current OpenTelemetry span:\n{report}failures:\n{failures}"
    );
    eprintln!("{report}");
}
