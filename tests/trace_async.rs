//! `#[trace_method]` on async code: context across `.await` and tasks, async methods and traits,
//! `#[async_trait]`, errors, panics and cancellation.

// Each test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporter is shared by the test binary.
#![allow(clippy::await_holding_lock)]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use instrument::trace_method;
use opentelemetry::trace::Status;
use support::{attr, error_description, event, span, spans, start};

#[trace_method]
async fn request(id: u32) -> u32 {
    tokio::task::yield_now().await;
    let doubled = handle(id).await;
    tokio::task::yield_now().await;
    doubled
}

#[trace_method]
async fn handle(id: u32) -> u32 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    id * 2
}

#[trace_method]
async fn fallible(fail: bool) -> Result<&'static str, String> {
    tokio::task::yield_now().await;
    if fail {
        return Err("went wrong".to_owned());
    }
    Ok("fine")
}

#[trace_method]
async fn slow(millis: u64) {
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

#[trace_method]
async fn explode_later(code: u8) -> u8 {
    tokio::task::yield_now().await;
    panic!("async kaboom {code}")
}

#[trace_method]
fn marker() {}

/// Stays an `async fn` under the macro (a `_` parameter, which the flat shape would drop at
/// the call): the two shapes nest in either order.
#[trace_method]
async fn kept_shape(_: u8, id: u32) -> u32 {
    marker();
    id + 1
}

/// Its first poll runs an inner call of the kept shape to its end, then starts a flat one that
/// waits: each inner span is under it, and it is current again between them.
#[trace_method]
async fn flat_outer(id: u32) -> u32 {
    let first = kept_shape(0, id).await;
    marker();
    let second = handle(first).await;
    kept_shape(0, second).await
}

#[trace_method]
async fn panics_at_once(code: u8) -> u8 {
    if code > 0 {
        panic!("at once {code}");
    }
    code
}

#[trace_method(skip_all)]
async fn awaits_it(future: std::pin::Pin<Box<dyn Future<Output = u32> + Send>>) -> u32 {
    future.await
}

struct Agent {
    name: String,
}

impl Agent {
    #[trace_method]
    async fn think(&self, depth: u32) -> String {
        let inner = handle(depth).await;
        format!("{}:{inner}", self.name)
    }
}

trait Model {
    async fn complete(&self, prompt: &str) -> String;
}

impl Model for Agent {
    #[trace_method]
    async fn complete(&self, prompt: &str) -> String {
        tokio::task::yield_now().await;
        format!("{prompt}!")
    }
}

#[async_trait::async_trait]
trait Retriever {
    async fn fetch(&self, key: &str, limit: usize) -> Result<Vec<String>, String>;
}

#[async_trait::async_trait]
impl Retriever for Agent {
    #[trace_method]
    async fn fetch(&self, key: &str, limit: usize) -> Result<Vec<String>, String> {
        let n = handle(limit as u32).await;
        Ok(vec![format!("{key}{n}")])
    }
}

#[test]
fn span_stays_current_across_await() {
    support::run_multi_thread(async move {
        let _t = start();
        assert_eq!(request(21).await, 42);
        let parent = span("request");
        let child = span("handle");
        assert_eq!(child.parent_span_id, parent.span_context.span_id());
        assert_eq!(attr(&parent, "parameter.id").as_deref(), Some("21"));
    })
}

#[test]
fn a_thousand_concurrent_tasks_do_not_cross_talk() {
    support::run_multi_thread(async move {
        let _t = start();
        let tasks: Vec<_> = (0..1000u32).map(|id| tokio::spawn(request(id))).collect();
        for (id, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), id as u32 * 2);
        }
        let all = spans();
        assert_eq!(all.len(), 2000);
        let requests: HashMap<_, _> = all
            .iter()
            .filter(|s| s.name == "request")
            .map(|s| {
                (
                    s.span_context.span_id(),
                    (attr(s, "parameter.id").unwrap(), s.span_context.trace_id()),
                )
            })
            .collect();
        assert_eq!(requests.len(), 1000);
        for child in all.iter().filter(|s| s.name == "handle") {
            let (parent_id, parent_trace) = &requests[&child.parent_span_id];
            assert_eq!(
                attr(child, "parameter.id").as_ref(),
                Some(parent_id),
                "child under its own request"
            );
            assert_eq!(&child.span_context.trace_id(), parent_trace);
        }
        let traces: std::collections::HashSet<_> = requests.values().map(|(_, t)| *t).collect();
        assert_eq!(traces.len(), 1000, "each task is its own trace");
    })
}

#[test]
fn a_future_s_span_starts_at_its_first_poll_under_the_span_current_then() {
    support::run_multi_thread(async move {
        let _t = start();
        let made = request(1);
        drop(request(2));
        marker();
        assert_eq!(awaits_it(Box::pin(made)).await, 2);
        let all = spans();
        assert_eq!(
            all.iter().filter(|s| s.name == "request").count(),
            1,
            "a future dropped before its first poll records nothing, as its body never ran"
        );
        let (request, marker, awaits) = (span("request"), span("marker"), span("awaits_it"));
        assert_eq!(attr(&request, "parameter.id").as_deref(), Some("1"));
        assert!(
            request.start_time >= marker.end_time,
            "the span starts at the first poll, not when the future is made"
        );
        assert_eq!(
            request.parent_span_id,
            awaits.span_context.span_id(),
            "under the span current at the first poll"
        );
    })
}

#[test]
fn nested_first_polls_hand_each_span_to_its_own_future() {
    support::run_multi_thread(async move {
        let _t = start();
        assert_eq!(flat_outer(1).await, 5);
        let all = spans();
        let outer = span("flat_outer").span_context.span_id();
        let parents = |name: &str| -> Vec<_> {
            all.iter()
                .filter(|s| s.name == name)
                .map(|s| s.parent_span_id)
                .collect()
        };
        assert_eq!(parents("kept_shape"), [outer, outer]);
        assert_eq!(parents("handle"), [outer]);
        let kept: Vec<_> = all
            .iter()
            .filter(|s| s.name == "kept_shape")
            .map(|s| s.span_context.span_id())
            .collect();
        assert_eq!(
            parents("marker"),
            [kept[0], outer, kept[1]],
            "each marker under the span current where it ran"
        );
        assert_eq!(
            span("flat_outer").parent_span_id,
            opentelemetry::trace::SpanId::INVALID,
            "a root: nothing was left current by the calls before it"
        );
    })
}

#[test]
fn a_panic_in_the_first_poll_is_recorded_and_leaves_nothing_current() {
    support::run_multi_thread(async move {
        let _t = start();
        let joined = tokio::spawn(panics_at_once(3)).await;
        assert!(joined.expect_err("the task panicked").is_panic());
        let s = span("panics_at_once");
        assert_eq!(error_description(&s).as_deref(), Some("at once 3"));
        assert_eq!(panics_at_once(0).await, 0);
        let all = spans();
        let calm = all
            .iter()
            .rfind(|s| s.name == "panics_at_once")
            .expect("the second call's span");
        assert_eq!(calm.parent_span_id, opentelemetry::trace::SpanId::INVALID);
        assert_eq!(calm.status, Status::Unset);
    })
}

#[test]
fn async_errors_set_status() {
    support::run_multi_thread(async move {
        let _t = start();
        assert_eq!(fallible(false).await, Ok("fine"));
        assert!(fallible(true).await.is_err());
        let all = spans();
        assert_eq!(all[0].status, Status::Ok);
        assert_eq!(error_description(&all[1]).as_deref(), Some("went wrong"));
        assert_eq!(
            attr(&all[1], "error.type").as_deref(),
            Some("alloc::string::String")
        );
    })
}

#[test]
fn dropped_future_records_cancelled() {
    support::run_multi_thread(async move {
        let _t = start();
        let result = tokio::time::timeout(Duration::from_millis(20), slow(10_000)).await;
        assert!(result.is_err(), "timed out");
        let s = span("slow");
        assert!(event(&s, "cancelled").is_some(), "cancelled event");
        assert_eq!(error_description(&s).as_deref(), Some("cancelled"));
    })
}

#[test]
fn async_panic_is_recorded_and_propagates() {
    support::run_multi_thread(async move {
        let _t = start();
        let joined = tokio::spawn(explode_later(7)).await;
        let error = joined.expect_err("the task panicked");
        assert!(error.is_panic());
        let s = span("explode_later");
        assert_eq!(error_description(&s).as_deref(), Some("async kaboom 7"));
        assert!(
            event(&s, "cancelled").is_none(),
            "a panic is not a cancellation"
        );
    })
}

#[test]
fn async_methods_trait_methods_and_async_trait() {
    support::run_multi_thread(async move {
        let _t = start();
        let agent = Agent { name: "ada".into() };
        assert_eq!(agent.think(2).await, "ada:4");
        assert_eq!(agent.complete("hi").await, "hi!");
        assert_eq!(agent.fetch("k", 3).await.unwrap(), vec!["k6".to_owned()]);

        let think = span("Agent.think");
        let complete = span("Agent.complete");
        let fetch = span("Agent.fetch");
        assert_eq!(attr(&complete, "parameter.prompt").as_deref(), Some("hi"));
        assert_eq!(attr(&fetch, "parameter.key").as_deref(), Some("k"));
        assert_eq!(attr(&fetch, "parameter.limit").as_deref(), Some("3"));
        assert_eq!(fetch.status, Status::Ok);
        let children: Vec<_> = spans().into_iter().filter(|s| s.name == "handle").collect();
        assert_eq!(children.len(), 2);
        assert_eq!(children[0].parent_span_id, think.span_context.span_id());
        assert_eq!(
            children[1].parent_span_id,
            fetch.span_context.span_id(),
            "async_trait body keeps the span current"
        );
    })
}
