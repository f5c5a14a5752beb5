//! One-line OpenTelemetry instrumentation for Rust.
//!
//! Put [`trace_method`] on a function or an `impl` block and call [`init`] in `main`: every call
//! becomes a span with its parameters recorded (bounded in bytes, large or secret values
//! excluded or redacted), exported over OTLP or printed as a span tree when no collector is set.
//!
//! ```no_run
//! use instrument::trace_method;
//!
//! #[trace_method]
//! fn checkout(order_id: &str, items: u32) -> Result<u32, String> {
//!     if items == 0 {
//!         return Err(format!("order {order_id} is empty"));
//!     }
//!     Ok(items * 100)
//! }
//!
//! let _telemetry = instrument::init();
//! let _ = checkout("o-1", 3);
//! ```
//!
//! This crate re-exports the macros of `instrument-macros` and the runtime of
//! `instrument-runtime`; see their items below.

pub use instrument_macros::*;
pub use instrument_runtime::*;
