//! Benchmarks of `instrument` (`cargo bench -p instrument-benches`): the toolkit against the raw
//! OpenTelemetry SDK, `tracing` + `tracing-opentelemetry` and `fastrace`, the HTTP layer, the
//! sqlx wrapper and the pool monitor. A `publish = false` crate, so that the peers are never
//! built for the facade.
