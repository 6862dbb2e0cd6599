//! Stopping and starting the real PostgreSQL, Redis and RabbitMQ, for the fault-injection suite.
//!
//! These act on the machine's shared services, so only a suite that runs alone may use them (the
//! `faults` test binary runs its scenarios one after another, and Cargo runs test binaries one at
//! a time). [`ensure_up`] brings everything back with `scripts/services`, as CI expects to find it.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

async fn wait_for_port(port: u16, open: bool, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    while port_open(port) != open {
        if Instant::now() > deadline {
            return Err(format!("port {port} did not {} within {limit:?}", if open { "open" } else { "close" }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

fn scripts_services() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/services")
}

/// What this machine needs for the suite: the tools to stop and start each service.
pub fn controllable() -> Result<(), String> {
    for tool in ["redis-cli", "rabbitmqctl", "pg_ctlcluster"] {
        let found = std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).exists()))
            .unwrap_or(false);
        if !found {
            return Err(format!("{tool} is not on PATH"));
        }
    }
    Ok(())
}

/// Brings every service back up (idempotent).
pub async fn ensure_up() -> Result<(), String> {
    let _ = run("rabbitmqctl", &["start_app"]);
    let script = scripts_services();
    tokio::task::spawn_blocking(move || run("bash", &[&script.to_string_lossy()]))
        .await
        .map_err(|e| e.to_string())??;
    Ok(())
}

/// Shuts Redis down without saving (it keeps nothing on disk here) and starts it again.
pub async fn restart_redis() -> Result<(), String> {
    // `shutdown` closes the connection before answering: its error is expected.
    let _ = run("redis-cli", &["-p", "6379", "shutdown", "nosave"]);
    wait_for_port(6379, false, Duration::from_secs(10)).await?;
    ensure_up().await?;
    wait_for_port(6379, true, Duration::from_secs(15)).await
}

/// Stops the RabbitMQ application: every connection is closed and the port stops answering.
pub async fn stop_rabbitmq() -> Result<(), String> {
    tokio::task::spawn_blocking(|| run("rabbitmqctl", &["stop_app"])).await.map_err(|e| e.to_string())??;
    wait_for_port(5672, false, Duration::from_secs(30)).await
}

pub async fn start_rabbitmq() -> Result<(), String> {
    tokio::task::spawn_blocking(|| {
        run("rabbitmqctl", &["start_app"])?;
        run("rabbitmqctl", &["await_startup", "--timeout", "60"])
    })
    .await
    .map_err(|e| e.to_string())??;
    wait_for_port(5672, true, Duration::from_secs(30)).await
}

/// Restarts PostgreSQL (fast shutdown: open sessions are cut, as in a crash or a failover).
pub async fn restart_postgres() -> Result<(), String> {
    let versions = std::fs::read_dir("/etc/postgresql").map_err(|e| format!("/etc/postgresql: {e}"))?;
    let mut versions: Vec<String> =
        versions.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    versions.sort_by_key(|v| v.parse::<u32>().unwrap_or(0));
    let version = versions.pop().ok_or("no PostgreSQL cluster in /etc/postgresql")?;
    tokio::task::spawn_blocking(move || {
        run("pg_ctlcluster", &["--skip-systemctl-redirect", &version, "main", "restart", "-m", "fast"])
    })
    .await
    .map_err(|e| e.to_string())??;
    wait_for_port(5432, true, Duration::from_secs(30)).await
}
