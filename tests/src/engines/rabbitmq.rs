//! A three-node RabbitMQ cluster, as Amazon MQ's cluster deployment runs one: quorum queues
//! replicated on every node, a leader per queue, reachable through each node's address or
//! through one front address (haproxy here, a network load balancer there).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Scratch, as_user, free_port, run, wait_for_port};

#[derive(Debug)]
struct Node {
    name: String,
    port: u16,
    dist_port: u16,
    dir: PathBuf,
}

#[derive(Debug)]
pub struct RabbitCluster {
    nodes: Vec<Node>,
    dir: Scratch,
}

impl Node {
    fn command(&self, program: &str) -> Command {
        let mut command = as_user("rabbitmq", "env");
        let file = |name: &str| self.dir.join(name).to_str().expect("utf-8 path").to_owned();
        command
            .arg(format!("RABBITMQ_NODENAME={}", self.name))
            .arg(format!("RABBITMQ_NODE_PORT={}", self.port))
            .arg(format!("RABBITMQ_DIST_PORT={}", self.dist_port))
            .arg(format!("RABBITMQ_CONF_ENV_FILE={}", file("rabbitmq-env.conf")))
            .arg(format!("RABBITMQ_CONFIG_FILE={}", file("rabbitmq.conf")))
            .arg(format!("RABBITMQ_ENABLED_PLUGINS_FILE={}", file("enabled_plugins")))
            .arg(format!("RABBITMQ_MNESIA_BASE={}", file("mnesia")))
            .arg(format!("RABBITMQ_LOG_BASE={}", file("log")))
            .arg(format!("RABBITMQ_PID_FILE={}", file("pid")))
            .arg("ERL_EPMD_ADDRESS=127.0.0.1")
            .arg(program);
        command
    }

    fn start(&self) {
        let mut command = self.command("rabbitmq-server");
        command.arg("-detached").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        run(command, &format!("starting RabbitMQ node {}", self.name));
    }

    fn ctl(&self, args: &[&str]) -> Result<String, String> {
        let output =
            Command::new("rabbitmqctl").arg("-n").arg(&self.name).args(args).output().map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
        }
    }

    /// Waits until the node has booted (it registers with epmd a moment after it starts).
    async fn await_startup(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let name = self.name.clone();
            let node = Node { name, port: self.port, dist_port: self.dist_port, dir: self.dir.clone() };
            let booted = tokio::task::spawn_blocking(move || node.ctl(&["await_startup", "--timeout", "60"])).await;
            match booted {
                Ok(Ok(_)) => return,
                Ok(Err(error)) => {
                    assert!(Instant::now() < deadline, "RabbitMQ node {} did not start: {error}", self.name);
                }
                Err(join) => panic!("{join}"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// SIGKILL: the node's host is gone; it closes nothing and hands nothing over.
    fn kill(&self) {
        let pid = std::fs::read_to_string(self.dir.join("pid")).expect("the node's pid file");
        run(
            {
                let mut c = Command::new("kill");
                c.args(["-KILL", pid.trim()]);
                c
            },
            "kill -KILL",
        );
    }
}

/// A queue as the cluster reports it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct QueueReplicas {
    pub name: String,
    pub leader: String,
    pub members: Vec<String>,
}

impl RabbitCluster {
    /// Whether this machine can run one (Debian's rabbitmq-server).
    pub fn available() -> bool {
        super::have("rabbitmq-server", &["/usr/sbin/rabbitmq-server"]) && super::have("rabbitmqctl", &[])
    }

    /// Starts three nodes and clusters the second and third with the first.
    pub async fn start() -> Self {
        let dir = Scratch::new("rabbitmq", Some("rabbitmq"));
        let id = &uuid::Uuid::new_v4().simple().to_string()[..6];
        let mut nodes = Vec::new();
        for n in 1..=3 {
            let node_dir = dir.join(&format!("node{n}"));
            std::fs::create_dir_all(&node_dir).expect("node directory");
            let port = free_port();
            let node = Node { name: format!("bella-{id}-{n}@localhost"), port, dist_port: free_port(), dir: node_dir };
            let write = |name: &str, text: String| std::fs::write(node.dir.join(name), text).expect("node file");
            // /etc/rabbitmq pins the shared broker's port and name: each node has files of its own.
            write("rabbitmq.conf", format!("listeners.tcp.default = 127.0.0.1:{port}\n"));
            write("rabbitmq-env.conf", format!("NODENAME={}\n", node.name));
            write("enabled_plugins", "[].\n".to_owned());
            nodes.push(node);
        }
        if super::is_root() {
            let mut chown = Command::new("chown");
            chown.args(["-R", "rabbitmq:", dir.path().to_str().expect("utf-8 path")]);
            run(chown, "chown");
        }
        // The cluster exists before its nodes start: if a start fails, dropping it kills those
        // that did start.
        let cluster = Self { nodes, dir };
        for node in &cluster.nodes {
            node.start();
        }
        for node in &cluster.nodes {
            node.await_startup().await;
            wait_for_port("RabbitMQ node", node.port, true, Duration::from_secs(30)).await;
        }
        let first = cluster.nodes[0].name.clone();
        for node in &cluster.nodes[1..] {
            for step in [vec!["stop_app"], vec!["join_cluster", first.as_str()], vec!["start_app"]] {
                node.ctl(&step).unwrap_or_else(|e| panic!("rabbitmqctl {} on {}: {e}", step.join(" "), node.name));
            }
        }
        cluster
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    pub fn node_name(&self, n: usize) -> &str {
        &self.nodes[n].name
    }

    /// `AMQP_URL` listing every node, the first in full and the others as `host:port`.
    pub fn url_list(&self) -> String {
        let mut url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.nodes[0].port);
        for node in &self.nodes[1..] {
            url.push_str(&format!(",127.0.0.1:{}", node.port));
        }
        url
    }

    /// The cluster's running nodes, as node 0..3 indexes, asked of node `via`.
    pub fn running(&self, via: usize) -> Vec<usize> {
        let text = self.nodes[via].ctl(&["cluster_status", "--formatter", "json"]).unwrap_or_default();
        let status: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let running: Vec<String> = status["running_nodes"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        (0..self.nodes.len()).filter(|n| running.contains(&self.nodes[*n].name)).collect()
    }

    /// The quorum queues whose names start with `prefix`, with their leader and members, asked of
    /// node `via`.
    pub fn queues(&self, via: usize, prefix: &str) -> Vec<QueueReplicas> {
        let text = self.nodes[via]
            .ctl(&["list_queues", "name", "leader", "members", "--formatter", "json", "--quiet"])
            .unwrap_or_else(|e| panic!("list_queues: {e}"));
        let all: Vec<QueueReplicas> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("list_queues: {e}: {text}"));
        all.into_iter().filter(|q| q.name.starts_with(prefix)).collect()
    }

    /// A table of the queues whose names start with `prefix` (leader, members online, consumers,
    /// messages, state), asked of node `via`: for a scenario to print when something is amiss.
    pub fn describe(&self, via: usize, prefix: &str) -> String {
        let columns = ["name", "leader", "online", "consumers", "messages", "state"];
        let mut args = vec!["list_queues"];
        args.extend(columns);
        args.push("--quiet");
        match self.nodes[via].ctl(&args) {
            Ok(text) => text.lines().filter(|l| l.starts_with(prefix)).collect::<Vec<_>>().join("\n"),
            Err(error) => format!("(rabbitmqctl list_queues on {}: {error})", self.nodes[via].name),
        }
    }

    /// Which node (0..3) is named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Kills node `n` outright.
    pub async fn kill(&self, n: usize) {
        self.nodes[n].kill();
        wait_for_port("RabbitMQ node", self.nodes[n].port, false, Duration::from_secs(20)).await;
    }

    /// Starts node `n` again: it rejoins the cluster from its own data.
    pub async fn restart(&self, n: usize) {
        self.nodes[n].start();
        self.nodes[n].await_startup().await;
        wait_for_port("RabbitMQ node", self.nodes[n].port, true, Duration::from_secs(30)).await;
    }
}

impl Drop for RabbitCluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            if let Ok(pid) = std::fs::read_to_string(node.dir.join("pid")) {
                let _ = Command::new("kill").args(["-KILL", pid.trim()]).output();
            }
        }
        // The scratch directory goes with `self.dir`.
        let _ = &self.dir;
    }
}

/// haproxy in front of the cluster: one address, every node behind it, health-checked, as
/// Amazon MQ's cluster endpoint (a network load balancer) is.
#[derive(Debug)]
pub struct Front {
    pub port: u16,
    process: Child,
    _dir: Scratch,
}

impl Front {
    pub fn available() -> bool {
        super::have("haproxy", &["/usr/sbin/haproxy"])
    }

    pub async fn start(cluster: &RabbitCluster) -> Self {
        let dir = Scratch::new("haproxy", None);
        let port = free_port();
        let mut config = format!(
            "global\n  maxconn 2000\n\
             defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 1h\n  timeout server 1h\n  retries 2\n  option redispatch\n\
             frontend amqp\n  bind 127.0.0.1:{port}\n  default_backend nodes\n\
             backend nodes\n  balance roundrobin\n"
        );
        for (n, node_port) in cluster.ports().iter().enumerate() {
            // A health check every half second; one failure takes the node out.
            config.push_str(&format!("  server node{n} 127.0.0.1:{node_port} check inter 500ms fall 1 rise 2\n"));
        }
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, config).expect("haproxy.cfg");
        let program = if super::have("haproxy", &[]) { "haproxy" } else { "/usr/sbin/haproxy" };
        let process = Command::new(program)
            .args(["-db", "-f", file.to_str().expect("utf-8 path")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts");
        wait_for_port("haproxy", port, true, Duration::from_secs(10)).await;
        Self { port, process, _dir: dir }
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
