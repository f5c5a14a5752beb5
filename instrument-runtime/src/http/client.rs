//! The client layer: one CLIENT span per outgoing request, and `traceparent` injected so the
//! server continues the trace.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http::{HeaderMap, Request, Response, Uri};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, ContextGuard, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, SERVER_ADDRESS, SERVER_PORT,
    URL_FULL,
};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::propagation;
use crate::capture::redact_text;
use crate::span;
use crate::state;

/// A `tower::Layer` for HTTP clients (hyper-util's client, or any tower HTTP service): a
/// CLIENT span per request and W3C trace context injected into its headers.
///
/// ```no_run
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use tower_layer::Layer;
///
/// let client = Client::builder(TokioExecutor::new()).build_http::<String>();
/// let traced = instrument::http::HttpClientLayer.layer(client);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpClientLayer;

impl<S> Layer<S> for HttpClientLayer {
    type Service = HttpClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpClientService { inner }
    }
}

/// The service [`HttpClientLayer`] wraps around a client.
#[derive(Clone, Debug)]
pub struct HttpClientService<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpClientService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ClientFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let method = request.method().clone();
        let uri = request.uri().clone();
        let span = OutboundSpan::start(method.as_str(), &uri, request.headers_mut());
        let inner = {
            let _current = span.attach();
            self.inner.call(request)
        };
        ClientFuture {
            inner,
            span: Some(span),
        }
    }
}

/// The CLIENT span of one outbound request, shared by the tower layer and the reqwest
/// middleware. Starting it injects its context into the request's headers; dropped before an
/// answer, it records `cancelled`.
#[derive(Debug)]
pub(crate) struct OutboundSpan {
    cx: Option<Context>,
}

impl OutboundSpan {
    /// Starts the span of a `method` request to `uri` under the current context and writes its
    /// context (or the current one, when nothing records) into `headers`.
    pub(crate) fn start(method: &str, uri: &Uri, headers: &mut HeaderMap) -> Self {
        let parent = span::current_context();
        let cx = state::enabled()
            .then(|| {
                span::start_child(
                    &parent,
                    method.to_owned(),
                    SpanKind::Client,
                    client_attributes(method, uri),
                )
            })
            .flatten();
        propagation::inject_context(cx.as_ref().unwrap_or(&parent), headers);
        Self { cx }
    }

    /// Makes the span the current OpenTelemetry context's until the guard drops (the inner
    /// client runs under it, as under any OpenTelemetry span); `None` when nothing records.
    pub(crate) fn attach(&self) -> Option<ContextGuard> {
        self.cx.clone().map(Context::attach)
    }

    /// The context holding the span, for a future to run under (`None` when nothing records).
    #[cfg(feature = "reqwest")]
    pub(crate) fn context(&self) -> Option<Context> {
        self.cx.clone()
    }

    /// Ends the span with the response's status (4xx and 5xx are errors).
    pub(crate) fn answered(mut self, status: u16) {
        if let Some(cx) = self.cx.take() {
            let span = cx.span();
            span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
            if status >= 400 {
                span.set_attribute(KeyValue::new(ERROR_TYPE, status.to_string()));
                span.set_status(Status::error(format!("HTTP {status}")));
            }
            span.end();
        }
    }

    /// Ends the span with a transport error of type `error_type`.
    pub(crate) fn failed(mut self, error_type: &str, message: String) {
        if let Some(cx) = self.cx.take() {
            let span = cx.span();
            span.set_attribute(KeyValue::new(ERROR_TYPE, error_type.to_owned()));
            span.set_status(Status::error(message));
            span.end();
        }
    }
}

impl Drop for OutboundSpan {
    fn drop(&mut self) {
        if let Some(cx) = self.cx.take() {
            let span = cx.span();
            span.add_event(crate::span::CANCELLED_EVENT, Vec::new());
            span.set_status(Status::error("cancelled"));
            span.end();
        }
    }
}

/// `http.request.method`, `server.address`, `server.port` and `url.full` (without credentials).
fn client_attributes(method: &str, uri: &Uri) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new(HTTP_REQUEST_METHOD, method.to_owned())];
    if let Some(host) = uri.host() {
        attributes.push(KeyValue::new(SERVER_ADDRESS, host.to_owned()));
    }
    let default_port = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    attributes.push(KeyValue::new(
        SERVER_PORT,
        i64::from(uri.port_u16().unwrap_or(default_port)),
    ));
    attributes.push(KeyValue::new(URL_FULL, url_without_credentials(uri)));
    attributes
}

/// The URL with any `user:password@` removed.
fn url_without_credentials(uri: &Uri) -> String {
    let Some(host) = uri.host() else {
        return uri.to_string();
    };
    let scheme = uri.scheme_str().unwrap_or("http");
    let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
    format!("{scheme}://{host}{port}{}", redact_text(path))
}

pin_project! {
    /// The response future of [`HttpClientService`]; ends the CLIENT span with the response.
    pub struct ClientFuture<F> {
        #[pin]
        inner: F,
        span: Option<OutboundSpan>,
    }
}

impl<F, B, E> Future for ClientFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Display,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let current = this.span.as_ref().and_then(OutboundSpan::attach);
        let polled = this.inner.poll(cx);
        drop(current);
        let result = match polled {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        if let Some(span) = this.span.take() {
            match &result {
                Ok(response) => span.answered(response.status().as_u16()),
                Err(error) => span.failed(std::any::type_name::<E>(), error.to_string()),
            }
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_url_full() {
        let uri: Uri = "https://user:secret@api.example.com:8443/v1/agents?limit=2"
            .parse()
            .unwrap();
        assert_eq!(
            url_without_credentials(&uri),
            "https://api.example.com:8443/v1/agents?limit=2"
        );
        let attributes = client_attributes("GET", &uri);
        assert!(attributes.contains(&KeyValue::new(SERVER_ADDRESS, "api.example.com")));
        assert!(attributes.contains(&KeyValue::new(SERVER_PORT, 8443)));
        let plain: Uri = "http://localhost/x".parse().unwrap();
        assert!(client_attributes("GET", &plain).contains(&KeyValue::new(SERVER_PORT, 80)));
    }
}
