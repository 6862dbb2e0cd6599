//! Bella's HTTP service: Twilio's webhooks, the admin API and health checks.
//!
//! [`Application::build`] binds the listener (port 0 in tests) and wires the shared state;
//! [`Application::run`] serves until the shutdown future completes, then finishes in-flight
//! requests. Everything a turn does lives in [`turn`]; the routes are thin.

pub mod businesses;
pub mod console;
pub mod error;
mod holding;
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
use adapters::redis::{Holds, ResultBoard, ResultListener, SessionStore};
use adapters::{Config, Services};
use anyhow::Context as _;
use axum::Router;
use axum::middleware;
use axum::routing::post;
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
    /// Times held for callers about to book them.
    pub holds: Holds,
    pub results: ResultListener,
    pub publisher: Publisher,
    pub businesses: Arc<BusinessDirectory>,
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
        let holds = Holds::new(services.redis.clone(), names.clone());
        let board = ResultBoard::new(services.redis.clone(), names.clone());
        let results = ResultListener::start(&config.redis_url, board).await?;
        let pending = adapters::redis::Pending::new(services.redis.clone(), names.clone());
        let publisher = Publisher::new(&services.amqp, names)
            .await
            .context("opening the publishing channel")?
            .with_pending(pending);
        let businesses = Arc::new(BusinessDirectory::load(services.pool.clone(), config.business_cache).await?);
        let listener = TcpListener::bind(("0.0.0.0", config.port))
            .await
            .with_context(|| format!("cannot listen on port {} (PORT)", config.port))?;
        let state = AppState(Arc::new(App {
            config,
            pool: services.pool.clone(),
            sessions,
            holds,
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
        let following = tokio_util::sync::CancellationToken::new();
        let follower = tokio::spawn(self.state.businesses.clone().follow(following.clone()));
        let served = server::serve(self.listener, self.router, limits, shutdown).await.context("serving HTTP");
        following.cancel();
        let _ = follower.await;
        served
    }
}

fn router(state: AppState) -> Router {
    let twilio = Router::new()
        .route("/twilio/voice", post(routes::voice::incoming))
        .route("/twilio/voice/turn", post(routes::voice::turn))
        .route("/twilio/voice/result", post(routes::voice::job_result))
        // The same, under the name releases before December 2026 put in their redirects: a call
        // in progress across a deploy keeps working.
        .route("/twilio/voice/booking", post(routes::voice::job_result))
        .route("/twilio/status", post(routes::voice::status))
        .route("/twilio/sms-status", post(routes::voice::sms_status))
        .route("/twilio/sms", post(routes::voice::sms_incoming))
        .route_layer(middleware::from_fn_with_state(state.clone(), twilio::verify))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT));
    let admin = routes::admin::router(state.clone())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, ADMIN_TIMEOUT));
    let console = console::router(state.clone())
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, ADMIN_TIMEOUT));
    Router::new()
        .merge(twilio)
        .merge(admin)
        .merge(console)
        .merge(
            routes::health::router(routes::health::Probes::new(&state.services, &state.config))
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT)),
        )
        .layer(TraceLayer::new_for_http())
        // After the trace layer: the feed's token is in its query string.
        .merge(
            routes::calendar::router()
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, ADMIN_TIMEOUT)),
        )
        .with_state(state)
}
