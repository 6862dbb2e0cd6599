//! Engines of our own for the failover tests: a primary with a replica or standby, a three-node
//! cluster, a proxy in front. Each runs on free localhost ports with its data in a temporary
//! directory, as the service's own system user, and is stopped when dropped: the machine's
//! shared PostgreSQL, Redis and RabbitMQ are never touched.

pub mod postgres;
pub mod proxy;
pub mod rabbitmq;
pub mod redis;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A port free now (the engine binds it a moment later).
pub fn free_port() -> u16 {
    sandbox::free_port().expect("a free port")
}

pub fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

pub async fn wait_for_port(what: &str, port: u16, open: bool, limit: Duration) {
    let deadline = Instant::now() + limit;
    while port_open(port) != open {
        assert!(
            Instant::now() < deadline,
            "{what}: port {port} did not {} within {limit:?}",
            if open { "open" } else { "close" }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn is_root() -> bool {
    // Engines refuse to run as root (PostgreSQL) or expect their own user (RabbitMQ's cookie).
    std::env::var("USER").is_ok_and(|u| u == "root")
        || Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args…` as `user` when this process is root, else as ourselves.
pub fn as_user(user: &str, program: &str) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", user, "--", program]);
        command
    } else {
        Command::new(program)
    }
}

/// Runs a command to completion; panics with its output when it fails.
pub fn run(mut command: Command, what: &str) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A directory under the system's temporary directory, owned by `owner` (when we are root and
/// one is named), and removed when dropped.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn new(prefix: &str, owner: Option<&str>) -> Self {
        let unique = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let path = std::env::temp_dir().join(format!("bella-{prefix}-{unique}"));
        std::fs::create_dir_all(&path).expect("a scratch directory");
        if let Some(user) = owner.filter(|_| is_root()) {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args([&format!("{user}:"), path.to_str().expect("utf-8 path")]);
                    c
                },
                "chown",
            );
        }
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Whether `program` is on PATH or at one of `also`.
pub fn have(program: &str, also: &[&str]) -> bool {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).exists()))
        .unwrap_or(false);
    on_path || also.iter().any(|p| Path::new(p).exists())
}
