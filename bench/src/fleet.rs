//! The processes under test: `bella api`, `bella worker` and the floor server (`bella-bench
//! floor`), each a child of the bench started with [`sandbox`], with the bench's own database,
//! namespace and tokens.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

/// A child process serving HTTP on `port`.
#[derive(Debug)]
pub struct Server {
    pub name: &'static str,
    pub port: u16,
    child: sandbox::Child,
}

impl Server {
    /// Starts `program args…` with `env` (on top of PATH and HOME only) and waits until
    /// `ready_path` answers 200.
    pub async fn start(
        name: &'static str,
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        ready_path: &str,
    ) -> anyhow::Result<Self> {
        let port = sandbox::free_port()?;
        let mut command = sandbox::command(program, args, env.iter().map(|(k, v)| (k, v)), "BENCH_LOG");
        command.env("RUST_LOG", "warn");
        // The api answers on PORT, a worker on METRICS_PORT.
        command.env("PORT", port.to_string()).env("METRICS_PORT", port.to_string());
        let program_name = program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut child = sandbox::Child::spawn(command, format!("{program_name} {}", args.join(" ")))?;
        let url = format!("http://127.0.0.1:{port}{ready_path}");
        child.wait_until_ready(&url, Duration::from_secs(60), "BENCH_LOG").await?;
        Ok(Self { name, port, child })
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
    pub async fn stop(self) {
        self.child.stop(Duration::from_secs(10)).await;
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: u64,
    pub peak: u64,
}
