//! Bella's workers.
//!
//! One consumer per job kind reads its quorum queue with manual acknowledgements. A delivery is
//! decoded, its job runs (each job applies its effect and records its workflow run in one
//! PostgreSQL transaction, keyed by the job's idempotency key), the result is posted to Redis for
//! the waiting call, and only then is the message acknowledged. A redelivered message finds its
//! run completed and simply reports the recorded outcome again.

pub mod consumer;
pub mod failpoints;
pub mod jobs;
pub mod llm;
pub mod sms;

pub use consumer::{Worker, WorkerOptions};
