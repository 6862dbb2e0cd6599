//! What must hold after every fault, counted across the suite.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::TestApp;
use e2e::fake_twilio::FakeTwilio;
use workflows::jobs::{JobKind, RETRY_TIERS, tier_label};

use crate::calls::{Placed, Told};

/// Counts across every scenario.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub calls: usize,
    pub faults: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub sms_duplicated: usize,
    /// Runs not ended, outbox rows not published, texts not settled, messages left in a queue.
    pub stuck: usize,
    /// Calls that ended without a clear outcome, or were told it failed and yet were booked.
    pub unclear: usize,
    /// Calls that lost their place after a fault.
    pub started_over: usize,
    /// Bookings without a confirmation text.
    pub texts_missing: usize,
    /// Runs dead-lettered without a reason.
    pub reasonless: usize,
}

impl Tally {
    pub(crate) fn violations(&self) -> usize {
        self.lost
            + self.duplicated
            + self.sms_duplicated
            + self.stuck
            + self.unclear
            + self.started_over
            + self.texts_missing
            + self.reasonless
    }

    pub(crate) fn summary(&self) -> String {
        let mut line = format!(
            "fault injection: {} calls placed, {} faults injected, {} bookings lost, {} bookings duplicated, {} SMS duplicated",
            self.calls, self.faults, self.lost, self.duplicated, self.sms_duplicated
        );
        for (count, what) in [
            (self.stuck, "stuck"),
            (self.unclear, "calls without a clear outcome"),
            (self.started_over, "calls that started over"),
            (self.texts_missing, "bookings without a text"),
            (self.reasonless, "dead letters without a reason"),
        ] {
            if count > 0 {
                line.push_str(&format!(", {count} {what}"));
            }
        }
        line
    }
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.expect(sql)
}

async fn bookings_of(app: &TestApp, call_sid: &str) -> i64 {
    sqlx::query_scalar("select count(*) from appointments where call_sid = $1 and status = 'booked'")
        .bind(call_sid)
        .fetch_one(&app.pool)
        .await
        .expect("appointments")
}

/// Work not finished: runs running or waiting for a retry, outbox rows not published, texts not
/// settled, and calls told "booked" (or "a text will follow") without their booking yet.
async fn unfinished(app: &TestApp, calls: &[Placed]) -> (i64, i64) {
    let runs = count(app, "select count(*) from workflow_runs where status in ('running', 'retrying')").await;
    let outbox = count(app, "select count(*) from outbox where published_at is null").await;
    let texts = count(app, "select count(*) from sms_messages where status in ('intended', 'submitting')").await;
    let mut waiting = 0;
    for call in calls.iter().filter(|c| matches!(c.told, Told::Booked | Told::TextWillFollow)) {
        if bookings_of(app, &call.call_sid).await == 0 {
            waiting += 1;
        }
    }
    (runs + outbox + texts, waiting)
}

/// Waits (bounded) for the system to finish what it accepted, then counts this scenario's
/// violations.
pub(crate) async fn verify(
    scenario: &str,
    app: &TestApp,
    twilio: &FakeTwilio,
    calls: &[Placed],
    faults: usize,
    tally: &mut Tally,
) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (pending, waiting) = unfinished(app, calls).await;
        if pending == 0 && waiting == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut local = Tally { calls: calls.len(), faults, ..Tally::default() };
    for call in calls {
        let booked = bookings_of(app, &call.call_sid).await;
        match call.told {
            Told::Booked | Told::TextWillFollow if booked == 0 => local.lost += 1,
            Told::Failed | Told::Unclear if booked > 0 => local.unclear += 1,
            Told::Unclear => local.unclear += 1,
            _ => {}
        }
        local.duplicated += usize::try_from(booked.saturating_sub(1)).unwrap_or(0);
        if call.started_over {
            local.started_over += 1;
        }
        if call.told == Told::Unclear || call.started_over {
            println!("  {scenario}: call {} transcript: {:?}", call.call_sid, call.transcript);
        }
    }
    // Twilio received each text once: group what the fake created by recipient and body.
    let mut sent: BTreeMap<(String, String), usize> = BTreeMap::new();
    for message in twilio.created() {
        *sent.entry((message.to, message.body)).or_default() += 1;
    }
    local.sms_duplicated = sent.values().map(|n| n - 1).sum();
    local.texts_missing = usize::try_from(
        count(
            app,
            "select count(*) from appointments a where a.status = 'booked' and not exists (
                 select 1 from sms_messages m where m.appointment_id = a.appointment_id and m.kind = 'confirmation'
                    and m.status not in ('intended', 'submitting'))",
        )
        .await,
    )
    .unwrap_or(0);
    let (pending, _) = unfinished(app, calls).await;
    local.stuck = usize::try_from(pending).unwrap_or(0);
    local.reasonless = usize::try_from(
        count(
            app,
            "select count(*) from workflow_runs where status = 'dead_lettered' and coalesce(last_error, '') = ''",
        )
        .await,
    )
    .unwrap_or(0);
    let told = |t: Told| calls.iter().filter(|c| c.told == t).count();
    println!(
        "  {scenario}: {} calls ({} booked, {} told a text will follow, {} told it failed), {} faults; \
         lost {}, duplicated {}, SMS duplicated {}, stuck {}",
        local.calls,
        told(Told::Booked),
        told(Told::TextWillFollow),
        told(Told::Failed),
        faults,
        local.lost,
        local.duplicated,
        local.sms_duplicated,
        local.stuck,
    );
    add(tally, &local);
}

/// Messages (ready in the work queues, waiting in the retry tiers of a minute or less).
pub(crate) async fn queued(app: &TestApp) -> (u32, u32) {
    let names = &app.config.namespace;
    let mut work = 0;
    for kind in JobKind::ALL {
        work += app.queue_depth(&names.queue(kind)).await;
    }
    let mut retry = 0;
    for tier in RETRY_TIERS.into_iter().filter(|tier| tier.as_secs() <= 60) {
        retry += app.queue_depth(&names.retry_queue(&tier_label(tier))).await;
    }
    (work, retry)
}

/// Why runs were retried: their last errors, for the log.
pub(crate) async fn print_retries(scenario: &str, app: &TestApp) {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select kind, coalesce(last_error, '') from workflow_runs where attempts > 1 or last_error is not null",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap_or_default();
    for (kind, error) in rows {
        println!("  {scenario}: a {kind} job is being retried: {error}");
    }
}

/// Once every worker is gone: every work and retry queue must be empty, or a message was left
/// unacknowledged (it would have come back to a ready state when its consumer died).
pub(crate) async fn queues_drained(scenario: &str, app: &TestApp, tally: &mut Tally) {
    let names = &app.config.namespace;
    let work = JobKind::ALL.into_iter().map(|kind| names.queue(kind));
    let retry = RETRY_TIERS.into_iter().map(|tier| names.retry_queue(&tier_label(tier)));
    for queue in work.chain(retry) {
        let depth = app.queue_depth(&queue).await;
        if depth > 0 {
            println!("  {scenario}: {depth} messages left in {queue}");
            tally.stuck += usize::try_from(depth).unwrap_or(0);
        }
    }
}

fn add(total: &mut Tally, local: &Tally) {
    total.calls += local.calls;
    total.faults += local.faults;
    total.lost += local.lost;
    total.duplicated += local.duplicated;
    total.sms_duplicated += local.sms_duplicated;
    total.stuck += local.stuck;
    total.unclear += local.unclear;
    total.started_over += local.started_over;
    total.texts_missing += local.texts_missing;
    total.reasonless += local.reasonless;
}
