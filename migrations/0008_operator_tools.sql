-- Operator tools: admin tokens with roles, the audit log, dead letters kept in PostgreSQL, the
-- queue controls workers obey, and each call's turns for its timeline.

-- Admin API and console tokens. Only a SHA-256 of the token is kept: a leaked table does not
-- give anyone access.
create table admin_tokens (
    admin_token_id uuid primary key,
    -- Who holds it ("alice", "deploy-bot"): written to the audit log with every action.
    name text not null check (length(name) between 1 and 100),
    role text not null check (role in ('viewer', 'operator')),
    -- Lowercase hex SHA-256 of the token.
    token_sha256 text not null check (token_sha256 ~ '^[0-9a-f]{64}$'),
    created_at timestamptz not null default now(),
    created_by text not null,
    last_used_at timestamptz,
    revoked_at timestamptz,
    constraint admin_tokens_sha256_unique unique (token_sha256)
);

-- Every operator action, mutating or refused, with who, why, on what, and what came of it.
create table audit_log (
    audit_id bigserial primary key,
    at timestamptz not null default now(),
    -- "token:alice", "cli:root", "console:alice".
    actor text not null,
    role text not null,
    -- The verb: "queues.pause", "dead_letters.retry", "workflows.resume", ...
    action text not null,
    -- What it applied to: the filter of a bulk verb, or the id of one thing.
    target jsonb not null default '{}',
    reason text not null,
    dry_run boolean not null default false,
    -- How many things it changed (or, in a dry run, would change).
    affected integer not null default 0,
    -- "ok", "nothing to do", or the error.
    result text not null
);

create index audit_log_at on audit_log (at desc);

-- Dead letters, moved here from RabbitMQ's dead-letter queues by the worker's keeper, so that an
-- operator can filter, inspect, retry and discard them one by one.
create table dead_letters (
    dead_letter_id uuid primary key,
    -- Identifies the dead-lettering event: a redelivered dead letter is kept once.
    dead_key text not null,
    kind text not null,
    -- The job's idempotency key; null when the message could not be decoded.
    job_key text,
    call_sid text,
    business_id uuid,
    -- The message exactly as it was published.
    payload bytea not null,
    -- The message's headers, as text.
    headers jsonb not null default '{}',
    error_class text,
    last_error text,
    -- Runs of the job before it was dead-lettered.
    attempts integer not null default 1,
    dead_at timestamptz not null,
    -- dead: waiting for an operator; retried: published again; discarded: given up, with a reason.
    status text not null default 'dead' check (status in ('dead', 'retried', 'discarded')),
    resolved_at timestamptz,
    resolved_by text,
    resolution text,
    constraint dead_letters_dead_key_unique unique (dead_key)
);

create index dead_letters_status on dead_letters (status, dead_at);
create index dead_letters_job_key on dead_letters (job_key);
create index dead_letters_call_sid on dead_letters (call_sid);

-- Per job kind: whether workers consume it. Every worker polls this table and stops or starts
-- its consumer within a second; it is in PostgreSQL so that a pause survives restarts (a drain
-- before a deploy must hold while the new workers start).
create table queue_controls (
    kind text primary key,
    paused boolean not null default false,
    reason text,
    updated_by text,
    updated_at timestamptz not null default now()
);

-- What each turn of a call heard and said, for the call's timeline. Written after the answer,
-- like the session copy.
create table call_turns (
    call_sid text not null,
    turn integer not null,
    at timestamptz not null default now(),
    -- What Twilio heard (SpeechResult) or the keys pressed (Digits).
    heard text,
    digits text,
    -- The dialogue's stage after the turn.
    stage text not null,
    -- The TwiML answered.
    reply text not null,
    primary key (call_sid, turn)
);

create index call_turns_at on call_turns (at);

-- An operator may cancel a run that has not finished; the worker then leaves it alone.
create index workflow_runs_business on workflow_runs (business_id, created_at);
