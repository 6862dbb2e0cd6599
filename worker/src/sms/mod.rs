//! Sending text messages: the gateway trait, and Twilio's Messages API behind it.

mod twilio;

pub use twilio::TwilioSms;

use std::time::Duration;

use chrono::{DateTime, Utc};
use workflows::E164;

/// A message Twilio accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub sid: String,
    /// Twilio's status (`queued`, `accepted`, `sent`…).
    pub status: String,
}

/// Why a message was not (or may not have been) sent.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// The request never reached Twilio (connection refused): safe to send again.
    #[error("not sent: {0}")]
    NotSent(String),
    /// The request may have reached Twilio (timeout, 5xx): look the message up before sending
    /// again.
    #[error("may or may not have been sent: {0}")]
    Ambiguous(String),
    /// Twilio asked us to wait (429).
    #[error("rate limited; retry after {0:?}")]
    RetryAfter(Duration),
    /// Twilio refused the message: nothing was sent.
    #[error("refused by Twilio ({code}): {message}")]
    Rejected { code: i32, message: String },
}

/// Twilio's error codes after which sending again is pointless: invalid number (21211), opted
/// out (21610), not SMS-capable (21614), unreachable handset (30003), landline or unreachable
/// carrier (30006).
pub const PERMANENT_CODES: [i32; 5] = [21211, 21610, 21614, 30003, 30006];

/// Something that sends text messages. Twilio in production; a fake HTTP server in tests.
#[async_trait::async_trait]
pub trait SmsGateway: Send + Sync + std::fmt::Debug {
    async fn send(&self, to: &E164, from: &E164, body: &str) -> Result<Sent, SmsError>;

    /// A message to `to` with exactly `body`, created since `since`, if Twilio has one.
    async fn find(&self, to: &E164, since: DateTime<Utc>, body: &str) -> Result<Option<Sent>, SmsError>;
}
