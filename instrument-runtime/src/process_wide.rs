//! What stays process-wide, and why. Everything else a pipeline records with (its providers, its
//! export counters and tail sampling, the configurations and pools of a thread's own pipeline)
//! lives in the [pipeline](crate::state) it belongs to. The architecture test checks that every
//! `static` of this crate that is state (not a constant) is listed here.
//!
//! Outside this crate, process-wide by their own design: the panic hook (one per process, by the
//! standard library), the global `tracing` subscriber (by `tracing`), and OpenTelemetry's global
//! tracer and meter providers (by `opentelemetry`), which `install()` sets and a thread's own
//! pipeline leaves alone.
//!
//! | static | why it is process-wide |
//! | --- | --- |
//! | `state/pipeline.rs: DISPATCH` | how everything finds its pipeline: the global default, the count of open scoped overrides, the numbers handed out once |
//! | `state/switches.rs: SWITCHES` | the call sites' copies of "is anything recording", read in one load on the off path; one list of call sites for every pipeline |
//! | `state/mod.rs: HOOKS` | what integrations register on the span lifecycle and on setup: code, the same for every pipeline |
//! | `state/clock.rs: CLOCK` | the calibration of the machine's cycle counter |
//! | `diagnostics.rs: DIAGNOSTICS` | the one panic hook (the standard library has one per process) and the rate of reports on stderr |
//! | `environment.rs: IGNORED` | whether the process environment is read, as the setup in force asked |
//! | `metrics/bound.rs: KEPT_TEXTS` | texts kept (leaked) for the life of the process, shared by every span naming the same route, statement or model |
//! | `capture/config.rs: CONFIG` | the process's capture configuration (the global default pipeline's; a thread's own pipeline keeps its changes apart) |
//! | `db/config.rs: CONFIG` | the process's database instrumentation configuration, likewise |
//! | `genai/config.rs: CONFIG` | the process's GenAI configuration, likewise |
//! | `capture/mod.rs: PROCESS_REDACTIONS` | redactions outside a thread's own pipeline: `redact_text` works without telemetry |
//! | `pool/gauges.rs: PROCESS_POOLS` | pools made outside a thread's own pipeline, reported by the global default (also those made before setup) |
//! | `db/repeated.rs: REPEATED` | statements counted per parent span: span ids are unique across pipelines, and the end-of-span hook is registered once |
//! | `tracing_bridge/global.rs: GLOBAL` | whether the bridge is the global `tracing` subscriber, and that subscriber's switch (error events mark their spans) |
//! | `testing.rs: INSTALLED` | the test helper's one global pipeline per test binary, whose captures run side by side by trace |
