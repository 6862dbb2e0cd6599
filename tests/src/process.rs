//! `bella worker` and `bella api` as real processes, for tests that kill them (SIGKILL) at a
//! chosen moment or spread a call over several of them.
//!
//! The binary is the one Cargo built next to the test executable (`target/debug/bella`);
//! `BELLA_BIN` overrides it ([`sandbox::bella_binary`]). The `bella` package has an integration
//! test of its own, so `cargo test --workspace` always builds it before any test runs.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use tokio::process::Command;
use workflows::jobs::JobKind;

use crate::TestApp;

/// The `bella` binary built with the tests (see [`sandbox::bella_binary`]).
pub fn bella_binary() -> PathBuf {
    sandbox::bella_binary().unwrap_or_else(|e| panic!("{e:#}"))
}

fn command(app: &TestApp, role: &str, extra: &[(&str, &str)]) -> Command {
    let mut command = sandbox::command(&bella_binary(), &[role], &app.env, "TEST_LOG");
    command.env("LOG_FORMAT", "compact");
    for (key, value) in extra {
        command.env(key, value);
    }
    command
}

/// A `bella api` process for a test app: a replica behind the load balancer.
#[derive(Debug)]
pub struct ApiProcess {
    pub url: String,
    child: sandbox::Child,
}

impl ApiProcess {
    /// Starts `bella api` for `app` on a free port and waits until it is ready.
    pub async fn start(app: &TestApp, extra: &[(&str, &str)]) -> Self {
        Self::spawn(app, extra, None).await
    }

    /// The same, writing the api's log (JSON lines) to `log`, for a test to read.
    pub async fn start_logged(app: &TestApp, extra: &[(&str, &str)], log: &std::path::Path) -> Self {
        Self::spawn(app, extra, Some(log)).await
    }

    async fn spawn(app: &TestApp, extra: &[(&str, &str)], log: Option<&std::path::Path>) -> Self {
        let port = crate::engines::free_port().to_string();
        let mut command = command(app, "api", extra);
        command.env("PORT", &port);
        if let Some(log) = log {
            let file = std::fs::File::create(log).expect("the api's log file");
            command.stderr(Stdio::from(file)).env("LOG_FORMAT", "json").env("RUST_LOG", "info");
        }
        let mut child = sandbox::Child::spawn(command, "bella api").expect("bella api starts");
        let url = format!("http://127.0.0.1:{port}");
        let ready = child.wait_until_ready(&format!("{url}/readyz"), Duration::from_secs(30), "TEST_LOG").await;
        ready.unwrap_or_else(|e| panic!("{e:#}"));
        Self { url, child }
    }

    pub fn alive(&mut self) -> bool {
        self.child.alive()
    }

    /// The process's `/metrics` text.
    pub async fn metrics(&self) -> String {
        let response = reqwest::get(format!("{}/metrics", self.url)).await.expect("/metrics answers");
        response.text().await.unwrap_or_default()
    }
}

/// A `bella worker` process for a test app.
#[derive(Debug)]
pub struct WorkerProcess {
    child: sandbox::Child,
}

impl WorkerProcess {
    /// Starts a worker for `app` (its database, namespace, Twilio fake…) with extra variables,
    /// and waits until it consumes `kind`'s queue.
    pub async fn start(app: &TestApp, extra: &[(&str, &str)], kind: JobKind) -> Self {
        Self::spawn(app, extra, kind, None).await
    }

    /// The same, writing the worker's log (JSON lines) to `log`, for a test to read.
    pub async fn start_logged(app: &TestApp, extra: &[(&str, &str)], kind: JobKind, log: &std::path::Path) -> Self {
        Self::spawn(app, extra, kind, Some(log)).await
    }

    async fn spawn(app: &TestApp, extra: &[(&str, &str)], kind: JobKind, log: Option<&std::path::Path>) -> Self {
        let mut command = command(app, "worker", extra);
        if let Some(log) = log {
            let file = std::fs::File::create(log).expect("the worker's log file");
            command.stderr(Stdio::from(file)).env("LOG_FORMAT", "json").env("RUST_LOG", "info");
        }
        let consumers_before = app.consumers(kind).await;
        let child = sandbox::Child::spawn(command, "bella worker").expect("bella worker starts");
        let worker = Self { child };
        let deadline = Instant::now() + Duration::from_secs(30);
        while app.consumers(kind).await <= consumers_before {
            assert!(Instant::now() < deadline, "the worker process never started consuming");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        worker
    }

    /// SIGKILL: no cleanup, no acknowledgement, no goodbye to the broker.
    pub async fn kill(self) {
        self.child.kill().await.expect("SIGKILL the worker");
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.alive()
    }

    /// SIGTERM, as a deploy stops it: the worker stops consuming, finishes what it holds and
    /// exits. `false` if it had to be killed after 30 seconds, or exited with an error.
    pub async fn stop(self) -> bool {
        self.child.stop(Duration::from_secs(30)).await
    }
}

impl TestApp {
    /// (ready messages, consumers) of a queue.
    async fn queue_state(&self, queue: &str) -> (u32, u32) {
        let amqp = self.amqp().await;
        let channel = amqp.create_channel().await.expect("channel");
        let declared = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() },
                FieldTable::default(),
            )
            .await
            .expect("the queue exists");
        amqp.close(200, "OK".into()).await.ok();
        (declared.message_count(), declared.consumer_count())
    }

    /// How many consumers `kind`'s work queue has.
    pub async fn consumers(&self, kind: JobKind) -> u32 {
        self.queue_state(&self.config.namespace.queue(kind)).await.1
    }

    /// How many messages are ready in `queue`.
    pub async fn queue_depth(&self, queue: &str) -> u32 {
        self.queue_state(queue).await.0
    }
}
