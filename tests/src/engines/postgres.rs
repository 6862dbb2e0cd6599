//! A PostgreSQL primary with a streaming standby, as RDS Multi-AZ runs them: replication is
//! synchronous (a commit returns once the standby has it), and a failover promotes the standby,
//! whose address the primary's name then points to.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::Connection as _;

use super::{Scratch, as_user, free_port, run, wait_for_port};

#[derive(Debug)]
pub struct PostgresPair {
    pub primary: u16,
    pub standby: u16,
    bin: PathBuf,
    dir: Scratch,
}

/// The newest PostgreSQL's programs (Debian keeps them out of PATH).
fn binaries() -> PathBuf {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    versions.sort_unstable();
    let version = versions.pop().expect("PostgreSQL is installed under /usr/lib/postgresql");
    PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"))
}

impl PostgresPair {
    /// Whether this machine can run one (Debian's PostgreSQL server packages).
    pub fn available() -> bool {
        std::path::Path::new("/usr/lib/postgresql").exists()
    }

    /// Initialises a primary, clones it into a standby, starts both, and waits until the standby
    /// replicates synchronously.
    pub async fn start() -> Self {
        let bin = binaries();
        let dir = Scratch::new("postgres", Some("postgres"));
        let (primary, standby) = (free_port(), free_port());
        let pair = Self { primary, standby, bin, dir };
        let data = pair.dir.join("primary");
        pair.pg("initdb", &["-D", path(&data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
        let sockets = path(pair.dir.path()).to_owned();
        append(
            &data.join("postgresql.conf"),
            &format!(
                "port = {primary}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{sockets}'\n\
                 wal_level = replica\nmax_wal_senders = 4\nsynchronous_standby_names = '*'\n\
                 synchronous_commit = on\nshared_buffers = 32MB\nmax_connections = 100\n"
            ),
        );
        pair.start_server("primary");
        wait_for_port("PostgreSQL primary", primary, true, Duration::from_secs(20)).await;
        let clone = pair.dir.join("standby");
        pair.pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary.to_string(),
                "-U",
                "postgres",
                "-D",
                path(&clone),
                "-R",
                "-X",
                "stream",
            ],
        );
        // Once promoted it has no standby of its own, and must not wait for one.
        append(&clone.join("postgresql.conf"), &format!("port = {standby}\nsynchronous_standby_names = ''\n"));
        pair.start_server("standby");
        wait_for_port("PostgreSQL standby", standby, true, Duration::from_secs(20)).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while pair.sync_state().await.as_deref() != Some("sync") {
            assert!(Instant::now() < deadline, "the standby never replicated synchronously");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        pair
    }

    fn pg(&self, program: &str, args: &[&str]) {
        let mut command = as_user("postgres", path(&self.bin.join(program)));
        command.args(args);
        run(command, program);
    }

    fn start_server(&self, name: &str) {
        let data = self.dir.join(name);
        let log = self.dir.join(&format!("{name}.log"));
        self.pg("pg_ctl", &["-D", path(&data), "-l", path(&log), "-w", "-t", "30", "start"]);
    }

    /// The standby's replication state as the primary sees it.
    async fn sync_state(&self) -> Option<String> {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", self.primary);
        let mut connection = sqlx::PgConnection::connect(&url).await.ok()?;
        sqlx::query_scalar("select sync_state from pg_stat_replication limit 1")
            .fetch_optional(&mut connection)
            .await
            .ok()?
    }

    /// The primary crashes (an immediate stop: no checkpoint, connections cut) and the standby
    /// is promoted; it then accepts writes. Runs off the async runtime: calls go on meanwhile.
    pub fn fail_over_command(&self) -> impl Future<Output = ()> + Send + 'static {
        let pg_ctl = path(&self.bin.join("pg_ctl")).to_owned();
        let (primary, standby) = (self.dir.join("primary"), self.dir.join("standby"));
        async move {
            tokio::task::spawn_blocking(move || {
                let mut crash = as_user("postgres", &pg_ctl);
                crash.args(["-D", path(&primary), "-m", "immediate", "stop"]);
                run(crash, "pg_ctl stop -m immediate");
                let mut promote = as_user("postgres", &pg_ctl);
                promote.args(["-D", path(&standby), "-w", "-t", "30", "promote"]);
                run(promote, "pg_ctl promote");
            })
            .await
            .expect("the failover ran");
        }
    }
}

impl Drop for PostgresPair {
    fn drop(&mut self) {
        for name in ["primary", "standby"] {
            let mut command = as_user("postgres", path(&self.bin.join("pg_ctl")));
            command.args(["-D", path(&self.dir.join(name)), "-m", "immediate", "stop"]);
            let _ = command.output();
        }
    }
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn append(file: &std::path::Path, text: &str) {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new().append(true).open(file).expect("postgresql.conf");
    f.write_all(text.as_bytes()).expect("postgresql.conf written");
}
