//! The agent-service shape, composed as a new user writes it from the README: an axum server
//! with `HttpLayer`, one traced-and-monitored sqlx pool held in axum state, `#[trace_method]`,
//! `#[metric]` and a `#[derive(Metrics)]` set, context attributes from request headers. Checks
//! what is exported: every span of the request carries its context attributes, the derived and
//! `#[metric]` instruments record them, and the pool counts one checkout and one checkin per
//! statement that needed a connection.

// The test holds the suite's serial lock for its whole run, across awaits, on purpose: the
// exporters are shared by the test binary.
#![allow(clippy::await_holding_lock)]

#[path = "support/pools.rs"]
mod pools;
#[path = "../../support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instrument::db::sqlx::{InstrumentedPool, PoolOptionsExt};
use instrument::http::{HttpError, HttpLayer};
use instrument::metrics::Histogram;
use instrument::{Metrics, metric, trace_method};
use opentelemetry::trace::SpanKind;
use sqlx::Sqlite;
use sqlx::sqlite::SqlitePoolOptions;
use support::{attr, metrics, points, pool_events, spans, start};

/// Messages each step reads one by one (the N+1 of the original service).
const MESSAGES: i64 = 4;
/// Requests the test sends.
const REQUESTS: usize = 3;

#[derive(Metrics)]
#[metrics(scope = "composed")]
struct AgentMetrics {
    /// Time to first token.
    #[metric(name = "hist_ttft_ms", unit = "ms")]
    ttft_ms: Histogram<f64>,
}

#[derive(Metrics)]
#[metrics(scope = "composed", context = false)]
struct ProcessMetrics {
    /// Recorded without the context attributes.
    #[metric(name = "hist_process_ms", unit = "ms")]
    process_ms: Histogram<f64>,
}

#[derive(Clone)]
struct AppState {
    pool: InstrumentedPool<Sqlite>,
}

struct AgentManager;

#[trace_method]
impl AgentManager {
    async fn step(
        &self,
        pool: &InstrumentedPool<Sqlite>,
        agent_id: &str,
    ) -> Result<i64, sqlx::Error> {
        let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM messages WHERE agent_id = ?")
            .bind(agent_id)
            .fetch_all(pool)
            .await?;
        let mut total = 0;
        for (id,) in &ids {
            let (length,): (i64,) =
                sqlx::query_as("SELECT length(body) FROM messages WHERE id = ?")
                    .bind(id)
                    .fetch_one(pool)
                    .await?;
            total += length;
        }
        let mut conn = pool.acquire().await?;
        sqlx::query("SELECT 1").execute(&mut conn).await?;
        sqlx::query("SELECT 2").fetch_optional(&mut conn).await?;
        drop(conn);
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO steps (agent_id, total) VALUES (?, ?)")
            .bind(agent_id)
            .bind(total)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        AgentMetrics::global().ttft_ms.record(12.5, &[]);
        ProcessMetrics::global().process_ms.record(1.0, &[]);
        timed_llm_call().await;
        Ok(total)
    }
}

#[metric(histogram = "hist_llm_call_ms")]
async fn timed_llm_call() {
    tokio::task::yield_now().await;
}

async fn send_message(
    State(state): State<AppState>,
    Path(agent_id): Path<String>,
) -> Result<String, HttpError> {
    let total = AgentManager
        .step(&state.pool, &agent_id)
        .await
        .map_err(|e| HttpError::internal(e.to_string()))?;
    Ok(total.to_string())
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

async fn post_message(address: SocketAddr, agent_id: &str, organization: &str) -> (u16, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{address}/v1/agents/{agent_id}/messages"))
        .header("x-organization-id", organization)
        .header("x-agent-id", agent_id)
        .body(Full::new(Bytes::from("{}")))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn the_agent_service_composes() {
    support::run_multi_thread(async move {
        let _guard = start();
        let file =
            std::env::temp_dir().join(format!("instrument-composed-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&file);
        let pool = SqlitePoolOptions::new()
            .max_connections(3)
            .instrumented("agents")
            .connect(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE messages (id INTEGER PRIMARY KEY, agent_id TEXT, body TEXT)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE steps (agent_id TEXT, total INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        for i in 0..MESSAGES {
            sqlx::query("INSERT INTO messages (agent_id, body) VALUES ('a1', ?)")
                .bind(format!("message {i}"))
                .execute(&pool)
                .await
                .unwrap();
        }
        let app = Router::new()
            .route("/v1/agents/{agent_id}/messages", post(send_message))
            .with_state(AppState { pool: pool.clone() })
            .layer(HttpLayer::new());
        let address = serve(app).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = spans();
        let _ = metrics();

        for _ in 0..REQUESTS {
            let (status, body) = post_message(address, "a1", "org-1").await;
            assert_eq!((status, body.as_str()), (200, "36"));
        }
        // sqlx returns connections (and runs its release hook) in the background.
        pools::settle(&pool).await;

        let exported = spans();
        let request_traces: Vec<_> = exported
            .iter()
            .filter(|s| s.span_kind == SpanKind::Server)
            .map(|s| s.span_context.trace_id())
            .collect();
        assert_eq!(request_traces.len(), REQUESTS);
        let in_requests: Vec<_> = exported
            .iter()
            .filter(|s| request_traces.contains(&s.span_context.trace_id()))
            .collect();
        for span in &in_requests {
            assert_eq!(
                attr(span, "organization.id").as_deref(),
                Some("org-1"),
                "span {} lacks the request's context",
                span.name
            );
            assert_eq!(
                attr(span, "agent.id").as_deref(),
                Some("a1"),
                "span {}",
                span.name
            );
        }
        let statements: Vec<_> = in_requests
            .iter()
            .filter(|s| attr(s, "db.system.name").is_some() && s.name != "transaction")
            .collect();
        // Per request: the list, one read per message, two statements on an acquired connection,
        // one insert in a transaction.
        let per_request = 1 + MESSAGES as usize + 2 + 1;
        assert_eq!(statements.len(), REQUESTS * per_request);
        for statement in &statements {
            let affected = attr(statement, "instrument.db.response.affected_rows");
            if statement.name.starts_with("INSERT") {
                assert_eq!(affected.as_deref(), Some("1"));
            } else {
                assert_eq!(
                    affected, None,
                    "a {} reports no affected rows",
                    statement.name
                );
            }
        }
        let parents: Vec<_> = in_requests
            .iter()
            .filter(|s| s.name == "AgentManager.step" || s.name == "transaction")
            .map(|s| s.span_context.span_id())
            .collect();
        assert!(
            statements
                .iter()
                .all(|s| parents.contains(&s.parent_span_id)),
            "statements are children of the step or of its transaction"
        );

        let recorded = metrics();
        for name in [
            "hist_ttft_ms",
            "hist_llm_call_ms",
            "db.client.operation.duration",
        ] {
            let points = points(&recorded, name);
            assert!(!points.is_empty(), "{name} recorded");
            assert!(
                points
                    .iter()
                    .all(|p| p.attr("organization.id") == Some("org-1")),
                "{name} carries the context: {points:?}"
            );
        }
        let process = points(&recorded, "hist_process_ms");
        assert_eq!(process.len(), 1);
        assert_eq!(
            process[0].attr("organization.id"),
            None,
            "context = false opts out"
        );

        // One checkout and one checkin per connection use: each statement through `&pool`, each
        // `acquire()` and each `begin()`.
        let uses = REQUESTS * (1 + MESSAGES as usize + 1 + 1);
        assert_eq!(pool_events(&recorded, "agents", "checkout"), uses as f64);
        assert_eq!(pool_events(&recorded, "agents", "checkin"), uses as f64);
        assert_eq!(pool_events(&recorded, "agents", "reset"), uses as f64);
        assert_eq!(pool.monitor().unwrap().checked_out(), 0);
        pool.close().await;
        let _ = std::fs::remove_file(&file);
    })
}
