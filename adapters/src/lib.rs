//! Adapters shared by the api and the worker: configuration from the environment, PostgreSQL
//! repositories, the Redis session store and job-result board, and the RabbitMQ topology and
//! publisher. Each adapter hides its client library behind a small, typed surface, and each
//! connection is made with a bounded wait and an error that names the service and the variable to
//! fix.

pub mod amqp;
pub mod config;
pub mod metrics;
pub mod names;
pub mod postgres;
pub mod redis;
pub mod relay;
pub mod trace_context;

pub use config::Config;
pub use names::Namespace;

/// The connections one process shares between its api and its worker.
#[derive(Clone)]
pub struct Services {
    pub pool: sqlx::PgPool,
    pub redis: ::redis::aio::ConnectionManager,
    pub amqp: amqp::Broker,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

use std::future::Future;
use std::time::Duration;

/// Runs `future` for at most `limit`, turning a timeout into an error that names `what`.
pub async fn within<T, E>(limit: Duration, what: &str, future: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(limit, future).await {
        Ok(result) => Ok(result?),
        Err(_) => anyhow::bail!("{what} did not answer within {} ms", limit.as_millis()),
    }
}
