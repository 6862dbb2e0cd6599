//! What every Bella process serves, a worker-only one included: liveness, readiness, metrics.

use std::time::Duration;

use adapters::{Namespace, Services};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Map, Value, json};

/// The state of the operational routes: the process's connections, and the token `/metrics`
/// asks for (`METRICS_TOKEN`), if any.
#[derive(Debug, Clone)]
pub struct Probes {
    pub services: Services,
    pub names: Namespace,
    pub metrics_token: Option<secrecy::SecretString>,
}

impl Probes {
    pub fn new(services: &Services, config: &adapters::Config) -> Self {
        Self {
            services: services.clone(),
            names: config.namespace.clone(),
            metrics_token: config.metrics_token.clone(),
        }
    }
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn router<S>(ops: Probes) -> Router<S> {
    Router::new()
        .route("/healthz", get(live))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

/// `GET /healthz`: the process answers.
pub async fn live() -> &'static str {
    "ok"
}

/// Whether PostgreSQL, Redis and RabbitMQ answer, each within a second.
pub async fn readiness(services: &Services) -> Vec<(&'static str, Result<(), String>)> {
    let limit = Duration::from_secs(1);
    let postgres =
        adapters::within(limit, "PostgreSQL", sqlx::query("select 1").execute(&services.pool)).await.map(|_| ());
    let mut redis = services.redis.clone();
    let redis_ping =
        adapters::within(limit, "Redis", redis::cmd("PING").query_async::<String>(&mut redis)).await.map(|_| ());
    let rabbit =
        if services.amqp.is_connected() { Ok(()) } else { Err(anyhow::anyhow!("RabbitMQ connection is not open")) };
    vec![
        ("postgres", postgres.map_err(|e| e.to_string())),
        ("redis", redis_ping.map_err(|e| e.to_string())),
        ("rabbitmq", rabbit.map_err(|e| e.to_string())),
    ]
}

/// `GET /readyz`: PostgreSQL, Redis and RabbitMQ are reachable; 503 names those that are not.
pub async fn ready(State(ops): State<Probes>) -> (StatusCode, Json<Value>) {
    let checks = readiness(&ops.services).await;
    let all_ok = checks.iter().all(|(_, r)| r.is_ok());
    let body: Map<String, Value> = checks
        .into_iter()
        .map(|(name, result)| (name.to_owned(), result.map_or_else(|e| json!({ "error": e }), |()| json!("ok"))))
        .collect();
    let status = if all_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(Value::Object(body)))
}

/// `GET /metrics`: Prometheus text exposition (see the README's Operations section). With
/// `METRICS_TOKEN` set, only for `Authorization: Bearer` that token.
pub async fn metrics(State(ops): State<Probes>, headers: axum::http::HeaderMap) -> axum::response::Response {
    if let Some(expected) = &ops.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !adapters::config::token_matches(expected, presented.trim()) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "METRICS_TOKEN required\n")
                .into_response();
        }
    }
    let body = adapters::metrics::render(&ops.services, &ops.names).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// Serves only these routes (a process that runs no api), until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ops: Probes,
    limits: crate::server::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app: Router = router(ops);
    crate::server::serve(listener, app, limits, shutdown).await
}
