//! The processes under test: `bella api`, `bella worker` and the floor server, each a child of
//! the bench running this very binary, with the bench's own database, namespace and tokens.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// A child process serving HTTP on `port`.
#[derive(Debug)]
pub struct Server {
    pub name: &'static str,
    pub port: u16,
    child: Child,
}

impl Server {
    /// Starts `bella <args>` with `env` (on top of PATH and HOME only) and waits until
    /// `ready_path` answers 200.
    pub async fn start(
        name: &'static str,
        args: &[&str],
        env: &[(String, String)],
        ready_path: &str,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let exe = std::env::current_exe().context("finding the bella binary")?;
        let mut command = Command::new(exe);
        command.args(args).env_clear().stdin(Stdio::null()).stdout(Stdio::null()).kill_on_drop(true);
        command.stderr(if std::env::var_os("BENCH_LOG").is_some() { Stdio::inherit() } else { Stdio::null() });
        for key in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        command.envs(env.iter().map(|(k, v)| (k, v))).env("RUST_LOG", "warn");
        // The api answers on PORT, a worker on METRICS_PORT.
        command.env("PORT", port.to_string()).env("METRICS_PORT", port.to_string());
        let child = command.spawn().with_context(|| format!("starting bella {}", args.join(" ")))?;
        let mut server = Self { name, port, child };
        let url = format!("http://127.0.0.1:{port}{ready_path}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                anyhow::bail!("bella {} exited before it was ready ({status}); BENCH_LOG=1 shows why", args.join(" "));
            }
            let ready = http.get(&url).timeout(Duration::from_secs(2)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            anyhow::ensure!(Instant::now() < deadline, "bella {} was not ready within a minute", args.join(" "));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Resident memory now and at its peak, in bytes (Linux `/proc`).
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let pid = self.child.id().context("the process has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading /proc")?;
        let field = |name: &str| -> anyhow::Result<u64> {
            let line = status.lines().find(|l| l.starts_with(name)).with_context(|| format!("no {name} in /proc"))?;
            let kib: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).context("unreadable /proc")?;
            Ok(kib * 1024)
        };
        Ok(Memory { rss: field("VmRSS:")?, peak: field("VmHWM:")? })
    }

    /// The process's `/metrics` text.
    pub async fn metrics(&self) -> anyhow::Result<String> {
        let response = reqwest::Client::new()
            .get(format!("{}/metrics", self.url()))
            .timeout(Duration::from_secs(10))
            .send()
            .await?;
        Ok(response.error_for_status()?.text().await?)
    }

    /// SIGTERM, then SIGKILL after ten seconds.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_ok() {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: u64,
    pub peak: u64,
}

/// A port free now (the child binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
