//! The businesses, cached in memory: every turn needs its business's profile, and profiles
//! change rarely. A change to the `businesses` table is announced by PostgreSQL (`NOTIFY
//! bella_businesses`, migration 0010), and [`BusinessDirectory::follow`] makes every api reload at
//! once: a number created or edited on one replica is answered with its own profile by all of
//! them on the next turn. The cache also reloads when it is older than its maximum age
//! (`BELLA_BUSINESS_CACHE_MS`, 30 seconds by default), and after the listening connection was
//! lost (announcements made meanwhile are not replayed).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use adapters::postgres::businesses::{self, Business};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use workflows::{BusinessId, E164};

#[derive(Default)]
struct Snapshot {
    by_number: HashMap<String, Arc<Business>>,
    by_id: HashMap<BusinessId, Arc<Business>>,
    default: Option<Arc<Business>>,
}

pub struct BusinessDirectory {
    pool: PgPool,
    max_age: Duration,
    snapshot: RwLock<(Arc<Snapshot>, Instant)>,
    reload: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for BusinessDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusinessDirectory").finish_non_exhaustive()
    }
}

impl BusinessDirectory {
    pub async fn load(pool: PgPool, max_age: Duration) -> anyhow::Result<Self> {
        let snapshot = read(&pool).await?;
        Ok(Self {
            pool,
            max_age,
            snapshot: RwLock::new((Arc::new(snapshot), Instant::now())),
            reload: tokio::sync::Mutex::new(()),
        })
    }

    async fn current(&self) -> anyhow::Result<Arc<Snapshot>> {
        let (snapshot, loaded) = self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone();
        if loaded.elapsed() < self.max_age {
            return Ok(snapshot);
        }
        // One request reloads; the others wait for it rather than answer from stale data.
        let _guard = self.reload.lock().await;
        let (snapshot, loaded) = self.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone();
        if loaded.elapsed() < self.max_age {
            return Ok(snapshot);
        }
        let fresh = Arc::new(read(&self.pool).await?);
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = (fresh.clone(), Instant::now());
        Ok(fresh)
    }

    /// Forces the next lookup to reload (after an operator edits a business).
    pub fn invalidate(&self) {
        let mut guard = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
        guard.1 = Instant::now().checked_sub(self.max_age * 2 + Duration::from_secs(1)).unwrap_or(guard.1);
    }

    /// The business called at `to`, or the default business.
    pub async fn for_number(&self, to: &str) -> anyhow::Result<Arc<Business>> {
        let snapshot = self.current().await?;
        let number = E164::parse(to).ok();
        number
            .and_then(|n| snapshot.by_number.get(n.as_str()).cloned())
            .or_else(|| snapshot.default.clone())
            .ok_or_else(|| anyhow::anyhow!("no business answers {to:?} and there is no default business"))
    }

    pub async fn by_id(&self, id: BusinessId) -> anyhow::Result<Arc<Business>> {
        let snapshot = self.current().await?;
        match snapshot.by_id.get(&id) {
            Some(business) => Ok(business.clone()),
            None => snapshot.default.clone().ok_or_else(|| anyhow::anyhow!("business {id} not found")),
        }
    }
}

/// The channel PostgreSQL announces changes to the businesses on.
const CHANNEL: &str = "bella_businesses";

impl BusinessDirectory {
    /// Reloads on every change to the businesses until `stop`; a lost connection is listened on
    /// again (sqlx reconnects), and reloads too.
    pub async fn follow(self: Arc<Self>, stop: CancellationToken) {
        let mut listener = loop {
            match listen(&self.pool).await {
                Ok(listener) => break listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for business changes; the cache ages out instead");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(5)) => {}
                    }
                }
            }
        };
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => return,
                next = listener.try_recv() => next,
            };
            match next {
                Ok(Some(_)) => {}
                // The connection was lost and is being replaced: changes meanwhile went unheard.
                Ok(None) => tracing::info!("listening for business changes again"),
                Err(error) => {
                    tracing::warn!(%error, "listening for business changes failed; trying again");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
            self.invalidate();
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn read(pool: &PgPool) -> anyhow::Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    for business in businesses::load_all(pool).await? {
        let business = Arc::new(business);
        if let Some(number) = &business.phone_number {
            snapshot.by_number.insert(number.as_str().to_owned(), business.clone());
        }
        if business.is_default {
            snapshot.default = Some(business.clone());
        }
        snapshot.by_id.insert(business.profile.id, business);
    }
    Ok(snapshot)
}
