//! Names of everything Bella keeps in Redis and RabbitMQ, under one namespace.
//!
//! The namespace (`BELLA_NAMESPACE`, default `bella`) lets several installations, or several
//! tests running at once, share one Redis and one RabbitMQ without seeing each other's keys and
//! queues. Redis keys for one call share a `{CallSid}` hash tag, so they stay in one slot should
//! Redis ever run as a cluster (the session script touches two of them atomically).

use std::fmt;
use std::sync::Arc;

use workflows::CallSid;
use workflows::jobs::JobKind;

#[derive(Clone, PartialEq, Eq)]
pub struct Namespace(Arc<str>);

impl Namespace {
    pub fn new(name: &str) -> Self {
        Self(Arc::from(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The session of a call (a hash: `version`, `data`).
    pub fn session_key(&self, call: &CallSid) -> String {
        format!("{}:session:{{{call}}}", self.0)
    }

    /// The TwiML returned for one turn of a call, replayed to a retried webhook.
    pub fn reply_key(&self, call: &CallSid, turn: u32) -> String {
        format!("{}:reply:{{{call}}}:{turn}", self.0)
    }

    /// The times callers hold at a business (a sorted set; see `redis::Holds`).
    pub fn holds_key(&self, business: workflows::BusinessId) -> String {
        format!("{}:holds:{business}", self.0)
    }

    /// A job's result, written by the worker once its effect has committed.
    pub fn result_key(&self, idempotency_key: &str) -> String {
        format!("{}:result:{idempotency_key}", self.0)
    }

    /// The channel on which the worker announces a new job result.
    pub fn results_channel(&self) -> String {
        format!("{}:results", self.0)
    }

    /// The topic exchange every job is published to.
    pub fn jobs_exchange(&self) -> String {
        format!("{}.jobs", self.0)
    }

    /// The exchange that receives messages a queue gives up on.
    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.jobs.dead", self.0)
    }

    /// The topic exchange of the retry queues (routing key `{kind}.{tier}`).
    pub fn retry_exchange(&self) -> String {
        format!("{}.retry", self.0)
    }

    /// The retry queue of one delay tier, such as `bella.retry.30s`.
    pub fn retry_queue(&self, tier_label: &str) -> String {
        format!("{}.retry.{tier_label}", self.0)
    }

    pub fn queue(&self, kind: JobKind) -> String {
        format!("{}.{}", self.0, kind.name())
    }

    pub fn dead_letter_queue(&self, kind: JobKind) -> String {
        format!("{}.{}.dead", self.0, kind.name())
    }

    /// The sorted set of a kind's jobs published and not finished.
    pub fn pending_key(&self, kind: JobKind) -> String {
        format!("{}:pending:{}", self.0, kind.name())
    }

    /// A worker's heartbeat: what it consumes and holds in flight, refreshed every second.
    pub fn worker_key(&self, worker: &str) -> String {
        format!("{}:worker:{worker}", self.0)
    }

    /// The pattern matching every worker's heartbeat.
    pub fn worker_pattern(&self) -> String {
        format!("{}:worker:*", self.0)
    }

    /// A console session.
    pub fn console_session_key(&self, id: &str) -> String {
        format!("{}:console:{id}", self.0)
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({})", self.0)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
