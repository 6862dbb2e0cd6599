-- Text messages: a ledger row per message, and the numbers that asked for no more.

create table sms_messages (
    sms_message_id uuid primary key,
    -- One message per change of an appointment: '{kind}:{key of the job that made the change}'.
    ledger_key text not null,
    -- The run of the booking (or move, or cancellation) whose step this message is.
    parent_run_id uuid references workflow_runs on delete set null,
    appointment_id uuid references appointments on delete set null,
    business_id uuid not null references businesses,
    call_sid text,
    kind text not null check (kind in ('confirmation', 'rescheduled', 'cancelled', 'not_booked')),
    to_phone text not null check (to_phone ~ '^\+[1-9][0-9]{6,14}$'),
    body text not null,
    language text not null check (language in ('en', 'fr')),
    -- intended: not sent yet; submitting: a create request may have reached Twilio (reconcile
    -- before sending again); submitted and later: Twilio has it; simulated: no credentials;
    -- opted_out: the number said STOP; failed: a permanent error, recorded.
    status text not null check (status in ('intended', 'submitting', 'submitted', 'queued', 'sent', 'delivered',
                                           'undelivered', 'failed', 'simulated', 'opted_out')),
    twilio_sid text,
    error_code integer,
    error_message text,
    attempts integer not null default 0,
    -- When the last create request was sent: the reconciliation looks for messages since then.
    submitted_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint sms_messages_ledger_key_unique unique (ledger_key),
    constraint sms_messages_twilio_sid_unique unique (twilio_sid)
);

create index sms_messages_to_phone on sms_messages (to_phone);

-- Numbers that replied STOP (or ARRET…), or that Twilio reported as opted out (21610).
create table sms_opt_outs (
    phone text primary key check (phone ~ '^\+[1-9][0-9]{6,14}$'),
    keyword text not null,
    opted_out_at timestamptz not null default now()
);
