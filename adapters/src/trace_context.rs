//! W3C trace context, so that a call's webhooks and the jobs they start form one trace.
//!
//! Every webhook of a call joins the trace whose id is derived from the CallSid ([`join_call`]),
//! so the turns of one call are one trace even though each is a separate HTTP request, and an
//! operator can find a call's trace from its CallSid alone. Publishing a job injects the current
//! span's context as `traceparent` (and `tracestate`) headers ([`inject`]); the worker makes its
//! job span a child of it ([`adopt`]). Without an OpenTelemetry layer (no `OTEL_EXPORTER_OTLP_*`
//! configuration and no test harness), spans carry no context and nothing is injected.

use std::collections::HashMap;

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use sha2::{Digest as _, Sha256};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use workflows::CallSid;

/// The headers the context travels in.
const HEADERS: [&str; 2] = ["traceparent", "tracestate"];

/// The trace id of every span of a call.
pub fn call_trace_id(call: &CallSid) -> TraceId {
    let digest = Sha256::digest(call.as_str().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    TraceId::from_bytes(bytes)
}

/// Makes `span` (not yet entered) part of the call's trace, under a remote parent unique to
/// this request.
pub fn join_call(span: &tracing::Span, call: &CallSid) {
    let span_id = SpanId::from_bytes(rand::random::<[u8; 8]>());
    let parent = SpanContext::new(call_trace_id(call), span_id, TraceFlags::SAMPLED, true, TraceState::default());
    // Fails only when no OpenTelemetry layer is installed: then there is no trace to join.
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent));
}

/// The current span's context as W3C headers (empty without one), to store with work that is
/// published later (the outbox).
pub fn current() -> HashMap<String, String> {
    let context = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
    }
    carrier
}

/// The current span's context as AMQP headers, added to `table`.
pub fn inject(table: &mut FieldTable) {
    insert(table, current());
}

/// Stored context as AMQP headers, replacing any already in `table`.
pub fn insert(table: &mut FieldTable, carrier: HashMap<String, String>) {
    for (key, value) in carrier {
        table.insert(ShortString::from(key), AMQPValue::LongString(LongString::from(value.into_bytes())));
    }
}

/// Makes `span` (not yet entered) a child of the context carried in a message's headers.
pub fn adopt(span: &tracing::Span, headers: Option<&FieldTable>) {
    let Some(headers) = headers else { return };
    let mut carrier: HashMap<String, String> = HashMap::new();
    for name in HEADERS {
        if let Some(AMQPValue::LongString(value)) = headers.inner().get(name) {
            carrier.insert(name.to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned());
        }
    }
    if carrier.is_empty() {
        return;
    }
    let context = TraceContextPropagator::new().extract(&carrier);
    if context.span().span_context().is_valid() {
        let _ = span.set_parent(context);
    }
}

/// The trace id of `span`, when it has one (32 hex digits).
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then(|| span_context.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_has_one_stable_trace_id() {
        let call = CallSid::parse("CA0123456789abcdef0123456789abcdef").unwrap();
        let other = CallSid::parse("CA0123456789abcdef0123456789abcdee").unwrap();
        assert_eq!(call_trace_id(&call), call_trace_id(&call));
        assert_ne!(call_trace_id(&call), call_trace_id(&other));
        assert_eq!(call_trace_id(&call).to_string().len(), 32);
    }

    #[test]
    fn without_a_context_nothing_is_injected_or_adopted() {
        let mut table = FieldTable::default();
        inject(&mut table);
        assert!(table.inner().is_empty());
        adopt(&tracing::Span::none(), Some(&table));
        assert_eq!(trace_id(&tracing::Span::none()), None);
    }
}
