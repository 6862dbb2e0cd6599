-- LLM repair: a job whose deadline passed before it finished, and that nobody needs any more (the
-- caller was simply asked again), ends 'expired' rather than in the dead letters.
alter table workflow_runs drop constraint workflow_runs_status_check;
alter table workflow_runs add constraint workflow_runs_status_check
    check (status in ('running', 'retrying', 'completed', 'failed', 'dead_lettered', 'cancelled', 'expired'));
