-- Trace context (W3C traceparent and tracestate) of the request or job that wrote an outbox row,
-- so the job the relay publishes later joins the same trace; and the trace id of each workflow
-- run, so an operator can go from a run to its trace.
alter table outbox add column trace_context jsonb;
alter table workflow_runs add column trace_id text;
