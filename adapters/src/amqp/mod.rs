//! RabbitMQ: the connection, the topology (declared in one place) and the confirmed publisher.
//!
//! `AMQP_URL` names one broker, or the nodes of a cluster separated by commas. Bella then connects
//! to the first node that answers and, when that node goes away, lapin's recovery reconnects
//! through the same list, starting with the node after the one that failed. Behind a single
//! front address (Amazon MQ's cluster endpoint, a load balancer) one URL is enough: every
//! reconnection goes back through it to a node that is up.

mod publisher;
pub mod topology;

pub use publisher::{PUBLISHED_MS, PublishError, Publisher, job_properties};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use lapin::tcp::{AMQPUriTcpExt as _, OwnedTLSConfig};
use lapin::uri::AMQPUri;
use lapin::{Connection, ConnectionProperties};

use crate::config::redact_url;

/// How long one node may take to accept a TCP (and TLS) connection before the next is tried.
const NODE_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the first connection may take, every node included, before Bella gives up starting.
const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Heartbeats every 10 s unless the URL asks otherwise: a node that vanishes without closing its
/// sockets (a network partition, a frozen host) is noticed in seconds rather than in RabbitMQ's
/// default minute.
const HEARTBEAT_SECONDS: u16 = 10;

/// The brokers `AMQP_URL` names: one, or the nodes of one cluster in the order to try them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brokers {
    uris: Vec<AMQPUri>,
}

impl Brokers {
    /// Parses `AMQP_URL`: URLs separated by commas. After the first, an entry may be a bare
    /// `host:port`, which takes the first URL's scheme, user and virtual host.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let mut uris: Vec<AMQPUri> = Vec::new();
        for (n, part) in raw.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
            let uri = match uris.first() {
                Some(first) if !part.contains("://") => with_address(first, part),
                _ => part.parse::<AMQPUri>().map_err(|e| anyhow::anyhow!("{e}")),
            }
            .with_context(|| format!("AMQP_URL's address {} ({}) is not a valid AMQP URL", n + 1, redact_url(part)))?;
            uris.push(uri);
        }
        let first = uris.first().context("AMQP_URL is empty")?.clone();
        // The handshake after a reconnection uses the first URL's credentials and virtual host:
        // the nodes of one cluster share them, and a list that mixes them is a mistake.
        for uri in &uris[1..] {
            anyhow::ensure!(
                uri.authority.userinfo == first.authority.userinfo && uri.vhost == first.vhost,
                "AMQP_URL lists nodes with different users or virtual hosts: give every node the same"
            );
        }
        Ok(Self { uris })
    }

    /// `host:port` of every node, for messages.
    pub fn addresses(&self) -> Vec<String> {
        self.uris.iter().map(|u| format!("{}:{}", u.authority.host, u.authority.port)).collect()
    }
}

fn with_address(first: &AMQPUri, address: &str) -> anyhow::Result<AMQPUri> {
    let (host, port) = match address.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().context("the port is not a number")?),
        None => (address, first.authority.port),
    };
    anyhow::ensure!(!host.is_empty(), "the host is missing");
    let mut uri = first.clone();
    host.clone_into(&mut uri.authority.host);
    uri.authority.port = port;
    Ok(uri)
}

/// Connects with lapin's automatic recovery: after a broker restart or the loss of a cluster
/// node, the connection, its channels and their consumers come back without restarting the
/// process, on whichever node of `AMQP_URL` answers.
pub async fn connect(url: &str, connection_name: &str) -> anyhow::Result<Connection> {
    let brokers = Brokers::parse(url)?;
    let target = redact_url(url);
    // lapin's recovery would keep retrying a refused connection: probe the nodes first, so that
    // a broker that is down is reported at once, by name.
    let mut reachable = None;
    for (index, address) in brokers.addresses().iter().enumerate() {
        let probe = tokio::net::TcpStream::connect(address.as_str());
        match tokio::time::timeout(NODE_CONNECT_TIMEOUT, probe).await {
            Ok(Ok(_)) => {
                reachable = Some(index);
                break;
            }
            Ok(Err(error)) => tracing::debug!(node = %address, %error, "RabbitMQ node unreachable"),
            Err(_) => tracing::debug!(node = %address, "RabbitMQ node did not answer"),
        }
    }
    let Some(reachable) = reachable else {
        anyhow::bail!("cannot reach RabbitMQ at {target} (AMQP_URL): no node accepts connections");
    };
    let nodes = Arc::new(brokers.uris);
    // The node to try first: the last one that answered.
    let current = Arc::new(AtomicUsize::new(reachable));
    let mut first = nodes[0].clone();
    if first.query.heartbeat.is_none() {
        first.query.heartbeat = Some(HEARTBEAT_SECONDS);
    }
    let properties = ConnectionProperties::default()
        .enable_auto_recover()
        .with_connection_name(connection_name.into())
        // Reconnection attempts, each of which tries every node: 0.2 s, 0.4 s, ... up to 5 s
        // apart, for a few minutes, after which the process exits and is replaced.
        .configure_backoff(|backoff| {
            backoff.with_min_delay(Duration::from_millis(200)).with_max_delay(Duration::from_secs(5)).with_max_times(60)
        });
    let runtime = lapin::runtime::default_runtime().context("starting lapin's runtime")?;
    let tls = OwnedTLSConfig::default();
    let connecting = Connection::connector(
        first,
        runtime,
        async move |uri: AMQPUri, runtime| {
            let count = nodes.len();
            let start = current.load(Ordering::Relaxed);
            let mut last_error = None;
            for offset in 0..count {
                let index = (start + offset) % count;
                let mut candidate = uri.clone();
                candidate.authority.host.clone_from(&nodes[index].authority.host);
                candidate.authority.port = nodes[index].authority.port;
                candidate.scheme = nodes[index].scheme.clone();
                let attempt = candidate.connect_with_config_async(tls.as_ref(), &runtime);
                match tokio::time::timeout(NODE_CONNECT_TIMEOUT, attempt).await {
                    Ok(Ok(stream)) => {
                        if index != start {
                            tracing::warn!(
                                node = %format!("{}:{}", candidate.authority.host, candidate.authority.port),
                                "connected to another RabbitMQ node"
                            );
                        }
                        current.store(index, Ordering::Relaxed);
                        return Ok(stream);
                    }
                    Ok(Err(error)) => last_error = Some(error),
                    Err(_) => {
                        last_error = Some(std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 3 s"));
                    }
                }
            }
            // The next attempt starts with the node after the one that was current.
            current.store((start + 1) % count, Ordering::Relaxed);
            Err(last_error.unwrap_or_else(|| std::io::Error::other("no RabbitMQ node")).into())
        },
        properties,
    );
    tokio::time::timeout(FIRST_CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| anyhow::anyhow!("cannot reach RabbitMQ at {target} (AMQP_URL): no answer within 10 s"))?
        .with_context(|| format!("cannot reach RabbitMQ at {target} (AMQP_URL)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_or_a_cluster() {
        let one = Brokers::parse("amqp://guest:guest@127.0.0.1:5672/%2f").unwrap();
        assert_eq!(one.addresses(), ["127.0.0.1:5672"]);
        let three = Brokers::parse(
            "amqp://bella:pw@rabbit-1:5672/%2f, amqp://bella:pw@rabbit-2:5672/%2f,amqp://bella:pw@rabbit-3:5672/%2f",
        )
        .unwrap();
        assert_eq!(three.addresses(), ["rabbit-1:5672", "rabbit-2:5672", "rabbit-3:5672"]);
        // After the first, bare addresses take its scheme, user and virtual host.
        let short =
            Brokers::parse("amqps://bella:pw@b-1.mq.ca-central-1.amazonaws.com:5671/bella,b-2:5671,b-3").unwrap();
        assert_eq!(short.addresses(), ["b-1.mq.ca-central-1.amazonaws.com:5671", "b-2:5671", "b-3:5671"]);
        assert_eq!(short.uris[2].vhost, "bella");
        assert_eq!(short.uris[2].authority.userinfo.username, "bella");
    }

    #[test]
    fn a_bad_list_is_refused_with_a_reason() {
        let mixed = Brokers::parse("amqp://a:pw@n1:5672/%2f,amqp://b:pw@n2:5672/%2f").unwrap_err();
        assert!(mixed.to_string().contains("different users or virtual hosts"), "{mixed}");
        let bad = Brokers::parse("amqp://a:secret@n1:5672/%2f,n2:port").unwrap_err();
        let message = format!("{bad:#}");
        assert!(message.contains("address 2"), "{message}");
        assert!(!message.contains("secret"), "{message}");
        assert!(Brokers::parse(" , ").is_err());
    }
}
