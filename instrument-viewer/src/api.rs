//! The web UI's server: the one page (HTML, CSS and JS embedded in the binary) and the JSON API it
//! reads. The page polls `/api/stats` and refreshes what it shows when the generation changes.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::store::{LogFilter, Stats, Store, TraceFilter};

const PAGE: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/viewer.js");
const STYLE: &str = include_str!("../assets/viewer.css");

/// What the page asks first: the counts and bounds, and the services for the filter.
#[derive(Serialize)]
struct Overview {
    stats: Stats,
    services: Vec<String>,
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
            ),
        ],
        PAGE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

async fn stats(State(store): State<Arc<Store>>) -> Json<Overview> {
    Json(Overview {
        stats: store.stats(),
        services: store.services(),
    })
}

async fn traces(
    State(store): State<Arc<Store>>,
    Query(filter): Query<TraceFilter>,
) -> impl IntoResponse {
    Json(store.traces(&filter))
}

async fn trace(State(store): State<Arc<Store>>, Path(id): Path<String>) -> Response {
    match store.trace(&id.to_ascii_lowercase()) {
        Some(detail) => Json(detail).into_response(),
        None => (StatusCode::NOT_FOUND, "no such trace is held").into_response(),
    }
}

async fn logs(
    State(store): State<Arc<Store>>,
    Query(filter): Query<LogFilter>,
) -> impl IntoResponse {
    Json(store.logs(&filter))
}

async fn metrics(State(store): State<Arc<Store>>) -> impl IntoResponse {
    Json(store.metrics())
}

/// The page and its API.
pub fn ui_routes(store: Arc<Store>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/viewer.js", get(script))
        .route("/viewer.css", get(style))
        .route("/api/stats", get(stats))
        .route("/api/traces", get(traces))
        .route("/api/traces/{id}", get(trace))
        .route("/api/logs", get(logs))
        .route("/api/metrics", get(metrics))
        .with_state(store)
}
