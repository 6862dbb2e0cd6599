//! A TCP proxy whose target can be switched: the name a managed engine gives its primary (an RDS
//! or ElastiCache endpoint) moving to the promoted standby. Switching closes every connection to
//! the old target, as the old primary's death does; new connections reach the new one.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug)]
pub struct SwitchProxy {
    address: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    generation: watch::Sender<u64>,
    accepting: JoinHandle<()>,
}

impl SwitchProxy {
    /// Listens on a free localhost port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("the proxy binds");
        let address = listener.local_addr().expect("the proxy's address");
        let target = Arc::new(Mutex::new(target));
        let (generation, _) = watch::channel(0u64);
        let accepting = tokio::spawn(accept(listener, Arc::clone(&target), generation.clone()));
        Self { address, target, generation, accepting }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Points new connections at `target` and cuts every open one.
    pub fn switch(&self, target: SocketAddr) {
        *self.target.lock().expect("proxy target") = target;
        self.generation.send_modify(|g| *g += 1);
    }

    /// Cuts every open connection, keeping the target (the node went away and its address now
    /// refuses connections until the switch).
    pub fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Drop for SwitchProxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut();
    }
}

async fn accept(listener: TcpListener, target: Arc<Mutex<SocketAddr>>, generation: watch::Sender<u64>) {
    while let Ok((mut client, _)) = listener.accept().await {
        let to = *target.lock().expect("proxy target");
        let mut changed = generation.subscribe();
        changed.mark_unchanged();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(to).await else { return };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = changed.changed() => {}
            }
        });
    }
}
