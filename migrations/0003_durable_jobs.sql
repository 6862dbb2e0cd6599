-- Durable jobs: runs that retry or end in dead letters, and the outbox.

-- A run can now wait between retries, or end in the dead letters (with its reason), or be
-- cancelled by an operator.
alter table workflow_runs drop constraint workflow_runs_status_check;
alter table workflow_runs add constraint workflow_runs_status_check
    check (status in ('running', 'retrying', 'completed', 'failed', 'dead_lettered', 'cancelled'));
-- Deliveries that ran this job (redeliveries and retries included).
alter table workflow_runs add column attempts integer not null default 0;
alter table workflow_runs add column error_class text
    check (error_class in ('retryable', 'permanent', 'retry_after', 'needs_repair'));
alter table workflow_runs add column last_error text;

-- Jobs accepted while the broker could not confirm them, and jobs chained from a job's
-- transaction (the text message after a booking): the relay publishes them.
create table outbox (
    outbox_id bigserial primary key,
    -- The job's idempotency key: a job enters the outbox at most once.
    idempotency_key text not null,
    kind text not null,
    routing_key text not null,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    -- When the relay may try (again); pushed back after a failed attempt.
    available_at timestamptz not null default now(),
    published_at timestamptz,
    attempts integer not null default 0,
    last_error text,
    constraint outbox_idempotency_key_unique unique (idempotency_key)
);

create index outbox_pending on outbox (available_at) where published_at is null;

-- Wakes the relay as soon as a job is written (it also polls, in case a notification is missed).
create function outbox_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('bella_outbox', new.outbox_id::text);
    return new;
end;
$$;

create trigger outbox_notify after insert on outbox for each row execute function outbox_notify();
