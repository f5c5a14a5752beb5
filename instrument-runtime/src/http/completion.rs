//! The end of a server request: ends its span and records its metrics once, when the response
//! body has been sent (or dropped), so a streamed response counts until its last chunk.

use std::borrow::Cow;
use std::time::Instant;

use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE, URL_SCHEME,
};

use super::metrics::{BoundServerMetrics, EndpointMetrics, HttpServerMetrics};

/// Attribute of the original endpoint metrics: the route template, or the path with each named
/// group of the endpoint pattern put back as `{name}`.
pub const ENDPOINT_PATH_KEY: &str = "endpoint_path";
/// Attribute of the original endpoint metrics: the request method.
pub const METHOD_KEY: &str = "method";
/// Attribute of the original endpoint metrics: the response status code.
pub const STATUS_CODE_KEY: &str = "status_code";

/// What is known about a request when its response is complete.
pub(crate) struct Completion {
    pub cx: Context,
    /// Whether `cx` holds a server span this request started (not a parent's span).
    pub owns_span: bool,
    pub started: Instant,
    pub method: Cow<'static, str>,
    pub scheme: &'static str,
    pub route: Option<Cow<'static, str>>,
    pub status: Option<u16>,
    /// The request scope's attributes: those of the mapped headers at the start, read again
    /// from the scope in `cx` when the response is complete (with what the handler added).
    pub scoped: Vec<KeyValue>,
    /// The `endpoint_path` of the original endpoint metrics, when the request records them: the
    /// route template, or the path an endpoint pattern normalized.
    pub endpoint_path: Option<Cow<'static, str>>,
    pub semconv_metrics: bool,
    /// The original-names mode: `http.status_code` too, and 4xx is an error as in the original.
    pub original_names: bool,
    pub finished: bool,
}

impl Completion {
    /// Records an `exception` event and status ERROR on the server span.
    pub(crate) fn record_exception(&self, error_type: &str, message: String) {
        if !self.owns_span {
            return;
        }
        let span = self.cx.span();
        span.add_event(
            crate::span::EXCEPTION_EVENT,
            vec![
                KeyValue::new("exception.type", error_type.to_owned()),
                KeyValue::new("exception.message", message.clone()),
            ],
        );
        span.set_status(Status::error(message));
    }

    /// Records a failure with no response status (the inner service or the body failed).
    pub(crate) fn record_error(&self, error_type: &str, message: String) {
        if self.owns_span {
            self.cx
                .span()
                .set_attribute(KeyValue::new(ERROR_TYPE, error_type.to_owned()));
        }
        self.record_exception(error_type, message);
    }

    /// Sets the response status on the span: ERROR and `error.type` for 5xx (4xx too in the
    /// original-names mode).
    pub(crate) fn record_status(&mut self, status: u16) {
        self.status = Some(status);
        if !self.owns_span {
            return;
        }
        let span = self.cx.span();
        span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
        if self.original_names {
            span.set_attribute(KeyValue::new("http.status_code", i64::from(status)));
        }
        let error_from = if self.original_names { 400 } else { 500 };
        if status >= error_from {
            span.set_attribute(KeyValue::new(ERROR_TYPE, status.to_string()));
            span.set_status(Status::error(format!("HTTP {status}")));
        }
    }

    /// Ends the span and records the metrics, once.
    pub(crate) fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        if let Some(scoped) = crate::context::current_attributes(&self.cx) {
            self.scoped = scoped.to_vec();
        }
        if self.owns_span {
            crate::state::run_span_end_hooks(&mut self.cx.span());
            self.cx.span().end();
        }

        let status = self.status.map(i64::from);
        let bound = crate::context::current_has_no_attributes().then(BoundServerMetrics::global);
        if let Some(route) = self.endpoint_path.as_deref() {
            let ms = elapsed.as_secs_f64() * 1_000.0;
            let status = status.unwrap_or(0);
            let attributes = || {
                let mut attributes = vec![
                    KeyValue::new(ENDPOINT_PATH_KEY, route.to_owned()),
                    KeyValue::new(METHOD_KEY, self.method.clone()),
                    KeyValue::new(STATUS_CODE_KEY, status),
                ];
                attributes.extend(self.scoped.iter().cloned());
                attributes
            };
            let endpoint_bound = bound.as_ref().is_some_and(|bound| {
                self.scoped.is_empty()
                    && bound.record_endpoint(ms, (route, &self.method, status), attributes)
            });
            if !endpoint_bound {
                let attributes = attributes();
                let metrics = EndpointMetrics::global();
                metrics.requests.add(1, &attributes);
                metrics.e2e_ms.record(ms, &attributes);
            }
        }
        if self.semconv_metrics {
            let seconds = elapsed.as_secs_f64();
            let attributes = || {
                let mut attributes = self.active_attributes();
                if let Some(route) = &self.route {
                    attributes.push(KeyValue::new(HTTP_ROUTE, route.clone()));
                }
                if let Some(status) = status {
                    attributes.push(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, status));
                    if status >= 500 {
                        attributes.push(KeyValue::new(ERROR_TYPE, status.to_string()));
                    }
                }
                attributes
            };
            let parts = (&*self.method, self.scheme, self.route.as_deref(), status);
            let active_bound = bound.as_ref().is_some_and(|bound| {
                bound.add_active(-1, &self.method, self.scheme, || self.active_attributes())
            });
            if !active_bound {
                HttpServerMetrics::global()
                    .active_requests
                    .add(-1, &self.active_attributes());
            }
            let duration_bound = bound
                .as_ref()
                .is_some_and(|bound| bound.record_duration(seconds, parts, attributes));
            if !duration_bound {
                HttpServerMetrics::global()
                    .request_duration
                    .record(seconds, &attributes());
            }
        }
    }

    /// The attributes of `http.server.active_requests`.
    pub(crate) fn active_attributes(&self) -> Vec<KeyValue> {
        vec![
            KeyValue::new(HTTP_REQUEST_METHOD, self.method.clone()),
            KeyValue::new(URL_SCHEME, self.scheme),
        ]
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        self.finish();
    }
}
