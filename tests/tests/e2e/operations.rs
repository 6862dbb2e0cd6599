//! Operator tools: queues paused, resumed and drained; dead letters retried (dry run first),
//! discarded; workflows resumed after an edit, and from their failed step; roles; the audit log;
//! a call's timeline. Through the admin API and the `bella admin` CLI, against real services.

use std::time::{Duration, Instant};

use e2e::fake_twilio::Answer;
use e2e::{TestApp, booking_job, call_sid, open_day, spawn_app, spawn_with, spawn_with_twilio, spoken_day};
use serde_json::{Value, json};
use workflows::jobs::{Job, JobKind, JobOutcome};

const WAIT: Duration = Duration::from_secs(20);

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(&app.pool).await.unwrap()
}

async fn audit(app: &TestApp, action: &str) -> Vec<(String, String, bool, i32, String)> {
    sqlx::query_as("select actor, reason, dry_run, affected, result from audit_log where action = $1 order by audit_id")
        .bind(action)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

fn kind_stats<'a>(queues: &'a Value, kind: &str) -> &'a Value {
    queues.as_array().unwrap().iter().find(|q| q["kind"] == kind).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_kind_is_not_consumed_until_it_is_resumed() {
    let app = spawn_with(&[]).await;
    let (status, body) = app
        .admin_post("/admin/api/queues/pause", json!({ "kinds": ["book_appointment"], "reason": "deploy" }), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["affected"], 1);
    // Every worker obeys within a second: the broker sees no consumer.
    let paused_at = Instant::now();
    wait_for("the consumer to stop", async || app.consumers(JobKind::BookAppointment).await == 0).await;
    assert!(paused_at.elapsed() < Duration::from_millis(1_500), "took {:?}", paused_at.elapsed());

    let job = booking_job(&call_sid(1), 1, 3);
    app.publish(&Job::BookAppointmentV1(job.clone())).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(&app, "select count(*) from appointments").await, 0);
    let (_, queues) = app.admin_get("/admin/api/queues", None).await;
    let booking = kind_stats(&queues, "book_appointment");
    assert_eq!(booking["paused"], true, "{queues}");
    assert_eq!(booking["ready"], 1, "{queues}");
    assert_eq!(booking["pause_reason"], "deploy");
    // Other kinds go on.
    assert_eq!(kind_stats(&queues, "send_sms")["paused"], false);

    // Pausing again changes nothing, and says so.
    let (_, again) = app
        .admin_post("/admin/api/queues/pause", json!({ "kinds": ["book_appointment"], "reason": "deploy" }), None)
        .await;
    assert_eq!(again["affected"], 0);
    assert_eq!(again["message"], "already paused");

    let (status, _) = app
        .admin_post("/admin/api/queues/resume", json!({ "kinds": ["book_appointment"], "reason": "deployed" }), None)
        .await;
    assert_eq!(status, 200);
    let outcome = app.outcome(&job.idempotency_key, WAIT).await;
    assert!(matches!(outcome, Some(JobOutcome::Booked { .. })), "{outcome:?}");

    let pauses = audit(&app, "queues.pause").await;
    assert_eq!(pauses.len(), 2);
    assert_eq!(pauses[0].0, "token:admin-token");
    assert_eq!((pauses[0].1.as_str(), pauses[0].3), ("deploy", 1));
    assert_eq!((pauses[1].3, pauses[1].4.as_str()), (0, "already paused"));
    assert_eq!(audit(&app, "queues.resume").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_finishes_the_jobs_in_flight_and_loses_none() {
    // Each booking holds its delivery for a while after committing: the drain catches them in
    // flight.
    let app = spawn_with(&[("BELLA_FAILPOINTS", "after_commit:book_appointment=delay:1500")]).await;
    let jobs: Vec<_> = (0..4).map(|n| booking_job(&call_sid(10 + n), 1, 3 + 7 * i64::from(n))).collect();
    for job in &jobs {
        app.publish(&Job::BookAppointmentV1(job.clone())).await;
    }
    wait_for("jobs in flight", async || {
        let (_, queues) = app.admin_get("/admin/api/queues", None).await;
        kind_stats(&queues, "book_appointment")["unacked"].as_u64().unwrap_or(0) > 0
    })
    .await;

    let (ok, stdout, stderr) =
        app.bella_admin(&["queues", "drain", "book_appointment", "--reason", "deploy 42", "--timeout", "30s"]).await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("drained: nothing in flight"), "{stdout}");
    // Every job that was in flight finished and was acknowledged: all four booked, none left.
    assert_eq!(count(&app, "select count(*) from appointments").await, 4);
    assert_eq!(
        count(&app, "select count(*) from workflow_runs where status = 'completed' and kind = 'book_appointment'")
            .await,
        4
    );

    // New work waits while drained.
    let late = booking_job(&call_sid(20), 1, 40);
    app.publish(&Job::BookAppointmentV1(late.clone())).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, queues) = app.admin_get("/admin/api/queues", None).await;
    assert_eq!(kind_stats(&queues, "book_appointment")["ready"], 1, "{queues}");

    let (ok, stdout, _) = app.bella_admin(&["queues", "resume", "--all", "--reason", "deploy 42 done"]).await;
    assert!(ok);
    assert!(stdout.contains("1 kind resumed"), "{stdout}");
    assert!(matches!(app.outcome(&late.idempotency_key, WAIT).await, Some(JobOutcome::Booked { .. })));
    assert_eq!(count(&app, "select count(*) from appointments").await, 5);
    let drains = audit(&app, "queues.drain").await;
    assert_eq!(drains.len(), 1);
    assert!(drains[0].0.starts_with("cli:"), "{drains:?}");
    assert_eq!(drains[0].1, "deploy 42");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_retried_in_bulk_after_a_dry_run_each_once() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=permanent*3")]).await;
    let jobs: Vec<_> = (0..3).map(|n| booking_job(&call_sid(30 + n), 1, 3 + 7 * i64::from(n))).collect();
    for job in &jobs {
        app.publish(&Job::BookAppointmentV1(job.clone())).await;
    }
    wait_for("three dead letters", async || app.dead_letters(JobKind::BookAppointment).await.len() == 3).await;
    let (_, listed) = app.admin_get("/admin/api/dead-letters?kind=book_appointment&error_class=permanent", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");

    // Inspect one: the payload's phone number is masked.
    let id = listed[0]["dead_letter_id"].as_str().unwrap();
    let (status, detail) = app.admin_get(&format!("/admin/api/dead-letters/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(detail["payload"]["phone"], "+1******0123", "{detail}");
    assert!(detail["last_error"].as_str().unwrap().contains("failpoint"));
    assert_eq!(detail["run"]["status"], "dead_lettered");

    let (ok, stdout, stderr) = app
        .bella_admin(&["dead-letters", "retry", "--kind", "book_appointment", "--dry-run", "--reason", "db fixed"])
        .await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("dry run: 3 dead letters would be retried"), "{stdout}");
    assert_eq!(count(&app, "select count(*) from dead_letters where status = 'dead'").await, 3);
    assert_eq!(count(&app, "select count(*) from appointments").await, 0);

    let (ok, stdout, stderr) = app
        .bella_admin(&["dead-letters", "retry", "--kind", "book_appointment", "--rate", "50", "--reason", "db fixed"])
        .await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("3 dead letters retried"), "{stdout}");
    for job in &jobs {
        let outcome = app.outcome(&job.idempotency_key, WAIT).await;
        assert!(matches!(outcome, Some(JobOutcome::Booked { .. })), "{outcome:?}");
    }
    // Asking again finds nothing left to retry.
    let (ok, stdout, _) = app.bella_admin(&["dead-letters", "retry", "--all", "--reason", "again"]).await;
    assert!(ok);
    assert!(stdout.contains("0 dead letters retried"), "{stdout}");

    assert_eq!(count(&app, "select count(*) from appointments").await, 3);
    assert_eq!(count(&app, "select count(*) from dead_letters where status = 'retried'").await, 3);
    assert_eq!(count(&app, "select count(*) from outbox where idempotency_key like 'retry:%'").await, 3);
    assert_eq!(
        count(&app, "select count(*) from workflow_runs where status = 'completed' and kind = 'book_appointment'")
            .await,
        3
    );
    let rows = audit(&app, "dead_letters.retry").await;
    let summary: Vec<(bool, i32)> = rows.iter().map(|r| (r.2, r.3)).collect();
    assert_eq!(summary, [(true, 3), (false, 3), (false, 0)]);
    assert!(rows.iter().all(|r| r.0.starts_with("cli:")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_can_be_discarded_with_a_reason() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:cancel_appointment=permanent")]).await;
    let job = Job::CancelAppointmentV1(workflows::jobs::CancelAppointment {
        idempotency_key: "cancel:test".into(),
        call_sid: workflows::CallSid::parse(&call_sid(40)).unwrap(),
        business_id: adapters::postgres::businesses::DEFAULT_BUSINESS_ID,
        appointment_id: uuid::Uuid::now_v7(),
        requested_at: chrono::Utc::now(),
        deferred: false,
    });
    app.publish(&job).await;
    wait_for("the dead letter", async || app.dead_letters(JobKind::CancelAppointment).await.len() == 1).await;
    let (status, body) =
        app.admin_post("/admin/api/dead-letters/discard", json!({ "reason": "nothing to cancel" }), None).await;
    assert_eq!(status, 400, "a bulk discard needs a filter or all: {body}");
    let (status, body) = app
        .admin_post(
            "/admin/api/dead-letters/discard",
            json!({ "kind": "cancel_appointment", "reason": "nothing to cancel" }),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["affected"], 1);
    let (status, resolution): (String, Option<String>) =
        sqlx::query_as("select status, resolution from dead_letters").fetch_one(&app.pool).await.unwrap();
    assert_eq!((status.as_str(), resolution.as_deref()), ("discarded", Some("nothing to cancel")));
    assert_eq!(count(&app, "select count(*) from workflow_runs where status = 'cancelled'").await, 1);
}

async fn dead_lettered_run(app: &TestApp) -> String {
    let mut id = String::new();
    wait_for("a dead-lettered run", async || {
        let (_, runs) = app.admin_get("/admin/api/workflows?status=dead_lettered", None).await;
        match runs.as_array().and_then(|r| r.first()) {
            Some(run) => {
                id = run["workflow_run_id"].as_str().unwrap().to_owned();
                true
            }
            None => false,
        }
    })
    .await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_booking_is_resumed_after_fixing_its_name() {
    let app = spawn_with(&[("BELLA_FAILPOINTS", "before:book_appointment=needs_repair*1")]).await;
    let mut job = booking_job(&call_sid(50), 1, 3);
    job.name = workflows::extract::PersonName::parse("Mary Trembly").unwrap();
    app.publish(&Job::BookAppointmentV1(job.clone())).await;
    let run = dead_lettered_run(&app).await;

    // A viewer may look but not resume.
    let (ok, token, stderr) = app.bella_admin(&["token", "create", "--name", "auditor", "--role", "viewer"]).await;
    assert!(ok, "{stderr}");
    let viewer = token.trim();
    let (status, _) = app.admin_get(&format!("/admin/api/workflows/{run}"), Some(viewer)).await;
    assert_eq!(status, 200);
    let resume = format!("/admin/api/workflows/{run}/resume");
    let body = json!({ "set": { "name": "Marie Tremblay" }, "reason": "caller said Marie Tremblay" });
    let (status, _) = app.admin_post(&resume, body.clone(), Some(viewer)).await;
    assert_eq!(status, 403);

    // A bad edit names the field to fix and changes nothing.
    let (status, error) = app.admin_post(&resume, json!({ "set": { "nom": "x" }, "reason": "typo" }), None).await;
    assert_eq!(status, 400);
    assert!(error["error"].as_str().unwrap().contains("has no field \"nom\""), "{error}");
    // A time is not a correction: it would skip the business's hours (a booking at 3 am).
    let night = json!({ "set": { "starts_at": "\"2030-01-01T08:00:00Z\"" }, "reason": "move it" });
    let (status, error) = app.admin_post(&resume, night, None).await;
    assert_eq!(status, 400, "{error}");
    assert!(error["error"].as_str().unwrap().contains("cannot be changed on a resume"), "{error}");

    let (status, outcome) = app.admin_post(&resume, body.clone(), None).await;
    assert_eq!(status, 200, "{outcome}");
    // The repair failure came before any step began: the run starts over, with the new name.
    assert_eq!(outcome["message"], "resumed from the start after editing name");
    let booked = app.outcome(&job.idempotency_key, WAIT).await;
    assert!(matches!(booked, Some(JobOutcome::Booked { .. })), "{booked:?}");
    let name: String = sqlx::query_scalar("select name from appointments").fetch_one(&app.pool).await.unwrap();
    assert_eq!(name, "Marie Tremblay");

    let (_, detail) = app.admin_get(&format!("/admin/api/workflows/{run}"), None).await;
    assert_eq!(detail["status"], "completed");
    assert_eq!(detail["input"]["name"], "Marie Tremblay");
    assert_eq!(detail["steps"][0]["step"], "reserve_slot");
    assert_eq!(detail["steps"][0]["status"], "succeeded");
    assert_eq!(detail["dead_letters"][0]["status"], "retried");
    // Resuming a completed run does nothing.
    let (_, again) = app.admin_post(&resume, json!({ "reason": "again" }), None).await;
    assert_eq!(again["affected"], 0, "{again}");

    let rows = audit(&app, "workflows.resume").await;
    assert_eq!(rows.len(), 2, "the refused and invalid requests leave no row: {rows:?}");
    assert_eq!(rows[0].0, "token:admin-token");
    assert_eq!(rows[0].1, "caller said Marie Tremblay");
    assert_eq!(rows[0].3, 1);
    // From the CLI, the audit shows it too.
    let (ok, stdout, _) = app.bella_admin(&["audit", "--action", "workflows."]).await;
    assert!(ok);
    assert!(stdout.contains("workflows.resume") && stdout.contains("caller said Marie Tremblay"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_skips_the_steps_that_succeeded() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    // The booking succeeds; its confirmation text is refused for good (a bad number).
    twilio.script([Answer::Refuse(21211)]);
    app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    let texts = app.settled_texts(1).await;
    assert_eq!(texts[0].2, "failed");
    let (run,): (uuid::Uuid,) =
        sqlx::query_as("select workflow_run_id from workflow_runs where kind = 'book_appointment'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let (_, before) = app.admin_get(&format!("/admin/api/workflows/{run}"), None).await;
    let steps: Vec<(&str, &str)> = before["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("reserve_slot", "succeeded"), ("sms_confirmation", "failed")]);

    let (ok, stdout, stderr) =
        app.bella_admin(&["workflows", "resume", &run.to_string(), "--reason", "number checked with the caller"]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("resumed from its text message"), "{stdout}");
    wait_for("the text to be sent", async || twilio.created().len() == 1).await;

    let (_, after) = app.admin_get(&format!("/admin/api/workflows/{run}"), None).await;
    let reserve = &after["steps"][0];
    assert_eq!((reserve["step"].as_str(), reserve["attempts"].as_i64()), (Some("reserve_slot"), Some(1)));
    wait_for("the text step to succeed", async || {
        let (_, after) = app.admin_get(&format!("/admin/api/workflows/{run}"), None).await;
        after["steps"][1]["status"] == "succeeded"
    })
    .await;
    assert_eq!(count(&app, "select count(*) from appointments").await, 1);
    assert_eq!(twilio.create_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_have_roles_and_every_admin_route_needs_one() {
    let app = spawn_with(&[]).await;
    let (status, _) = app.admin_get("/admin/api/queues", Some("")).await;
    assert_eq!(status, 401);
    let (status, _) = app.admin_get("/admin/api/queues", Some("bella_0000")).await;
    assert_eq!(status, 401);

    let (status, created) =
        app.admin_post("/admin/api/tokens", json!({ "name": "alice", "role": "operator" }), None).await;
    assert_eq!(status, 201, "{created}");
    let alice = created["token"].as_str().unwrap().to_owned();
    assert!(alice.starts_with("bella_"));
    let (status, me) = app.admin_get("/admin/api/whoami", Some(&alice)).await;
    assert_eq!(status, 200);
    let id = created["id"].as_str().unwrap().replace('-', "");
    assert_eq!(me, json!({ "name": format!("token:alice#{}", &id[24..]), "role": "operator" }));
    // Only its hash is stored.
    let stored: String = sqlx::query_scalar("select token_sha256 from admin_tokens where name = 'alice'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_ne!(stored, alice);
    assert_eq!(count(&app, &format!("select count(*) from admin_tokens where token_sha256 like '%{alice}%'")).await, 0);

    let (_, viewer) =
        app.admin_post("/admin/api/tokens", json!({ "name": "bob", "role": "viewer" }), Some(&alice)).await;
    let bob = viewer["token"].as_str().unwrap().to_owned();
    let (status, _) = app.admin_get("/admin/api/dead-letters", Some(&bob)).await;
    assert_eq!(status, 200);
    let (status, body) =
        app.admin_post("/admin/api/queues/pause", json!({ "kinds": ["send_sms"], "reason": "x" }), Some(&bob)).await;
    assert_eq!(status, 403);
    assert!(body["error"].as_str().unwrap().contains("viewer"), "{body}");
    let (status, _) =
        app.admin_post("/admin/api/tokens", json!({ "name": "eve", "role": "operator" }), Some(&bob)).await;
    assert_eq!(status, 403);
    assert_eq!(count(&app, "select count(*) from queue_controls where paused").await, 0);

    // A revoked token stops working.
    let id = created["id"].as_str().unwrap();
    let (ok, stdout, stderr) = app.bella_admin(&["token", "revoke", id, "--reason", "left the team"]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("revoked"), "{stdout}");
    let (status, _) = app.admin_get("/admin/api/whoami", Some(&alice)).await;
    assert_eq!(status, 401);
    // Mutations need a reason.
    let (status, _) =
        app.admin_post("/admin/api/queues/pause", json!({ "kinds": ["send_sms"], "reason": "  " }), None).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_has_a_timeline_and_its_appointment_can_be_cancelled() {
    let (app, twilio) = spawn_with_twilio(&[]).await;
    let reference = app.book_by_phone("+14165550123", "Marie Tremblay", open_day(), "2 pm").await;
    app.settled_texts(1).await;
    let sid: String = sqlx::query_scalar("select call_sid from appointments").fetch_one(&app.pool).await.unwrap();

    let (status, events) = app.admin_get(&format!("/admin/api/calls/{sid}/timeline"), None).await;
    assert_eq!(status, 200, "{events}");
    let events = events.as_array().unwrap();
    let sources: Vec<&str> = events.iter().map(|e| e["source"].as_str().unwrap()).collect();
    for source in ["turn", "job", "appointment", "text"] {
        assert!(sources.contains(&source), "no {source} in {sources:?}");
    }
    let heard: Vec<&str> = events.iter().filter_map(|e| e["detail"]["heard"].as_str()).collect();
    assert!(heard.iter().any(|h| h.contains("Marie Tremblay")), "{heard:?}");
    let said = events.iter().filter_map(|e| e["detail"]["said"].as_str()).collect::<Vec<_>>().join(" ");
    assert!(!said.contains("4165550123") && !said.contains("416 555 0123"), "{said}");
    assert!(said.to_lowercase().contains("marie"), "{said}");

    let (ok, stdout, stderr) = app.bella_admin(&["calls", "show", &sid]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("heard") && stdout.contains("book_appointment job completed"), "{stdout}");

    let (status, outcome) = app
        .admin_post(&format!("/admin/api/appointments/{reference}/cancel"), json!({ "reason": "caller emailed" }), None)
        .await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["affected"], 1);
    wait_for("the cancellation", async || {
        count(&app, "select count(*) from appointments where status = 'cancelled'").await == 1
    })
    .await;
    wait_for("the cancellation text", async || twilio.created().len() == 2).await;
    let kinds: Vec<String> =
        sqlx::query_scalar("select kind from sms_messages order by created_at").fetch_all(&app.pool).await.unwrap();
    assert_eq!(kinds, ["confirmation", "cancelled"]);
    // Cancelling again changes nothing.
    let (_, again) = app
        .admin_post(&format!("/admin/api/appointments/{reference}/cancel"), json!({ "reason": "twice" }), None)
        .await;
    assert_eq!(again["affected"], 0, "{again}");
}

/// A viewer reading a call's timeline sees no whole phone number, in any form it took: said in
/// words ("six one three five five five…"), keyed, read back by Bella ("6 1 3, 5 5 5, …").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_timeline_masks_numbers_said_keyed_and_read_back() {
    let app = spawn_app().await;
    let (ok, token, stderr) = app.bella_admin(&["token", "create", "--name", "auditor", "--role", "viewer"]).await;
    assert!(ok, "{stderr}");
    let viewer = token.trim().to_owned();
    // Each turn's record is written just after its answer: wait for the last one (the "yes").
    let timeline = async |call_sid: &str| -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let (status, events) = app.admin_get(&format!("/admin/api/calls/{call_sid}/timeline"), Some(&viewer)).await;
            assert_eq!(status, 200, "{events}");
            let text = events.to_string();
            if text.contains("heard \u{201c}yes\u{201d}") || Instant::now() > deadline {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };

    // A number said in words, read back in digits.
    let mut said = app.call("anonymous");
    said.dial().await.unwrap();
    said.say(&format!("this is Ann Lee, {} at 1 pm", spoken_day(open_day()))).await.unwrap();
    let heard = said.say("six one three five five five zero one four two").await.unwrap();
    assert!(heard.text().contains("6 1 3, 5 5 5, 0 1 4 2"), "{}", heard.text());
    said.say("yes").await.unwrap();
    let text = timeline(said.call_sid()).await;
    for whole in ["6 1 3, 5 5 5, 0 1 4 2", "six one three five five five", "5550142", "5 5 5, 0"] {
        assert!(!text.contains(whole), "{whole:?} in the timeline: {text}");
    }
    // The last four digits stay, so that an operator can tell numbers apart.
    assert!(text.contains("zero one four two") && text.contains("0 1 4 2"), "{text}");

    // A number keyed after part of one was said.
    let mut keyed = app.call("anonymous");
    keyed.dial().await.unwrap();
    keyed.say(&format!("this is Ann Lee, {} at 2 pm", spoken_day(open_day()))).await.unwrap();
    let heard = keyed.say("six four seven five five").await.unwrap();
    assert!(heard.text().contains("keypad"), "{}", heard.text());
    let heard = keyed.press("6475550188").await.unwrap();
    assert!(heard.text().contains("6 4 7, 5 5 5, 0 1 8 8"), "{}", heard.text());
    keyed.say("yes").await.unwrap();
    let text = timeline(keyed.call_sid()).await;
    for whole in ["6475550188", "6 4 7, 5 5 5, 0 1 8 8", "5550188"] {
        assert!(!text.contains(whole), "{whole:?} in the timeline: {text}");
    }
    assert!(text.contains("0188"), "{text}");
    let (ok, stdout, _) = app.bella_admin(&["calls", "show", keyed.call_sid()]).await;
    assert!(ok);
    assert!(!stdout.contains("5 5 5, 0 1 8 8") && !stdout.contains("6475550188"), "{stdout}");
}

/// The audit log's actor cannot be spoofed: `admin-token` (ADMIN_TOKEN's name) is reserved, a name
/// is taken once, case aside, and a token acts under its name and the end of its id. A token's
/// last use is written at most once a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_names_cannot_pass_for_another_holder() {
    let app = spawn_app().await;
    for reserved in ["admin-token", "ADMIN_TOKEN", "Admin-Token"] {
        let (status, body) =
            app.admin_post("/admin/api/tokens", json!({ "name": reserved, "role": "operator" }), None).await;
        assert_eq!(status, 400, "{reserved}: {body}");
        assert!(body["error"].as_str().unwrap().contains("reserved"), "{body}");
    }
    let (status, created) =
        app.admin_post("/admin/api/tokens", json!({ "name": "alice", "role": "operator" }), None).await;
    assert_eq!(status, 201, "{created}");
    for again in ["alice", "Alice", " ALICE "] {
        let (status, body) =
            app.admin_post("/admin/api/tokens", json!({ "name": again, "role": "viewer" }), None).await;
        assert_eq!(status, 409, "{again}: {body}");
        assert!(body["error"].as_str().unwrap().contains("exists already"), "{body}");
    }
    let (ok, _, stderr) = app.bella_admin(&["token", "create", "--name", "admin-token", "--role", "operator"]).await;
    assert!(!ok && stderr.contains("reserved"), "{stderr}");

    let token = created["token"].as_str().unwrap();
    let id = created["id"].as_str().unwrap().replace('-', "");
    let (status, _) = app
        .admin_post("/admin/api/queues/pause", json!({ "kinds": ["send_sms"], "reason": "test" }), Some(token))
        .await;
    assert_eq!(status, 200);
    let actor: String = app.scalar("select actor from audit_log where action = 'queues.pause'").await;
    assert_eq!(actor, format!("token:alice#{}", &id[24..]));

    // Used twice within a minute: one write.
    let first: Option<chrono::DateTime<chrono::Utc>> =
        app.scalar("select last_used_at from admin_tokens where name = 'alice'").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, _) = app.admin_get("/admin/api/whoami", Some(token)).await;
    assert_eq!(status, 200);
    let second: Option<chrono::DateTime<chrono::Utc>> =
        app.scalar("select last_used_at from admin_tokens where name = 'alice'").await;
    assert!(first.is_some());
    assert_eq!(first, second, "last_used_at was written again within the minute");
}

/// `bella admin` reads and changes rows; changing the schema is `bella migrate`'s job. Pointed at
/// a database that was never migrated, it says what to run and leaves the database as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bella_admin_asks_for_bella_migrate_and_leaves_the_schema_alone() {
    let app = spawn_app().await;
    let bare = app.bare_database().await;
    let (ok, _, stderr) = app.bella_admin_with(&[("DATABASE_URL", &bare)], &["appointments", "list"]).await;
    assert!(!ok, "bella admin succeeded on a database without a schema");
    assert!(stderr.contains("run `bella migrate` first"), "{stderr}");
    let pool = adapters::postgres::connect(&bare, 1).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("select count(*) from information_schema.tables where table_schema = 'public'")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(tables, 0, "bella admin created tables");
    // The migrated database of the same app is served as before.
    let (ok, stdout, stderr) = app.bella_admin(&["appointments", "list"]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("(none)"), "{stdout}");
}
