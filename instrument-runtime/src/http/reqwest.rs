//! The `reqwest` integration (feature `reqwest`): a `reqwest-middleware` middleware making one
//! CLIENT span per request, with the request's `traceparent` carrying that span's id.

use http::Extensions;
use opentelemetry::context::FutureExt as _;
use reqwest_middleware::{Middleware, Next, Result};

use super::client::OutboundSpan;

/// Traces every request of a `reqwest_middleware::ClientWithMiddleware`, as
/// [`HttpClientLayer`](super::HttpClientLayer) does for tower clients.
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(instrument::http::TracingMiddleware)
///     .build();
/// # drop(client);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingMiddleware;

#[async_trait::async_trait]
impl Middleware for TracingMiddleware {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<reqwest::Response> {
        let method = request.method().clone();
        let uri = request.url().as_str().parse::<http::Uri>().ok();
        let span = uri
            .as_ref()
            .map(|uri| OutboundSpan::start(method.as_str(), uri, request.headers_mut()));
        let run = next.run(request, extensions);
        // The rest of the chain and the transport run with the CLIENT span current.
        let result = match span.as_ref().and_then(OutboundSpan::context) {
            Some(cx) => run.with_context(cx).await,
            None => run.await,
        };
        if let Some(span) = span {
            match &result {
                Ok(response) => span.answered(response.status().as_u16()),
                Err(error) => span.failed(error_type(error), error.to_string()),
            }
        }
        result
    }
}

/// `error.type` of a failed request: what kind of failure, not its text.
pub(crate) fn error_type(error: &reqwest_middleware::Error) -> &'static str {
    match error {
        reqwest_middleware::Error::Middleware(_) => "middleware",
        reqwest_middleware::Error::Reqwest(e) if e.is_timeout() => "timeout",
        reqwest_middleware::Error::Reqwest(e) if e.is_connect() => "connect",
        reqwest_middleware::Error::Reqwest(_) => "request",
    }
}
