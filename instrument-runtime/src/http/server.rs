//! The server layer: one SERVER span per request, header attributes in the request context,
//! endpoint metrics, panics answered as a JSON 500 carrying the trace id.

use std::borrow::Cow;
use std::fmt::Display;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::body::InstrumentedBody;
use super::completion::Completion;
use super::config::HttpConfig;
use super::error::error_body;
use super::metrics::{BoundServerMetrics, HttpServerMetrics};
use super::propagation;
use super::request_attributes::server_span_attributes;
use super::request_body::{self, RequestBody};
use crate::metrics::bound::kept_text;
use crate::span;
use crate::span::panic_message;
use crate::{context, state};

/// A `tower::Layer` instrumenting an HTTP server (axum, hyper 1, any tower service).
///
/// With axum, add it with `Router::layer` so that the matched route template names the span.
///
/// ```no_run
/// # #[cfg(feature = "axum")] {
/// use axum::{Router, routing::get};
/// let app: Router = Router::new()
///     .route("/v1/agents/{agent_id}", get(|| async { "ok" }))
///     .layer(instrument::http::HttpLayer::new());
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct HttpLayer {
    config: Arc<HttpConfig>,
}

impl HttpLayer {
    /// A layer with the default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A layer with `config`.
    pub fn with_config(config: HttpConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl<S> Layer<S> for HttpLayer {
    type Service = HttpService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service [`HttpLayer`] wraps around a server.
#[derive(Clone, Debug)]
pub struct HttpService<S> {
    inner: S,
    config: Arc<HttpConfig>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpService<S>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
    S::Error: Display,
{
    type Response = Response<InstrumentedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (tracing, metrics) = (state::enabled(), state::metrics_enabled());
        if !(tracing || metrics)
            || self
                .config
                .is_excluded(request.method().as_str(), request.uri().path())
        {
            return ResponseFuture {
                inner: self.inner.call(request.map(RequestBody::plain)),
                completion: None,
                trace_id_header: None,
            };
        }
        let completion = self.begin(&request, tracing, metrics);
        let capture = completion.owns_span
            && request_body::is_capturable(&request)
            && self.config.captures_body(
                request.method().as_str(),
                completion.route.as_deref().unwrap_or(request.uri().path()),
            );
        let request = request_body::wrap(request, capture, &completion.cx);
        let inner = {
            let _current = completion.cx.clone().attach();
            self.inner.call(request)
        };
        ResponseFuture {
            inner,
            completion: Some(completion),
            trace_id_header: self.config.trace_id_header.clone(),
        }
    }
}

impl<S> HttpService<S> {
    /// Starts the request's span and metrics.
    fn begin<B>(&self, request: &Request<B>, tracing: bool, metrics: bool) -> Completion {
        let method = method_name(request.method());
        let template = matched_route(request);
        // With a template the endpoint only matters to the metrics; without one it may also
        // give the route.
        let endpoint = (metrics || template.is_none())
            .then(|| {
                self.config
                    .endpoint(&method, template.as_ref(), request.uri().path())
            })
            .flatten();
        // Without axum the route is the path a named-group pattern normalized, if any: a
        // template too, so the span name, `http.route` and the metrics stay low-cardinality.
        let route = template.or_else(|| {
            endpoint
                .as_ref()
                .filter(|endpoint| endpoint.is_template)
                .map(|endpoint| kept_route(&endpoint.path))
        });
        let scheme = if request.uri().scheme_str() == Some("https") {
            "https"
        } else {
            "http"
        };
        let headers = request.headers();
        let header_values =
            |pairs: &[(HeaderName, &'static str)]| header_attributes(headers, pairs);
        let scoped = header_values(&self.config.header_attributes);
        // Every request gets its own scope, mapped headers or not, so that what the handler
        // adds with `context::add_attribute` is kept (and reaches the endpoint metrics).
        let parent = context::with_scope(&propagation::extract(headers), scoped.clone());
        let started_span = tracing
            .then(|| {
                let name = span_name(&method, route.as_deref());
                let mut attributes = server_span_attributes(
                    request,
                    method.clone(),
                    scheme,
                    route.clone(),
                    self.config.original_names,
                    self.config.span_header_attributes.len(),
                );
                attributes.extend(header_values(&self.config.span_header_attributes));
                span::start_child(&parent, name, SpanKind::Server, attributes)
            })
            .flatten();
        let owns_span = started_span.is_some();
        let cx = started_span.unwrap_or(parent);
        let completion = Completion {
            cx,
            owns_span,
            started: Instant::now(),
            endpoint_path: endpoint.filter(|_| metrics).map(|endpoint| {
                match (&route, endpoint.is_template) {
                    (Some(route), true) => route.clone(),
                    _ => endpoint.path,
                }
            }),
            semconv_metrics: metrics && self.config.semconv_metrics,
            method,
            scheme,
            route,
            status: None,
            scoped,
            original_names: self.config.original_names,
            finished: false,
        };
        if completion.semconv_metrics {
            let bound = context::current_has_no_attributes()
                && BoundServerMetrics::global().add_active(
                    1,
                    &completion.method,
                    completion.scheme,
                    || completion.active_attributes(),
                );
            if !bound {
                HttpServerMetrics::global()
                    .active_requests
                    .add(1, &completion.active_attributes());
            }
        }
        completion
    }
}

/// The attributes `pairs` name for the request `headers` carries, in the order of `pairs` (the
/// first value of a repeated header). A request usually carries fewer headers than are
/// configured, so those are walked and matched against the names, rather than each configured
/// name looked up.
fn header_attributes(
    headers: &http::HeaderMap,
    pairs: &[(HeaderName, &'static str)],
) -> Vec<KeyValue> {
    if headers.len() >= pairs.len() {
        return pairs
            .iter()
            .filter_map(|(name, key)| {
                let value = headers.get(name)?.to_str().ok()?;
                Some(KeyValue::new(*key, value.to_owned()))
            })
            .collect();
    }
    let mut found: Vec<(usize, KeyValue)> = Vec::new();
    for (name, value) in headers {
        let Some(index) = pairs.iter().position(|(wanted, _)| wanted == name) else {
            continue;
        };
        if found.iter().any(|(seen, _)| *seen == index) {
            continue;
        }
        if let Ok(value) = value.to_str() {
            found.push((index, KeyValue::new(pairs[index].1, value.to_owned())));
        }
    }
    found.sort_by_key(|(index, _)| *index);
    found.into_iter().map(|(_, kv)| kv).collect()
}

/// A standard method's name without a copy; any other method's text.
fn method_name(method: &http::Method) -> Cow<'static, str> {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    match STANDARD.iter().find(|name| **name == method.as_str()) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(method.as_str().to_owned()),
    }
}

/// The route template axum matched, if any.
#[cfg(feature = "axum")]
fn matched_route<B>(request: &Request<B>) -> Option<Cow<'static, str>> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|path| kept_route(path.as_str()))
}

/// Without axum, no route template is known.
#[cfg(not(feature = "axum"))]
fn matched_route<B>(_request: &Request<B>) -> Option<Cow<'static, str>> {
    None
}

/// Route templates (axum's, or paths normalized by the endpoint patterns) kept for the life of
/// the process (at most 1,024: templates are few), so a request's route, its span's
/// `http.route` and its measurements share one text instead of copying it; past that each is
/// copied.
fn kept_route(route: &str) -> Cow<'static, str> {
    kept_text("route", route, || route.to_owned())
}

pin_project! {
        /// The response future of [`HttpService`]. A panic or an error of the inner service is
    /// answered as a 500 with the JSON body `{"detail", "trace_id"}`.

    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        completion: Option<Completion>,
        trace_id_header: Option<HeaderName>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Display,
{
    type Output = Result<Response<InstrumentedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(completion) = this.completion.as_ref() else {
            return this
                .inner
                .poll(cx)
                .map(|r| r.map(|response| response.map(|b| InstrumentedBody::inner(b, None))));
        };
        let current = completion.cx.clone().attach();
        let polled = catch_unwind(AssertUnwindSafe(|| this.inner.poll(cx)));
        drop(current);
        let mut completion = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            _ => this.completion.take().expect("checked above"),
        };
        Poll::Ready(match polled {
            Ok(Poll::Pending) => unreachable!("returned above"),
            Ok(Poll::Ready(Ok(response))) => {
                completion.record_status(response.status().as_u16());
                let (mut parts, body) = response.into_parts();
                if this.trace_id_header.is_some() {
                    add_trace_id_header(
                        &mut parts.headers,
                        this.trace_id_header.as_ref(),
                        trace_id_of(&completion.cx).as_deref(),
                    );
                }
                Ok(Response::from_parts(
                    parts,
                    InstrumentedBody::inner(body, Some(completion)),
                ))
            }
            Ok(Poll::Ready(Err(error))) => {
                completion.record_exception(std::any::type_name::<E>(), error.to_string());
                Ok(internal_error_response(
                    completion,
                    this.trace_id_header.as_ref(),
                ))
            }
            Err(payload) => {
                completion.record_exception("panic", panic_message(payload.as_ref()));
                Ok(internal_error_response(
                    completion,
                    this.trace_id_header.as_ref(),
                ))
            }
        })
    }
}

/// The 500 the layer answers for a panic or an error of the inner service.
fn internal_error_response<B>(
    mut completion: Completion,
    trace_id_header: Option<&HeaderName>,
) -> Response<InstrumentedBody<B>> {
    let trace_id = trace_id_of(&completion.cx);
    let trace_id = trace_id.as_deref();
    completion.record_status(500);
    let body = error_body("Internal Server Error", trace_id);
    let mut response = Response::new(InstrumentedBody::full(body, Some(completion)));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    add_trace_id_header(response.headers_mut(), trace_id_header, trace_id);
    response
}

/// Span names (`"{method} {route}"`) made once per method and route and kept for the life of the
/// process, so a request's span name costs a lookup rather than a formatted string; at most
/// 1,024 are kept (route templates are few), past that each is formatted.
fn span_name(method: &str, route: Option<&str>) -> Cow<'static, str> {
    match route {
        Some(route) => kept_text("route span name", (method, route), || {
            format!("{method} {route}")
        }),
        None => Cow::Owned(method.to_owned()),
    }
}

fn trace_id_of(cx: &Context) -> Option<String> {
    let span_context = cx.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| format!("{:032x}", span_context.trace_id()))
}

fn add_trace_id_header(
    headers: &mut http::HeaderMap,
    name: Option<&HeaderName>,
    trace_id: Option<&str>,
) {
    if let (Some(name), Some(Ok(value))) = (name, trace_id.map(HeaderValue::from_str)) {
        headers.insert(name.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn standard_methods_are_shared_and_others_copied() {
        assert!(matches!(
            method_name(&http::Method::GET),
            Cow::Borrowed("GET")
        ));
        assert!(matches!(
            method_name(&http::Method::PATCH),
            Cow::Borrowed("PATCH")
        ));
        let purge = http::Method::from_bytes(b"PURGE").unwrap();
        assert!(matches!(method_name(&purge), Cow::Owned(name) if name == "PURGE"));
    }

    #[test]
    fn a_route_is_kept_once() {
        let (Cow::Borrowed(first), Cow::Borrowed(again)) = (
            kept_route("/v1/agents/{agent_id}"),
            kept_route("/v1/agents/{agent_id}"),
        ) else {
            panic!("routes are kept while there is room");
        };
        assert!(std::ptr::eq(first, again));
        assert_eq!(first, "/v1/agents/{agent_id}");
    }

    #[test]
    fn header_attributes_are_the_same_whichever_way_they_are_found() {
        let pairs: Vec<(HeaderName, &'static str)> = ["x-a", "x-b", "x-c", "x-d"]
            .into_iter()
            .zip(["a", "b", "c", "d"])
            .map(|(name, key)| (HeaderName::from_static(name), key))
            .collect();
        let mut few = http::HeaderMap::new();
        few.append("x-c", HeaderValue::from_static("3"));
        few.append("x-a", HeaderValue::from_static("1"));
        few.append("x-a", HeaderValue::from_static("ignored"));
        let walked = header_attributes(&few, &pairs);
        let mut many = few.clone();
        for filler in ["h1", "h2", "h3", "h4"] {
            many.insert(
                HeaderName::from_static(filler),
                HeaderValue::from_static("x"),
            );
        }
        assert_eq!(walked, header_attributes(&many, &pairs), "looked up");
        assert_eq!(
            walked,
            vec![KeyValue::new("a", "1"), KeyValue::new("c", "3")]
        );
    }
}
