//! RabbitMQ: the connection, the topology (declared in one place) and the confirmed publisher.
//!
//! `AMQP_URL` names one broker, or the nodes of a cluster separated by commas. Bella connects to
//! the first node that answers and, when that node goes away, connects again through the same
//! list, starting with the node after the one that failed ([`Broker`]). Behind a single front
//! address (Amazon MQ's cluster endpoint, a load balancer) one URL is enough: every reconnection
//! goes back through it to a node that is up.

pub mod headers;
mod publisher;
pub mod topology;

pub use publisher::{PublishError, Publisher, job_properties};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use lapin::uri::AMQPUri;
use lapin::{Connection, ConnectionProperties};

use crate::config::redact_url;

/// How long one node may take to accept a TCP (and TLS) connection before the next is tried.
const NODE_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a close waits for the broker's answer.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
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
                // The parser's message quotes the input: with its password redacted.
                _ => part.parse::<AMQPUri>().map_err(|e| anyhow::anyhow!("{}", e.replace(part, &redact_url(part)))),
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

/// A connection to RabbitMQ that is replaced when it is lost.
///
/// lapin's own recovery replays a lost connection's channels, consumers and declarations on a
/// new one, against the same address. Against a cluster losing a node that proved fragile (the
/// failover test saw recoveries left half-done, channels stuck "reconnecting", and channels that
/// kept refusing publishes), so Bella does without it: a supervisor notices the loss (lapin's
/// error event, or a status check every second), opens a new connection to the first node of
/// `AMQP_URL` that answers, starting after the one that failed, and bumps a generation. The
/// publisher opens its channel again when the generation moves; each consumer, interrupted,
/// waits for the next generation and consumes again. Deliveries left unacknowledged on the lost
/// connection are delivered again by the broker, and every job is idempotent.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

struct Inner {
    nodes: Vec<AMQPUri>,
    name: String,
    /// The node to try first: the one that answered last.
    next: AtomicUsize,
    current: std::sync::RwLock<Arc<Connection>>,
    generation: tokio::sync::watch::Sender<u64>,
    lost: tokio::sync::Notify,
    closing: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes: Vec<String> =
            self.inner.nodes.iter().map(|u| format!("{}:{}", u.authority.host, u.authority.port)).collect();
        f.debug_struct("Broker").field("nodes", &nodes).field("generation", &self.generation()).finish()
    }
}

/// Connects to RabbitMQ (`url` is `AMQP_URL`: one URL, or a cluster's nodes), and keeps the
/// connection up from then on (see [`Broker`]).
pub async fn connect(url: &str, connection_name: &str) -> anyhow::Result<Broker> {
    let brokers = Brokers::parse(url)?;
    let target = redact_url(url);
    let mut nodes = brokers.uris;
    for node in &mut nodes {
        if node.query.heartbeat.is_none() {
            node.query.heartbeat = Some(HEARTBEAT_SECONDS);
        }
    }
    // A node that refuses connections is reported at once, by name, rather than waited for.
    let mut reachable = None;
    for (index, node) in nodes.iter().enumerate() {
        let address = format!("{}:{}", node.authority.host, node.authority.port);
        match tokio::time::timeout(NODE_CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address.as_str())).await {
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
    let next = AtomicUsize::new(reachable);
    let first = tokio::time::timeout(FIRST_CONNECT_TIMEOUT, open(&nodes, &next, connection_name))
        .await
        .map_err(|_| anyhow::anyhow!("cannot reach RabbitMQ at {target} (AMQP_URL): no answer within 10 s"))?
        .with_context(|| format!("cannot reach RabbitMQ at {target} (AMQP_URL)"))?;
    let inner = Arc::new(Inner {
        nodes,
        name: connection_name.to_owned(),
        next,
        current: std::sync::RwLock::new(Arc::new(first)),
        generation: tokio::sync::watch::Sender::new(0),
        lost: tokio::sync::Notify::new(),
        closing: std::sync::atomic::AtomicBool::new(false),
    });
    watch_for_errors(&inner);
    tokio::spawn(supervise(Arc::downgrade(&inner)));
    Ok(Broker { inner })
}

impl Broker {
    /// The connection in use now.
    pub fn connection(&self) -> Arc<Connection> {
        self.inner.current.read().map_or_else(|poisoned| poisoned.into_inner().clone(), |c| c.clone())
    }

    /// Opens a channel on the connection in use.
    pub async fn create_channel(&self) -> lapin::Result<lapin::Channel> {
        self.connection().create_channel().await
    }

    /// Whether the connection in use is open.
    pub fn is_connected(&self) -> bool {
        self.connection().status().connected()
    }

    /// How many times the connection was replaced.
    pub fn generation(&self) -> u64 {
        *self.inner.generation.borrow()
    }

    /// Waits until the connection has been replaced since `seen` (see [`generation`](Self::generation)).
    pub async fn reconnected_since(&self, seen: u64) {
        let mut changes = self.inner.generation.subscribe();
        let _ = changes.wait_for(|now| *now > seen).await;
    }

    /// Closes the connection for good: it is not replaced any more. Waits a bounded time for the
    /// broker's answer (a node that died does not answer; a shutdown must not hang on it).
    pub async fn close(&self, reply_code: u16, reply_text: lapin::types::ShortString) -> lapin::Result<()> {
        self.inner.closing.store(true, Ordering::Relaxed);
        self.inner.lost.notify_one();
        let connection = self.connection();
        if !connection.status().connected() {
            return Ok(());
        }
        match tokio::time::timeout(CLOSE_TIMEOUT, connection.close(reply_code, reply_text)).await {
            Ok(closed) => closed,
            Err(_) => {
                tracing::warn!("RabbitMQ did not answer the close within 2 s; leaving the connection");
                Ok(())
            }
        }
    }
}

/// Wakes the supervisor as soon as lapin reports an error on the connection in use.
fn watch_for_errors(inner: &Arc<Inner>) {
    use futures_util::StreamExt as _;
    let events = inner.current.read().map_or_else(|p| p.into_inner().clone(), |c| c.clone()).events_listener();
    let weak = Arc::downgrade(inner);
    tokio::spawn(async move {
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            if matches!(event, lapin::Event::Error(_)) {
                if let Some(inner) = weak.upgrade() {
                    inner.lost.notify_one();
                }
                return;
            }
        }
    });
}

/// Replaces the connection whenever it is lost, until the broker handle is dropped or closed.
async fn supervise(weak: std::sync::Weak<Inner>) {
    loop {
        {
            let Some(inner) = weak.upgrade() else { return };
            let notified = inner.lost.notified();
            // A status check every second besides the error event: a connection can also end
            // closed by the broker (a node shutting down) without an error.
            let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
        }
        let Some(inner) = weak.upgrade() else { return };
        if inner.closing.load(Ordering::Relaxed) {
            return;
        }
        let connection = inner.current.read().map_or_else(|p| p.into_inner().clone(), |c| c.clone());
        let status = connection.status();
        if status.connected() || status.connecting() {
            continue;
        }
        tracing::warn!("lost the connection to RabbitMQ; connecting again");
        metrics::counter!(crate::metrics::BROKER_RECONNECTS, "result" => "lost").increment(1);
        // The node that was lost is tried last.
        let count = inner.nodes.len();
        inner.next.store((inner.next.load(Ordering::Relaxed) + 1) % count, Ordering::Relaxed);
        // Enough for `open` to try every node once.
        let budget = NODE_CONNECT_TIMEOUT * u32::try_from(count).unwrap_or(u32::MAX) + Duration::from_secs(2);
        let mut delay = Duration::from_millis(100);
        loop {
            if inner.closing.load(Ordering::Relaxed) {
                return;
            }
            match tokio::time::timeout(budget, open(&inner.nodes, &inner.next, &inner.name)).await {
                Ok(Ok(fresh)) if inner.closing.load(Ordering::Relaxed) => {
                    // Closed while this connection was being made: it is not wanted.
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, fresh.close(200, "closing".into())).await;
                    return;
                }
                Ok(Ok(fresh)) => {
                    let node = &inner.nodes[inner.next.load(Ordering::Relaxed) % inner.nodes.len()];
                    if let Ok(mut current) = inner.current.write() {
                        *current = Arc::new(fresh);
                    }
                    watch_for_errors(&inner);
                    inner.generation.send_modify(|g| *g += 1);
                    metrics::counter!(crate::metrics::BROKER_RECONNECTS, "result" => "reconnected").increment(1);
                    tracing::info!(node = %format!("{}:{}", node.authority.host, node.authority.port), "connected to RabbitMQ again");
                    break;
                }
                Ok(Err(error)) => tracing::warn!(error = %error, "RabbitMQ is still unreachable"),
                Err(_) => tracing::warn!("RabbitMQ is still unreachable: no node answered"),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }
}

/// One connection, to the first of `nodes` that accepts it, starting at `next` (which then names
/// the node that answered). No automatic recovery: [`supervise`] replaces a lost connection.
async fn open(nodes: &[AMQPUri], next: &AtomicUsize, name: &str) -> lapin::Result<Connection> {
    let count = nodes.len();
    let start = next.load(Ordering::Relaxed);
    let mut last_error = None;
    for offset in 0..count {
        let index = (start + offset) % count;
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        let attempt = Connection::connect_uri(nodes[index].clone(), properties);
        match tokio::time::timeout(NODE_CONNECT_TIMEOUT, attempt).await {
            Ok(Ok(connection)) => {
                if index != start {
                    let node = &nodes[index].authority;
                    tracing::warn!(node = %format!("{}:{}", node.host, node.port), "connected to another RabbitMQ node");
                }
                next.store(index, Ordering::Relaxed);
                return Ok(connection);
            }
            Ok(Err(error)) => last_error = Some(error),
            Err(_) => {
                last_error = Some(std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 3 s").into());
            }
        }
    }
    // The next attempt starts with the node after the one that was current.
    next.store((start + 1) % count, Ordering::Relaxed);
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no RabbitMQ node").into()))
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
        // A URL the parser cannot read is quoted without its password.
        let unreadable = Brokers::parse("amqp:bella:Secr3t@host:5672/%2f").unwrap_err();
        assert!(!format!("{unreadable:#}").contains("Secr3t"), "{unreadable:#}");
        assert!(Brokers::parse(" , ").is_err());
    }
}
