//! Bella's HTTP service: Twilio's webhooks, the admin API and health checks.
//!
//! [`Application::build`] binds the listener (port 0 in tests) and wires the shared state;
//! [`Application::run`] serves until the shutdown future completes, then finishes in-flight
//! requests. Everything a turn does lives in [`turn`]; the routes are thin.

pub mod businesses;
pub mod console;
pub mod error;
pub mod openapi;
pub mod routes;
pub mod server;
pub mod throttle;
pub mod turn;
pub mod twilio;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use adapters::amqp::Publisher;
use adapters::redis::{ResultBoard, ResultListener, SessionStore};
use adapters::{Config, Services};
use anyhow::Context as _;
use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::businesses::BusinessDirectory;

/// Everything a request handler can reach.
pub struct App {
    pub config: Config,
    pub pool: PgPool,
    pub sessions: SessionStore,
    pub results: ResultListener,
    pub publisher: Publisher,
    pub businesses: BusinessDirectory,
    pub services: Services,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Shared, cheaply cloned handle to [`App`].
#[derive(Debug, Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// No request may take longer than this; Twilio gives up at 15 seconds.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Operators' requests may wait longer: a drain waits for jobs in flight, a bulk retry is paced.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config, services: &Services) -> anyhow::Result<Self> {
        let names = config.namespace.clone();
        let sessions = SessionStore::new(services.redis.clone(), names.clone(), SessionStore::DEFAULT_TTL);
        let board = ResultBoard::new(services.redis.clone(), names.clone());
        let results = ResultListener::start(&config.redis_url, board).await?;
        let pending = adapters::redis::Pending::new(services.redis.clone(), names.clone());
        let publisher = Publisher::new(&services.amqp, names)
            .await
            .context("opening the publishing channel")?
            .with_pending(pending);
        let businesses = BusinessDirectory::load(services.pool.clone(), config.business_cache).await?;
        let listener = TcpListener::bind(("0.0.0.0", config.port))
            .await
            .with_context(|| format!("cannot listen on port {} (PORT)", config.port))?;
        let state = AppState(Arc::new(App {
            config,
            pool: services.pool.clone(),
            sessions,
            results,
            publisher,
            businesses,
            services: services.clone(),
        }));
        Ok(Self { listener, router: router(state.clone()), state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(port = self.port(), "api listening");
        let limits = server::Limits::from_config(&self.state.config);
        server::serve(self.listener, self.router, limits, shutdown).await.context("serving HTTP")
    }
}

fn router(state: AppState) -> Router {
    let twilio = Router::new()
        .route("/twilio/voice", post(routes::voice::incoming))
        .route("/twilio/voice/turn", post(routes::voice::turn))
        .route("/twilio/voice/booking", post(routes::voice::booking))
        .route("/twilio/status", post(routes::voice::status))
        .route("/twilio/sms-status", post(routes::voice::sms_status))
        .route("/twilio/sms", post(routes::voice::sms_incoming))
        .route_layer(middleware::from_fn_with_state(state.clone(), twilio::verify))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT));
    use routes::ops;
    let admin = Router::new()
        .route("/admin/api/whoami", get(ops::whoami))
        .route("/admin/api/appointments", get(routes::admin::appointments))
        .route("/admin/api/appointments/{id}", get(ops::appointment))
        .route("/admin/api/appointments/{id}/cancel", post(ops::cancel_appointment))
        .route("/admin/api/calls/{call_sid}/timeline", get(ops::timeline))
        .route("/admin/api/queues", get(ops::queues))
        .route("/admin/api/queues/pause", post(ops::pause))
        .route("/admin/api/queues/resume", post(ops::resume))
        .route("/admin/api/queues/drain", post(ops::drain))
        .route("/admin/api/dead-letters", get(ops::dead_letters))
        .route("/admin/api/dead-letters/retry", post(ops::retry_dead_letters))
        .route("/admin/api/dead-letters/discard", post(ops::discard_dead_letters))
        .route("/admin/api/dead-letters/purge", post(ops::purge_dead_letters))
        .route("/admin/api/dead-letters/{id}", get(ops::dead_letter))
        .route("/admin/api/workflows", get(ops::workflows))
        .route("/admin/api/workflows/{id}", get(ops::workflow))
        .route("/admin/api/workflows/{id}/resume", post(ops::resume_workflow))
        .route("/admin/api/workflows/{id}/cancel", post(ops::cancel_workflow))
        .route("/admin/api/audit", get(ops::audit))
        .route("/admin/api/tokens", get(ops::tokens).post(ops::create_token))
        .route("/admin/api/tokens/{id}/revoke", post(ops::revoke_token))
        .route("/admin/api/openapi.json", get(openapi::document))
        .route("/admin/api/businesses", get(ops::businesses).post(ops::create_business))
        .route("/admin/api/businesses/{id}", get(ops::business).patch(ops::edit_business))
        .route_layer(middleware::from_fn_with_state(state.clone(), routes::admin::require_token))
        .layer(middleware::from_fn(routes::admin::refuse_nul))
        .layer(middleware::from_fn(routes::admin::json_errors))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, ADMIN_TIMEOUT));
    let console = console::router(state.clone())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, ADMIN_TIMEOUT));
    Router::new()
        .merge(twilio)
        .merge(admin)
        .merge(console)
        .merge(
            routes::health::router(routes::health::Ops::new(&state.services, &state.config))
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT)),
        )
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
