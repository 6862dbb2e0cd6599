//! The headers Bella puts on its messages, in one place: the publisher and the worker write them,
//! the worker and the dead-letter keeper read them, operators see them on a dead letter. (The
//! trace context travels as `traceparent` and `tracestate`: [`crate::trace_context`].)

use lapin::message::Delivery;
use lapin::types::{AMQPValue, FieldTable};

/// When a job was first published (Unix milliseconds), for the pickup latency the worker measures.
pub const PUBLISHED_MS: &str = "x-bella-published-ms";
/// The run number of the next delivery (1 for a new job).
pub const ATTEMPT: &str = "x-bella-attempt";
/// How the last run failed: `retryable`, `permanent`, `retry_after` or `needs_repair`.
pub const ERROR_CLASS: &str = "x-bella-error-class";
/// Why the last run failed (masked, at most 500 characters).
pub const ERROR: &str = "x-bella-error";
/// When the message went to the dead letters (Unix seconds).
pub const DEAD_AT: &str = "x-bella-dead-at";
/// Names one dead-lettering, so that the keeper keeps it once however often it is delivered.
pub const DEAD_ID: &str = "x-bella-dead-id";

/// A header of a delivery.
pub fn get<'a>(delivery: &'a Delivery, name: &str) -> Option<&'a AMQPValue> {
    delivery.properties.headers().as_ref().and_then(|h| h.inner().get(name))
}

/// A header's value as an integer, whatever width the publisher chose.
pub fn integer(value: Option<&AMQPValue>) -> Option<i64> {
    match value? {
        AMQPValue::LongLongInt(n) => Some(*n),
        AMQPValue::LongInt(n) => Some(i64::from(*n)),
        AMQPValue::LongUInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortInt(n) => Some(i64::from(*n)),
        AMQPValue::ShortShortInt(n) => Some(i64::from(*n)),
        _ => None,
    }
}

/// A header's value as text.
pub fn text(value: &AMQPValue) -> String {
    match value {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.to_string(),
        other => match integer(Some(other)) {
            Some(n) => n.to_string(),
            None => format!("{other:?}"),
        },
    }
}

/// Every header of a table as text, for the dead letters' record.
pub fn texts(table: Option<&FieldTable>) -> std::collections::BTreeMap<String, String> {
    table
        .map(|table| table.inner().iter().map(|(name, value)| (name.to_string(), text(value))).collect())
        .unwrap_or_default()
}
