//! Integration tests and examples of `instrument` that need sqlx, diesel, axum, tonic or an OTLP
//! receiver. They live in this `publish = false` crate so that the facade's own builds (the
//! quickstart, its light tests) do not compile those dependencies. The crate's documentation is
//! the workspace README, so that every code block in it compiles as a doctest against the
//! facade.
#![doc = include_str!("../../README.md")]
