-- A copy of each call's session, written after every turn. Redis holds the live session (and
-- arbitrates concurrent webhooks); this copy lets a call go on where it was when Redis restarts
-- without its data. Rows are deleted when Twilio reports the call ended, and pruned after a day.
create table call_sessions (
    call_sid text primary key,
    -- The session's turn: a copy never replaces a later one.
    turn integer not null,
    session jsonb not null,
    -- The TwiML answered for turn `reply_turn` (the latest), replayed when Twilio retries it.
    reply_turn integer not null,
    reply text not null,
    updated_at timestamptz not null default now()
);

create index call_sessions_updated_at on call_sessions (updated_at);
