//! `bella` as a child process: found where Cargo built it, started with the run's environment
//! and nothing else (but `PATH` and `HOME`), waited for until it answers, stopped as a deploy
//! stops it or killed outright.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::process::Command;

/// The `bella` binary: `BELLA_BIN`, else the one Cargo built into the same target directory as
/// the running executable (`target/release/bella` beside `target/release/bella-bench`, or above
/// a test's `target/debug/deps/`).
pub fn bella_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("BELLA_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().context("finding the running executable's path")?;
    let mut dir = exe.parent().context("the running executable has no directory")?;
    if dir.ends_with("deps") {
        dir = dir.parent().context("a deps directory outside a target directory")?;
    }
    let path = dir.join(format!("bella{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        path.exists(),
        "{} is missing: build it with `cargo build -p bella` in the same profile (or set BELLA_BIN)",
        path.display()
    );
    Ok(path)
}

/// `program args…` with `env` on top of `PATH` and `HOME` only: no standard input or output,
/// standard error shown when the variable `show_log` (`TEST_LOG`, `BENCH_LOG`) is set, killed
/// when dropped. The caller adds what is its own and spawns it with [`Child::spawn`].
pub fn command<K, V>(program: &Path, args: &[&str], env: impl IntoIterator<Item = (K, V)>, show_log: &str) -> Command
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut command = Command::new(program);
    command.args(args).env_clear().stdin(Stdio::null()).stdout(Stdio::null()).kill_on_drop(true);
    command.stderr(if std::env::var_os(show_log).is_some() { Stdio::inherit() } else { Stdio::null() });
    for key in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(key) {
            command.env(key, value);
        }
    }
    command.envs(env);
    command
}

/// A port free now (a child binds it a moment later).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A child process, killed if dropped.
#[derive(Debug)]
pub struct Child {
    /// What errors call it: `bella api`.
    what: String,
    child: tokio::process::Child,
}

impl Child {
    /// Starts `command`; `what` names it in errors.
    pub fn spawn(mut command: Command, what: impl Into<String>) -> anyhow::Result<Self> {
        let what = what.into();
        let child = command.spawn().with_context(|| format!("starting {what}"))?;
        Ok(Self { what, child })
    }

    /// Its process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until `url` answers with a success status. An error if the process exits first (the
    /// variable `show_log` shows why), or after `limit`.
    pub async fn wait_until_ready(&mut self, url: &str, limit: Duration, show_log: &str) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                anyhow::bail!("{} exited before it was ready ({status}); {show_log}=1 shows why", self.what);
            }
            let ready = http.get(url).timeout(Duration::from_secs(2)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "{} was not ready within {limit:?}", self.what);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no clean-up, no goodbye to the services.
    pub async fn kill(mut self) -> std::io::Result<()> {
        self.child.kill().await
    }

    /// SIGTERM, as a deploy stops it, then SIGKILL if it has not exited after `grace`. Whether it
    /// exited by itself, successfully.
    pub async fn stop(mut self, grace: Duration) -> bool {
        let Some(pid) = self.child.id() else { return false };
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => {
                let _ = self.child.kill().await;
                false
            }
        }
    }
}
