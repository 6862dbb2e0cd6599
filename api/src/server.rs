//! Serving HTTP with the limits `axum::serve` leaves out.
//!
//! - **Headers are read within a bound** (`BELLA_HEADER_TIMEOUT_MS`, 10 s): a client that sends
//!   a request's headers one line at a time, or opens a connection and sends nothing, is
//!   disconnected, instead of holding a connection for ever. The same bound closes a keep-alive
//!   connection left idle: behind a load balancer that reuses connections, set it above the
//!   balancer's idle timeout (infra/ sets 75 s for the ALB's 60 s), or the balancer may send a
//!   request on a connection Bella is closing.
//! - **Connections are capped** (`BELLA_MAX_CONNECTIONS`, 4,096): past the cap, new connections
//!   wait in the kernel's backlog until one closes, rather than exhausting file descriptors.
//! - **Each request knows its client's address** (`ConnectInfo<SocketAddr>`), for the refusals
//!   that are counted per address.
//! - **Shutdown is graceful**: no new connection is accepted, requests in flight finish (within
//!   a bound), idle connections are closed.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// How long shutdown waits for requests in flight (an operator's drain is the longest).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(65);

/// The limits of one HTTP listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_config(config: &adapters::Config) -> Self {
        Self { header_timeout: config.header_timeout, max_connections: config.max_connections }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit?,
        };
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: pause rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        stream.set_nodelay(true).ok();
        let service = router.clone().map_request(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            request.map(Body::new)
        });
        let service = TowerToHyperService::new(service);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        connections.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %remote, "connection ended with an error");
            }
            drop(permit);
        });
        // Forget the connections that ended (the set would otherwise grow with every one).
        while connections.try_join_next().is_some() {}
    }
    // No new connection: refused at once rather than left waiting in the backlog.
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; stopping them");
        }
    }
    connections.abort_all();
    Ok(())
}
