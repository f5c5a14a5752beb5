//! The instrumented call's span as OpenTelemetry code sees it: third-party spans started under
//! `instrument::current_context()` are its children, a context a library attaches inside the
//! call becomes the parent of the calls made under it, and a task spawned with the context keeps
//! the parent.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporter is shared by the test binary.
#![allow(clippy::await_holding_lock)]

mod support;

use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt, Tracer as _};
use support::{span, spans, start_global as start};

/// Starts a span the way third-party OpenTelemetry instrumentation does: from the global
/// tracer, as a child of `Context::current()`.
fn third_party(name: &'static str) {
    opentelemetry::global::tracer("third-party").in_span(name, |_cx| {});
}

#[instrument::trace_method]
fn handler_with_library(order: u32) -> u32 {
    let _current = instrument::current_context().attach();
    third_party("library.lookup");
    order
}

#[instrument::trace_method]
fn nested(depth: u32) -> u32 {
    depth
}

#[instrument::trace_method]
fn handler_under_library_span(order: u32) -> u32 {
    let tracer = opentelemetry::global::tracer("third-party");
    let library = tracer.start_with_context("library.request", &instrument::current_context());
    let library_cx = Context::current_with_span(library);
    let inner = {
        let _attached = library_cx.clone().attach();
        nested(order)
    };
    library_cx.span().end();
    inner + nested(order)
}

#[instrument::trace_method]
async fn spawns(order: u32) -> u32 {
    let task = async move {
        third_party("spawned.work");
        nested(order)
    };
    tokio::spawn(task.with_context(instrument::current_context()))
        .await
        .unwrap()
}

#[test]
fn a_library_span_under_the_attached_current_context_is_a_child_of_the_call() {
    let _lock = start();
    assert_eq!(handler_with_library(7), 7);
    let call = span("handler_with_library");
    let library = span("library.lookup");
    assert_eq!(library.parent_span_id, call.span_context.span_id());
    assert_eq!(
        library.span_context.trace_id(),
        call.span_context.trace_id()
    );
}

#[test]
fn calls_under_a_context_a_library_attached_are_its_children() {
    let _lock = start();
    assert_eq!(handler_under_library_span(3), 6);
    let spans = spans();
    let call = span("handler_under_library_span");
    let library = span("library.request");
    assert_eq!(library.parent_span_id, call.span_context.span_id());
    let nested: Vec<_> = spans.iter().filter(|s| s.name == "nested").collect();
    assert_eq!(nested.len(), 2);
    let parents: Vec<_> = nested.iter().map(|s| s.parent_span_id).collect();
    assert!(
        parents.contains(&library.span_context.span_id()),
        "the call made while the library's context was attached is its child: {parents:?}"
    );
    assert!(
        parents.contains(&call.span_context.span_id()),
        "the call made after it was detached is the handler's child: {parents:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_spawned_with_the_current_context_keeps_the_call_as_parent() {
    let _lock = start();
    assert_eq!(spawns(5).await, 5);
    let call = span("spawns");
    for name in ["spawned.work", "nested"] {
        let child = span(name);
        assert_eq!(
            child.parent_span_id,
            call.span_context.span_id(),
            "{name} is a child of the spawning call"
        );
    }
}

#[instrument::trace_method]
fn records_under_attached_contexts(order: u32) -> u32 {
    instrument::context::in_scope([instrument::KeyValue::new("tenant", "t-1")], || {
        instrument::set_span_attributes([("order.kind", "scoped")]);
    });
    let _current = instrument::current_context().attach();
    instrument::log_event("order.checked", [("order.id", order.to_string())]);
    order
}

#[test]
fn the_call_s_span_records_what_is_set_under_a_context_made_from_it() {
    let _lock = start();
    assert_eq!(records_under_attached_contexts(4), 4);
    let call = span("records_under_attached_contexts");
    assert!(
        call.attributes
            .iter()
            .any(|kv| kv.key.as_str() == "order.kind" && kv.value.as_str() == "scoped"),
        "set inside a request-context scope: {:?}",
        call.attributes
    );
    assert!(
        call.events.iter().any(|e| e.name == "order.checked"),
        "logged under the attached current_context()"
    );
}

#[test]
fn outside_any_call_the_current_context_is_opentelemetry_s() {
    let _lock = start();
    let cx = instrument::current_context();
    assert!(!cx.has_active_span());
    assert_eq!(instrument::get_trace_id(), None);
}

#[instrument::trace_method]
fn hands_work_to_a_thread(order: u32) -> (u32, usize) {
    instrument::context::in_scope([instrument::KeyValue::new("tenant", "t-1")], || {
        let worker = std::thread::spawn(instrument::context::bind(move || {
            (nested(order), instrument::context::attributes().len())
        }));
        worker.join().expect("the worker ran")
    })
}

#[test]
fn a_thread_started_with_bind_runs_under_the_span_and_the_scope() {
    let _t = start();
    assert_eq!(hands_work_to_a_thread(4), (4, 1));
    let all = spans();
    let caller = span("hands_work_to_a_thread");
    let worker = all
        .iter()
        .find(|s| s.name == "nested")
        .expect("the worker's call was traced");
    assert_eq!(worker.parent_span_id, caller.span_context.span_id());
    assert_eq!(
        worker.span_context.trace_id(),
        caller.span_context.trace_id()
    );
    assert!(
        worker
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "tenant" && kv.value.as_str() == "t-1"),
        "the worker's span carries the scope's attributes: {:?}",
        worker.attributes
    );
}

#[instrument::trace_method]
fn tags_without_a_scope(order: u32) -> bool {
    instrument::context::add_attribute("order.kind", "late")
}

#[test]
fn an_attribute_set_outside_any_scope_goes_on_the_current_span() {
    let _t = start();
    assert!(!tags_without_a_scope(1), "there is no scope to keep it");
    let tagged = span("tags_without_a_scope");
    assert!(
        tagged
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "order.kind" && kv.value.as_str() == "late"),
        "not dropped: {:?}",
        tagged.attributes
    );
}

#[instrument::trace_method]
fn uses_the_opentelemetry_api_only(order: u32) -> u32 {
    third_party("library.direct");
    opentelemetry::trace::get_active_span(|span| {
        span.set_attribute(opentelemetry::KeyValue::new("library.tag", "set"));
    });
    order
}

#[test]
fn opentelemetry_code_sees_the_call_span_in_context_current_without_any_attach() {
    let _t = start();
    assert_eq!(uses_the_opentelemetry_api_only(3), 3);
    let call = span("uses_the_opentelemetry_api_only");
    let library = span("library.direct");
    assert_eq!(library.parent_span_id, call.span_context.span_id());
    assert!(
        call.attributes
            .iter()
            .any(|kv| kv.key.as_str() == "library.tag"),
        "get_active_span tagged the call's span: {:?}",
        call.attributes
    );
    assert!(!Context::current().has_active_span(), "no longer current");
}
