//! Error responses that carry the trace id: `{"detail": "...", "trace_id": "<32 hex>"}`.

use bytes::Bytes;

/// The JSON body of an error response; `trace_id` is `""` when there is no span, as in the
/// original.
pub(crate) fn error_body(detail: &str, trace_id: Option<&str>) -> Bytes {
    let trace_id = trace_id.unwrap_or("");
    Bytes::from(serde_json::json!({ "detail": detail, "trace_id": trace_id }).to_string())
}

/// An error an axum handler can return: answered with its status and the JSON body
/// `{"detail": "...", "trace_id": "<32 hex>"}`, and recorded on the current span (an `exception`
/// event; status ERROR for 5xx). Any `std::error::Error` converts into a 500 with `?`.
///
/// ```no_run
/// use instrument::http::HttpError;
///
/// async fn handler() -> Result<String, HttpError> {
///     let n: u32 = "12".parse()?; // a parse error becomes a 500
///     if n > 10 {
///         return Err(HttpError::new(http::StatusCode::NOT_FOUND, "no such agent"));
///     }
///     Ok(n.to_string())
/// }
/// ```
#[cfg(feature = "axum")]
#[derive(Debug, Clone)]
pub struct HttpError {
    status: http::StatusCode,
    detail: String,
    error_type: &'static str,
}

#[cfg(feature = "axum")]
impl HttpError {
    /// An error answered with `status` and `detail`.
    pub fn new(status: http::StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            error_type: "HttpError",
        }
    }

    /// A 500 Internal Server Error with `detail`.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(http::StatusCode::INTERNAL_SERVER_ERROR, detail)
    }

    /// The response status.
    pub fn status(&self) -> http::StatusCode {
        self.status
    }

    /// The error text.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

#[cfg(feature = "axum")]
impl<E: std::error::Error> From<E> for HttpError {
    fn from(error: E) -> Self {
        Self {
            status: http::StatusCode::INTERNAL_SERVER_ERROR,
            detail: error.to_string(),
            error_type: std::any::type_name::<E>(),
        }
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for HttpError {
    fn into_response(self) -> axum::response::Response {
        use opentelemetry::KeyValue;
        use opentelemetry::trace::Status;

        let trace_id = crate::span::with_current_span(|span| {
            if span.is_recording() {
                span.add_event(
                    crate::span::EXCEPTION_EVENT.into(),
                    vec![
                        KeyValue::new("exception.type", self.error_type),
                        KeyValue::new("exception.message", self.detail.clone()),
                    ],
                );
                // `error.type` is left to the server layer, which sets the status code as it.
                if self.status.is_server_error() {
                    span.set_status(Status::error(self.detail.clone()));
                }
            }
            let span_context = span.span_context();
            span_context
                .is_valid()
                .then(|| format!("{:032x}", span_context.trace_id()))
        })
        .flatten();
        let body = error_body(&self.detail, trace_id.as_deref());
        let mut response = axum::response::Response::new(axum::body::Body::from(body));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::error_body;

    #[test]
    fn the_trace_id_is_empty_without_a_span() {
        assert_eq!(
            error_body("boom", None),
            r#"{"detail":"boom","trace_id":""}"#
        );
        let id = "0af7651916cd43dd8448eb211c80319c";
        assert_eq!(
            error_body("boom", Some(id)),
            format!(r#"{{"detail":"boom","trace_id":"{id}"}}"#)
        );
    }

    #[cfg(feature = "axum")]
    #[test]
    fn an_http_error_outside_any_span_answers_an_empty_trace_id() {
        use axum::response::IntoResponse as _;

        let response = super::HttpError::internal("boom").into_response();
        assert_eq!(response.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = futures_executor::block_on(axum::body::to_bytes(response.into_body(), 1024))
            .expect("body");
        assert_eq!(body, r#"{"detail":"boom","trace_id":""}"#);
    }
}
