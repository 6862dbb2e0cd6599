//! Starting Bella: connect to PostgreSQL, Redis and RabbitMQ (each named in the error when it
//! cannot be reached), create the database if missing, apply migrations, declare the RabbitMQ
//! topology, seed the default business, then run the api and/or the worker until shutdown.

use std::sync::Arc;

use adapters::postgres::{self, businesses};
use adapters::{Config, Services};
use anyhow::Context as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use worker::failpoints::Failpoints;
use worker::jobs::send_sms::Sending;
use worker::llm::LanguageModel;
use worker::sms::{SmsGateway, TwilioSms};
use worker::{Worker, WorkerOptions};
use workflows::E164;

/// Which parts run in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub api: bool,
    pub worker: bool,
}

impl Roles {
    pub const ALL: Roles = Roles { api: true, worker: true };
    pub const API: Roles = Roles { api: true, worker: false };
    pub const WORKER: Roles = Roles { api: false, worker: true };
}

/// Connects to the three services. Fails with a one-line error naming the service that cannot
/// be reached and the variable that points at it.
pub async fn connect(config: &Config) -> anyhow::Result<Services> {
    let pool = postgres::connect(&config.database_url, config.database_pool_size).await?;
    let redis = adapters::redis::connect(&config.redis_url).await?;
    let amqp = adapters::amqp::connect(&config.amqp_url, &format!("bella-{}", std::process::id())).await?;
    Ok(Services { pool, redis, amqp })
}

/// Migrations, topology and the default business; all idempotent.
pub async fn prepare(config: &Config, services: &Services) -> anyhow::Result<()> {
    postgres::migrate(&services.pool).await?;
    let channel = services.amqp.create_channel().await.context("opening a RabbitMQ channel")?;
    adapters::amqp::topology::declare(&channel, &config.namespace).await.context("declaring the RabbitMQ topology")?;
    channel.close(200, "OK".into()).await.ok();
    businesses::seed_default(&services.pool).await?;
    Ok(())
}

/// A running Bella: the port it answers HTTP on (the api's, or a worker's metrics port), and what
/// is needed to stop it.
#[derive(Debug)]
pub struct Running {
    pub port: Option<u16>,
    pub services: Services,
    shutdown: CancellationToken,
    api: Option<JoinHandle<anyhow::Result<()>>>,
    worker: Option<JoinHandle<anyhow::Result<()>>>,
    relay: Option<JoinHandle<()>>,
}

/// Connects, prepares and starts the requested roles in the background.
pub async fn start(config: Config, roles: Roles) -> anyhow::Result<Running> {
    let services = connect(&config).await?;
    prepare(&config, &services).await?;
    // The metrics recorder, once per process.
    adapters::metrics::handle();
    let shutdown = CancellationToken::new();
    // The outbox relay runs in every process: several relays share the work safely.
    let relay_publisher = adapters::amqp::Publisher::new(&services.amqp, config.namespace.clone())
        .await
        .context("opening the outbox relay's channel")?
        .with_pending(adapters::redis::Pending::new(services.redis.clone(), config.namespace.clone()));
    let relay = tokio::spawn(adapters::relay::run(services.pool.clone(), relay_publisher, shutdown.clone()));
    let failpoints = match &config.failpoints {
        Some(spec) => {
            tracing::warn!("BELLA_FAILPOINTS is set: deliberate failures are enabled (tests only)");
            Failpoints::parse(spec).map_err(|e| anyhow::anyhow!("BELLA_FAILPOINTS is invalid: {e}"))?
        }
        None => Failpoints::default(),
    };
    let sending = sending(&config)?;
    let model = language_model(&config)?;
    let worker = roles.worker.then(|| {
        let options = WorkerOptions { failpoints, sending, model, ..WorkerOptions::default() };
        let worker = Worker::new(services.clone(), config.namespace.clone(), options);
        tokio::spawn(worker.run(shutdown.clone()))
    });
    let (api, port) = if roles.api {
        let app = api::Application::build(config, &services).await?;
        let port = app.port();
        (Some(tokio::spawn(app.run(shutdown.clone().cancelled_owned()))), Some(port))
    } else {
        // A process without the api still answers /healthz, /readyz and /metrics, on a port of
        // its own (METRICS_PORT), so that an api and a worker can share a host and an environment.
        let listener = tokio::net::TcpListener::bind(("0.0.0.0", config.metrics_port))
            .await
            .with_context(|| format!("cannot listen on port {} (METRICS_PORT)", config.metrics_port))?;
        let port = listener.local_addr().map(|a| a.port()).ok();
        let ops = api::routes::health::Probes::new(&services, &config);
        let limits = api::server::Limits::from_config(&config);
        let serving = api::routes::health::serve(listener, ops, limits, shutdown.clone().cancelled_owned());
        (Some(tokio::spawn(serving)), port)
    };
    Ok(Running { port, services, shutdown, api, worker, relay: Some(relay) })
}

impl Running {
    /// Runs until `signal` completes or a part stops, then stops everything gracefully.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::pin!(signal);
        let ended = tokio::select! {
            () = &mut signal => None,
            ended = first_to_end(&mut self.api, &mut self.worker) => Some(ended),
        };
        let outcome = match ended {
            None => {
                tracing::info!("shutting down: finishing in-flight requests and jobs");
                Ok(())
            }
            Some((part, result)) => {
                match part {
                    "api" => self.api = None,
                    _ => self.worker = None,
                }
                match result {
                    Ok(Ok(())) => Err(anyhow::anyhow!("the {part} stopped unexpectedly")),
                    Ok(Err(error)) => Err(error.context(format!("the {part} stopped"))),
                    Err(join) => Err(anyhow::anyhow!("the {part} crashed: {join}")),
                }
            }
        };
        let stopped = self.stop().await;
        outcome.and(stopped)
    }

    /// Stops every part and waits for in-flight work to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        for (part, handle) in [("api", self.api.take()), ("worker", self.worker.take())] {
            if let Some(handle) = handle {
                handle.await.with_context(|| format!("the {part} crashed"))??;
            }
        }
        if let Some(relay) = self.relay.take() {
            relay.await.ok();
        }
        self.services.amqp.close(200, "OK".into()).await.ok();
        self.services.pool.close().await;
        Ok(())
    }
}

type PartResult = Result<anyhow::Result<()>, tokio::task::JoinError>;

async fn first_to_end(
    api: &mut Option<JoinHandle<anyhow::Result<()>>>,
    worker: &mut Option<JoinHandle<anyhow::Result<()>>>,
) -> (&'static str, PartResult) {
    match (api.as_mut(), worker.as_mut()) {
        (Some(a), Some(w)) => tokio::select! {
            r = a => ("api", r),
            r = w => ("worker", r),
        },
        (Some(a), None) => ("api", a.await),
        (None, Some(w)) => ("worker", w.await),
        (None, None) => std::future::pending().await,
    }
}

/// The model for LLM repairs: none without `OPENAI_API_KEY` (the rules work alone).
fn language_model(config: &Config) -> anyhow::Result<Option<LanguageModel>> {
    let Some(key) = &config.openai_api_key else {
        tracing::info!("OPENAI_API_KEY is not set: misheard answers are asked again, without a language model");
        return Ok(None);
    };
    let model = LanguageModel::new(key, config.openai_base_url.as_deref(), &config.openai_model)?;
    Ok(Some(model))
}

/// Text messages go through Twilio when `TWILIO_ACCOUNT_SID` is set (with the auth token);
/// without it they are recorded as simulated.
fn sending(config: &Config) -> anyhow::Result<Sending> {
    let fallback_from = config
        .twilio_sms_from
        .as_deref()
        .map(|n| E164::parse(n).map_err(|e| anyhow::anyhow!("TWILIO_SMS_FROM is invalid: {e}")))
        .transpose()?;
    let gateway = match &config.twilio_account_sid {
        Some(account) => {
            let callback = config.public_url.as_ref().map(|base| format!("{base}/twilio/sms-status"));
            let client = TwilioSms::new(
                config.twilio_api_base.clone(),
                account.clone(),
                config.twilio_auth_token.clone(),
                callback,
            )?;
            Some(Arc::new(client) as Arc<dyn SmsGateway>)
        }
        None => {
            tracing::info!("TWILIO_ACCOUNT_SID is not set: text messages are recorded as simulated");
            None
        }
    };
    Ok(Sending { gateway, fallback_from })
}

/// `bella all|api|worker`: runs `roles` with the configuration from the environment until Ctrl-C
/// or SIGTERM, then shuts down gracefully.
pub async fn serve(roles: Roles) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let _telemetry = crate::telemetry::init(&config);
    if let adapters::config::TokenSource::Development(dir) = &config.token_source {
        tracing::warn!(
            dir = %dir.display(),
            "TWILIO_AUTH_TOKEN is not set: using a development token; `bella call` signs with it, Twilio's real webhooks will be refused"
        );
        if std::env::var_os("ADMIN_TOKEN").is_none() && roles.api {
            tracing::info!(
                console = format!("http://localhost:{}/admin", config.port),
                token_file = %adapters::config::DevTokens::admin_token_path(dir).display(),
                "the admin console: sign in with the admin token kept in token_file"
            );
        }
    }
    let running = start(config, roles).await?;
    running.run_until(shutdown_signal()).await
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
