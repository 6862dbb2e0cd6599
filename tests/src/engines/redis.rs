//! A Redis primary with a replica, as ElastiCache runs them: the replica follows the primary
//! asynchronously, and a failover promotes it and moves the primary's endpoint to it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Scratch, free_port, wait_for_port};

#[derive(Debug)]
pub struct RedisPair {
    pub primary: u16,
    pub replica: u16,
    primary_process: Option<Child>,
    replica_process: Child,
    _dir: Scratch,
}

fn server(dir: &Scratch, name: &str, port: u16, replica_of: Option<u16>) -> Child {
    let mut command = Command::new("redis-server");
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--daemonize", "no", "--dir", dir.path().to_str().expect("utf-8 path")])
        .args(["--logfile", dir.join(&format!("{name}.log")).to_str().expect("utf-8 path")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(primary) = replica_of {
        command.args(["--replicaof", "127.0.0.1", &primary.to_string()]);
    }
    command.spawn().expect("redis-server starts")
}

async fn connection(port: u16) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .expect("redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connects to our Redis")
}

impl RedisPair {
    /// Starts both, and waits until the replica is in sync.
    pub async fn start() -> Self {
        let dir = Scratch::new("redis", None);
        let (primary, replica) = (free_port(), free_port());
        // Both processes belong to the pair before either is waited for: a failed start drops
        // the pair, which kills them.
        let primary_process = server(&dir, "primary", primary, None);
        let replica_process = server(&dir, "replica", replica, Some(primary));
        let pair = Self { primary, replica, primary_process: Some(primary_process), replica_process, _dir: dir };
        wait_for_port("Redis primary", primary, true, Duration::from_secs(10)).await;
        wait_for_port("Redis replica", replica, true, Duration::from_secs(10)).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !pair.replica_in_sync().await {
            assert!(Instant::now() < deadline, "the Redis replica never synchronised");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        pair
    }

    async fn replica_in_sync(&self) -> bool {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut connection(self.replica).await)
            .await
            .unwrap_or_default();
        info.contains("master_link_status:up")
    }

    /// Keys held by one node, and the writes it has seen (its replication offset).
    pub async fn keys_and_offset(port: u16) -> (i64, i64) {
        let mut conn = connection(port).await;
        let keys: i64 = redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap_or(-1);
        let info: String = redis::cmd("INFO").arg("replication").query_async(&mut conn).await.unwrap_or_default();
        let offset = info
            .lines()
            .find_map(|l| l.strip_prefix("master_repl_offset:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(-1);
        (keys, offset)
    }

    /// The replica stops following and becomes a primary (`REPLICAOF NO ONE`). Writes the old
    /// primary takes from now on never reach it.
    pub async fn promote_replica(&self) {
        let _: () = redis::cmd("REPLICAOF")
            .arg("NO")
            .arg("ONE")
            .query_async(&mut connection(self.replica).await)
            .await
            .expect("REPLICAOF NO ONE");
    }

    /// SIGKILL the old primary: whatever only it had is gone.
    pub fn kill_primary(&mut self) {
        if let Some(mut process) = self.primary_process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

impl Drop for RedisPair {
    fn drop(&mut self) {
        self.kill_primary();
        let _ = self.replica_process.kill();
        let _ = self.replica_process.wait();
    }
}
