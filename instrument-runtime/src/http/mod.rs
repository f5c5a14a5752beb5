//! HTTP instrumentation (feature `http`; route templates and [`HttpError`] with `axum`).
//!
//! - [`HttpLayer`]: one SERVER span per request named `{METHOD} {route}`, semantic-convention
//!   attributes, the parent taken from W3C `traceparent`/`tracestate`/`baggage`, configured
//!   headers copied into the request [`context`](crate::context) (so every span and metric in
//!   the handler carries them), the original's endpoint metrics for opted-in routes and the
//!   semantic-convention server metrics, timed to the end of the response body; excluded routes
//!   get nothing; a handler panic becomes a 500 with `{"detail", "trace_id"}`.
//! - [`HttpClientLayer`]: one CLIENT span per outgoing request, `traceparent` injected.
//! - [`inject`] / [`extract`]: the current context on a `HeaderMap`.

mod body;
mod client;
mod completion;
mod config;
mod error;
mod metrics;
mod propagation;
mod request_attributes;
mod request_body;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub(crate) mod reqwest;
mod routes;
mod server;

pub use body::InstrumentedBody;
pub use client::{ClientFuture, HttpClientLayer, HttpClientService};
pub use completion::{ENDPOINT_PATH_KEY, METHOD_KEY, STATUS_CODE_KEY};
pub use config::{
    DEFAULT_ENDPOINT_METRIC_ROUTES, DEFAULT_EXCLUDED_ROUTES, DEFAULT_HEADER_ATTRIBUTES,
    DEFAULT_SPAN_HEADER_ATTRIBUTES, HttpConfig, HttpConfigError,
};
#[cfg(feature = "axum")]
pub use error::HttpError;
pub use metrics::{EndpointMetrics, HttpServerMetrics};
pub use propagation::{extract, inject, inject_context};
pub use request_attributes::{ENTRY_TIMESTAMP_KEY, SEMCONV_OPT_IN_VARIABLE};
pub use request_body::{REQUEST_BODY_KEY_PREFIX, RequestBody};
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use reqwest::TracingMiddleware;
pub use server::{HttpLayer, HttpService, ResponseFuture};
