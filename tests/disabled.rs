//! The off path: with `OTEL_SDK_DISABLED=true` (or no telemetry installed) an instrumented call
//! records nothing and allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use instrument::{Telemetry, trace_method};
use opentelemetry_sdk::trace::InMemorySpanExporter;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Counts the allocations made on the current thread.
struct CountingAllocator;

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[derive(serde::Serialize)]
struct Payload {
    id: u32,
    text: &'static str,
}

#[trace_method]
fn work(n: u32, label: &str, payload: &Payload, messages: &[Payload]) -> Result<u32, String> {
    Ok(n + label.len() as u32 + payload.id + messages.len() as u32)
}

#[trace_method]
async fn work_async(n: u32, label: &str) -> u32 {
    n + label.len() as u32
}

fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future is ready at once"),
    }
}

#[test]
fn disabled_sdk_records_nothing_and_allocates_nothing() {
    // SAFETY: this test binary has one test, and nothing else reads the environment concurrently.
    unsafe { std::env::set_var("OTEL_SDK_DISABLED", "true") };
    let exporter = InMemorySpanExporter::default();
    let guard = Telemetry::builder()
        .with_simple_exporter(exporter.clone())
        .install()
        .expect("a disabled SDK is not an error");
    assert!(!guard.is_installed());
    assert!(!instrument::is_enabled());

    let payload = Payload { id: 1, text: "x" };
    let messages = [Payload { id: 2, text: "y" }];
    let before = allocations();
    let mut total = 0;
    for i in 0..1000 {
        total += work(i, "label", &payload, &messages).unwrap();
        total += poll_once(work_async(i, "label"));
    }
    let allocated = allocations() - before;
    assert_eq!(allocated, 0, "the off path allocated {allocated} times");
    assert!(total > 0);
    assert!(exporter.get_finished_spans().unwrap().is_empty());
    assert_eq!(instrument::get_trace_id(), None);
    drop(guard);
}
