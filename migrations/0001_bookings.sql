-- Businesses, their resources, appointments and the workflow journal.
-- Never edit a migration once it has landed on main: add a new one (see migrations/README.md).

create extension if not exists btree_gist;

create table businesses (
    business_id uuid primary key,
    -- The Twilio number callers dial (E.164); a call's To chooses the business.
    phone_number text unique check (phone_number ~ '^\+[1-9][0-9]{6,14}$'),
    name text not null check (length(name) between 1 and 200),
    -- IANA zone name: every local time of this business is computed in it, never the server's.
    time_zone text not null,
    -- Weekly opening spans: {"mon": [{"open": "09:00:00", "close": "17:00:00"}], ...}.
    hours jsonb not null,
    -- Closed dates, in the business's local calendar.
    holidays date[] not null default '{}',
    appointment_minutes integer not null check (appointment_minutes between 5 and 480),
    -- The earliest a caller may book, counted from the call.
    min_notice_minutes integer not null default 0 check (min_notice_minutes >= 0),
    -- Language codes; the first is the greeting language.
    languages text[] not null default '{en}' check (languages <@ array['en', 'fr'] and cardinality(languages) > 0),
    transfer_number text check (transfer_number ~ '^\+[1-9][0-9]{6,14}$'),
    -- Answers calls to numbers that no business claims, so a fresh install answers calls.
    is_default boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create unique index businesses_one_default on businesses (is_default) where is_default;

-- A chair or room that can hold one appointment at a time.
create table resources (
    resource_id uuid primary key,
    business_id uuid not null references businesses on delete cascade,
    name text not null,
    created_at timestamptz not null default now(),
    unique (business_id, name)
);

create table appointments (
    appointment_id uuid primary key,
    -- What the caller quotes: 8 characters derived from booking_key.
    reference text not null unique,
    business_id uuid not null references businesses,
    resource_id uuid not null references resources,
    -- The call that booked it; null for bookings made by an operator.
    call_sid text,
    -- Idempotency: 'book:{CallSid}' admits one booking per call, however often a job is delivered.
    booking_key text not null,
    name text not null check (length(name) between 1 and 200),
    phone text not null check (phone ~ '^\+[1-9][0-9]{6,14}$'),
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    status text not null default 'booked' check (status in ('booked', 'cancelled')),
    language text not null default 'en' check (language in ('en', 'fr')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint appointments_booking_key_unique unique (booking_key),
    constraint appointments_ends_after_start check (ends_at > starts_at),
    -- Two booked appointments never overlap on one resource: double booking is impossible.
    constraint appointments_no_overlap exclude using gist (
        resource_id with =,
        tstzrange(starts_at, ends_at, '[)') with &&
    ) where (status = 'booked')
);

create index appointments_business_starts on appointments (business_id, starts_at) where status = 'booked';
create index appointments_call_sid on appointments (call_sid);
create index appointments_phone on appointments (phone);

-- One run per job: the booking, later its text message, and so on.
create table workflow_runs (
    workflow_run_id uuid primary key,
    kind text not null,
    -- Derived from the CallSid and the intent: a redelivered job finds its run instead of starting one.
    idempotency_key text not null,
    call_sid text,
    business_id uuid references businesses,
    status text not null check (status in ('running', 'completed', 'failed')),
    input jsonb not null,
    output jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint workflow_runs_idempotency_key_unique unique (idempotency_key)
);

create index workflow_runs_call_sid on workflow_runs (call_sid);
create index workflow_runs_status on workflow_runs (status, created_at);

-- The journal of a run: one row per step, updated in the transaction that does the step's work.
create table workflow_steps (
    workflow_run_id uuid not null references workflow_runs on delete cascade,
    step text not null,
    -- Order of the step in its workflow.
    position integer not null,
    status text not null check (status in ('running', 'succeeded', 'failed')),
    attempts integer not null default 0,
    error_class text check (error_class in ('retryable', 'permanent', 'retry_after', 'needs_repair')),
    last_error text,
    input jsonb,
    output jsonb,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    primary key (workflow_run_id, step)
);
