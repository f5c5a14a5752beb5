//! Integration tests and examples of `instrument` that need sqlx, diesel, axum, tonic or an OTLP
//! receiver. They live in this `publish = false` crate so that the facade's own builds (the
//! quickstart, its light tests) do not compile those dependencies. The crate's documentation is
//! the workspace README, and each page of the guide under `docs/guide/` is a module's
//! documentation, so that every code block in them compiles as a doctest against the facade.
#![doc = include_str!("../../README.md")]

#[doc = include_str!("../../docs/guide/README.md")]
pub mod guide {}

#[doc = include_str!("../../docs/guide/macros.md")]
pub mod guide_macros {}

#[doc = include_str!("../../docs/guide/context.md")]
pub mod guide_context {}

#[doc = include_str!("../../docs/guide/tracing.md")]
pub mod guide_tracing {}

#[doc = include_str!("../../docs/guide/http.md")]
pub mod guide_http {}

#[doc = include_str!("../../docs/guide/genai.md")]
pub mod guide_genai {}

#[doc = include_str!("../../docs/guide/databases.md")]
pub mod guide_databases {}

#[doc = include_str!("../../docs/guide/sea-orm.md")]
pub mod guide_sea_orm {}

#[doc = include_str!("../../docs/guide/setup.md")]
pub mod guide_setup {}

#[doc = include_str!("../../docs/guide/testing.md")]
pub mod guide_testing {}

#[doc = include_str!("../../docs/guide/viewer.md")]
pub mod guide_viewer {}

#[doc = include_str!("../../docs/guide/cost.md")]
pub mod guide_cost {}

#[doc = include_str!("../../docs/guide/migrating.md")]
pub mod guide_migrating {}

#[doc = include_str!("../../docs/guide/layout.md")]
pub mod guide_layout {}
