//! RabbitMQ: the connection, the topology (declared in one place) and the confirmed publisher.

mod publisher;
pub mod topology;

pub use publisher::{PUBLISHED_MS, PublishError, Publisher, job_properties};

use std::time::Duration;

use anyhow::Context as _;
use lapin::{Connection, ConnectionProperties};

use crate::config::redact_url;

/// Connects with lapin's automatic recovery: after a broker restart, the connection, its channels
/// and their consumers come back without restarting the process.
pub async fn connect(url: &str, connection_name: &str) -> anyhow::Result<Connection> {
    let target = redact_url(url);
    // lapin's recovery would keep retrying a refused connection; probe the port first so that a
    // broker that is down is reported at once, by name.
    let parsed = url::Url::parse(url).with_context(|| format!("AMQP_URL is not a valid URL: {target}"))?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = parsed.port().unwrap_or(if parsed.scheme() == "amqps" { 5671 } else { 5672 });
    tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| anyhow::anyhow!("cannot reach RabbitMQ at {target} (AMQP_URL): no answer within 3 s"))?
        .with_context(|| format!("cannot reach RabbitMQ at {target} (AMQP_URL)"))?;
    let properties = ConnectionProperties::default().enable_auto_recover().with_connection_name(connection_name.into());
    tokio::time::timeout(Duration::from_secs(5), Connection::connect(url, properties))
        .await
        .map_err(|_| anyhow::anyhow!("cannot reach RabbitMQ at {target} (AMQP_URL): no answer within 5 s"))?
        .with_context(|| format!("cannot reach RabbitMQ at {target} (AMQP_URL)"))
}
