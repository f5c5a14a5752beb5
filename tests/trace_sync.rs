//! `#[trace_method]` on synchronous code: targets, names, parameters, errors, panics.

mod support;

use std::fmt::Display;
use std::num::ParseIntError;

use instrument::trace_method;
use opentelemetry::trace::{SpanKind, Status};
use serde::Serialize;
use support::{attr, error_description, event, parameter_keys, span, spans, start};

#[trace_method]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[trace_method]
fn parse_number(input: &str) -> Result<u32, ParseIntError> {
    if input.is_empty() {
        return Ok(0);
    }
    let n: u32 = input.trim().parse()?;
    Ok(n)
}

#[trace_method(name = "custom.name", kind = "client")]
fn renamed(x: i64) -> i64 {
    x * 2
}

#[trace_method]
fn pair((left, right): (u8, u8), _unused: bool) -> u8 {
    left + right
}

#[trace_method]
fn generic<T>(value: &T) -> T
where
    T: Serialize + Clone + std::fmt::Debug,
{
    value.clone()
}

#[trace_method]
fn shows(value: impl Display) -> impl Display {
    format!("<{value}>")
}

#[trace_method]
fn explode(reason: &str) -> u8 {
    panic!("kaboom: {reason}")
}

#[trace_method]
fn outer(n: u32) -> u32 {
    inner(n) + 1
}

#[trace_method]
fn inner(n: u32) -> u32 {
    n * 10
}

#[trace_method(skip_all)]
fn quiet(password_hint: &str, count: u32) -> usize {
    password_hint.len() + count as usize
}

#[trace_method]
fn login(user: &str, password: &str, api_key: &str, max_tokens: u32) -> bool {
    !user.is_empty() && !password.is_empty() && !api_key.is_empty() && max_tokens > 0
}

#[trace_method]
fn unit_return(flag: bool) {
    let _ = flag;
}

#[derive(Debug)]
struct NotSerializable;

struct Opaque;

#[trace_method]
fn by_debug(value: NotSerializable, other: Opaque) {
    let _ = (value, other);
}

struct Agent {
    name: String,
}

impl Agent {
    #[trace_method]
    fn greet(&self, who: &str) -> String {
        format!("{} greets {who}", self.name)
    }

    #[trace_method]
    fn create(name: &str) -> Agent {
        Agent {
            name: name.to_owned(),
        }
    }
}

struct Planner;

#[trace_method(exclude = [draft_plan])]
impl Planner {
    fn plan(&self, goal: &str) -> usize {
        goal.len()
    }

    fn hide(&self, draft_plan: &str) -> usize {
        draft_plan.len()
    }

    #[trace_method(name = "Planner.special")]
    fn special(&self) -> u8 {
        7
    }

    const fn constant() -> u8 {
        1
    }
}

trait Tool {
    fn call(&self, input: &str) -> Result<String, ToolError>;
}

#[derive(Debug)]
struct ToolError(String);

impl Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tool failed: {}", self.0)
    }
}

struct Search;

impl Tool for Search {
    #[trace_method]
    fn call(&self, input: &str) -> Result<String, ToolError> {
        if input == "bad" {
            return Err(ToolError(input.to_owned()));
        }
        Ok(input.to_uppercase())
    }
}

#[test]
fn free_fn_records_parameters_and_code_location() {
    let _t = start();
    assert_eq!(add(2, 3), 5);
    let s = span("add");
    assert_eq!(s.span_kind, SpanKind::Internal);
    assert_eq!(attr(&s, "parameter.a").as_deref(), Some("2"));
    assert_eq!(attr(&s, "parameter.b").as_deref(), Some("3"));
    assert_eq!(
        attr(&s, "code.function.name").as_deref(),
        Some("trace_sync::add")
    );
    assert_eq!(
        attr(&s, "code.file.path").as_deref(),
        Some("tests/trace_sync.rs")
    );
    assert_eq!(
        attr(&s, "code.line.number").as_deref(),
        Some("14"),
        "the line of `fn add`"
    );
    assert_eq!(
        s.status,
        Status::Unset,
        "a non-Result return leaves the status unset"
    );
}

#[test]
fn ok_sets_status_ok_and_err_records_the_exception() {
    let _t = start();
    assert_eq!(parse_number(" 42 "), Ok(42));
    assert_eq!(parse_number(""), Ok(0), "early return");
    assert!(parse_number("x1").is_err(), "? propagates");
    let all = spans();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].status, Status::Ok);
    assert_eq!(all[1].status, Status::Ok);
    let failed = &all[2];
    assert_eq!(
        error_description(failed).as_deref(),
        Some("invalid digit found in string")
    );
    assert_eq!(
        attr(failed, "error.type").as_deref(),
        Some("core::num::error::ParseIntError")
    );
    let exception = event(failed, "exception").expect("exception event");
    assert!(exception.contains(&(
        "exception.type".into(),
        "core::num::error::ParseIntError".into()
    )));
    assert!(exception.contains(&(
        "exception.message".into(),
        "invalid digit found in string".into()
    )));
}

#[test]
fn name_and_kind_options() {
    let _t = start();
    renamed(4);
    let s = span("custom.name");
    assert_eq!(s.span_kind, SpanKind::Client);
    assert_eq!(attr(&s, "parameter.x").as_deref(), Some("4"));
}

#[test]
fn pattern_generic_and_impl_trait_parameters() {
    let _t = start();
    assert_eq!(pair((1, 2), true), 3);
    let s = span("pair");
    assert_eq!(
        parameter_keys(&s),
        ["parameter.left", "parameter.right", "parameter._unused"]
    );
    assert_eq!(attr(&s, "parameter.right").as_deref(), Some("2"));

    assert_eq!(generic(&vec![1, 2]), vec![1, 2]);
    assert_eq!(
        attr(&span("generic"), "parameter.value").as_deref(),
        Some("[1,2]")
    );

    assert_eq!(shows(5).to_string(), "<5>");
    let value = attr(&span("shows"), "parameter.value").unwrap();
    assert!(value.starts_with("<unserializable: "), "{value}");
}

#[test]
fn debug_and_unserializable_values() {
    let _t = start();
    by_debug(NotSerializable, Opaque);
    let s = span("by_debug");
    assert_eq!(
        attr(&s, "parameter.value").as_deref(),
        Some("NotSerializable")
    );
    assert_eq!(
        attr(&s, "parameter.other").as_deref(),
        Some("<unserializable: Opaque>")
    );
}

#[test]
fn nested_calls_are_parent_and_child() {
    let _t = start();
    assert_eq!(outer(2), 21);
    let parent = span("outer");
    let child = span("inner");
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id()
    );
}

#[test]
fn panic_is_recorded_and_keeps_unwinding() {
    let _t = start();
    let caught = std::panic::catch_unwind(|| explode("why"));
    let payload = caught.expect_err("the panic continues");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("kaboom: why")
    );
    let s = span("explode");
    assert_eq!(error_description(&s).as_deref(), Some("kaboom: why"));
    assert_eq!(attr(&s, "error.type").as_deref(), Some("panic"));
    let exception = event(&s, "exception").expect("exception event");
    assert!(exception.contains(&("exception.message".into(), "kaboom: why".into())));
}

fn stacktrace_of(name: &str) -> Option<String> {
    let s = span(name);
    event(&s, "exception")
        .expect("exception event")
        .into_iter()
        .find(|(key, _)| key == "exception.stacktrace")
        .map(|(_, value)| value)
}

#[trace_method]
fn calls_explode(reason: &str) -> u8 {
    explode(reason)
}

#[test]
fn a_panic_carries_its_stack_trace_from_the_panic_site() {
    let _t = start();
    let caught = std::panic::catch_unwind(|| calls_explode("stack"));
    assert!(caught.is_err());
    let inner = stacktrace_of("explode").expect("exception.stacktrace on the panicking call");
    assert!(inner.contains("explode"), "{inner}");
    assert!(inner.contains("calls_explode"), "callers below: {inner}");
    assert!(
        !inner.trim_start().starts_with("0: std::") && !inner.contains("panic_trace"),
        "starts at the panic site, not in the panic machinery: {inner}"
    );
    // The same panic unwinding through the caller's span carries the same trace.
    let outer = stacktrace_of("calls_explode").expect("the caller's event too");
    assert_eq!(outer, inner);
}

#[test]
fn a_stack_trace_is_bounded_by_the_capture_limit() {
    let _t = start();
    let _limits = instrument::capture::temporary_capture_config({
        let mut limits = instrument::capture::CaptureConfig::default();
        limits.max_value_bytes = 200;
        limits
    });
    assert!(std::panic::catch_unwind(|| explode("bounded")).is_err());
    let trace = stacktrace_of("explode").expect("exception.stacktrace");
    assert!(trace.len() <= 200, "{} bytes: {trace}", trace.len());
    assert!(trace.contains("truncated"), "{trace}");
}

#[test]
fn a_returned_error_carries_no_stack_trace() {
    let _t = start();
    assert!(parse_number("x1").is_err());
    let s = span("parse_number");
    let exception = event(&s, "exception").expect("exception event");
    assert!(
        exception
            .iter()
            .all(|(key, _)| key != "exception.stacktrace"),
        "{exception:?}"
    );
}

#[test]
fn secrets_are_redacted_and_skip_all_records_nothing() {
    let _t = start();
    assert!(login("ada", "hunter2", "sk-123", 5));
    let s = span("login");
    assert_eq!(attr(&s, "parameter.user").as_deref(), Some("ada"));
    assert_eq!(
        attr(&s, "parameter.password").as_deref(),
        Some("[redacted]")
    );
    assert_eq!(attr(&s, "parameter.api_key").as_deref(), Some("[redacted]"));
    assert_eq!(attr(&s, "parameter.max_tokens").as_deref(), Some("5"));
    quiet("hint", 1);
    assert!(parameter_keys(&span("quiet")).is_empty());
    unit_return(true);
    assert_eq!(
        attr(&span("unit_return"), "parameter.flag").as_deref(),
        Some("true")
    );
}

#[test]
fn methods_are_named_after_their_type() {
    let _t = start();
    let agent = Agent::create("ada");
    assert_eq!(agent.greet("bob"), "ada greets bob");
    let greet = span("Agent.greet");
    assert_eq!(attr(&greet, "parameter.who").as_deref(), Some("bob"));
    assert_eq!(
        parameter_keys(&greet),
        ["parameter.who"],
        "self is never captured"
    );
    assert_eq!(
        attr(&greet, "code.function.name").as_deref(),
        Some("trace_sync::Agent::greet")
    );
    assert_eq!(
        attr(&span("create"), "parameter.name").as_deref(),
        Some("ada")
    );
}

#[test]
fn impl_block_instruments_every_method() {
    let _t = start();
    let planner = Planner;
    assert_eq!(planner.plan("win"), 3);
    assert_eq!(planner.hide("x"), 1);
    assert_eq!(planner.special(), 7);
    assert_eq!(Planner::constant(), 1);
    assert_eq!(
        attr(&span("Planner.plan"), "parameter.goal").as_deref(),
        Some("win")
    );
    assert_eq!(
        attr(&span("Planner.plan"), "code.function.name").as_deref(),
        Some("trace_sync::Planner::plan")
    );
    assert_eq!(
        attr(&span("Planner.hide"), "parameter.draft_plan").as_deref(),
        Some("<&str (excluded)>")
    );
    span("Planner.special");
    assert_eq!(spans().len(), 3, "const fn is left alone");
}

#[test]
fn trait_impl_methods() {
    let _t = start();
    assert_eq!(Search.call("hi").unwrap(), "HI");
    assert!(Search.call("bad").is_err());
    let all = spans();
    assert_eq!(all[0].name, "Search.call");
    assert_eq!(all[0].status, Status::Ok);
    assert_eq!(
        error_description(&all[1]).as_deref(),
        Some("tool failed: bad")
    );
    assert_eq!(
        attr(&all[1], "error.type").as_deref(),
        Some("trace_sync::ToolError")
    );
}

#[trace_method]
fn annotated(order: u32) -> Option<String> {
    instrument::set_span_attributes([("order.items", "3"), ("", "dropped: empty key")]);
    instrument::log_event("cache.miss", [("cache.key", format!("order:{order}"))]);
    instrument::get_trace_id()
}

#[test]
fn helpers_work_on_the_current_span() {
    let _t = start();
    assert_eq!(instrument::get_trace_id(), None, "no span outside");
    let trace_id = annotated(9).expect("a trace id inside the span");
    let s = span("annotated");
    assert_eq!(trace_id.len(), 32);
    assert!(
        trace_id
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(trace_id, format!("{:032x}", s.span_context.trace_id()));
    assert_eq!(attr(&s, "order.items").as_deref(), Some("3"));
    assert!(s.attributes.iter().all(|kv| !kv.key.as_str().is_empty()));
    assert_eq!(
        event(&s, "cache.miss").unwrap(),
        vec![("cache.key".to_owned(), "order:9".to_owned())]
    );
}
