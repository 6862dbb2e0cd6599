//! One function per fault. Each has its own database, namespace and queues.

use std::time::{Duration, Instant};

use bella::Roles;
use e2e::fake_twilio::{ACCOUNT_SID, FakeTwilio, SMS_FROM};
use e2e::process::WorkerProcess;
use e2e::{TestApp, booking_job, call_sid, services, spawn_roles};
use lapin::BasicProperties;
use tokio::task::JoinSet;
use workflows::jobs::{Job, JobKind};

use crate::calls::{Caller, Placed, Told, distinct_times, name};
use crate::check::{self, Tally};
use crate::failover;

/// Every scenario, one after another; `BELLA_FAULTS=redis,replicas` runs only those whose name
/// contains one of the words.
pub(crate) async fn all() -> Tally {
    let mut tally = Tally::default();
    let only = std::env::var("BELLA_FAULTS").ok().filter(|v| !v.trim().is_empty());
    let chosen = |name: &str| only.as_deref().is_none_or(|list| list.split(',').any(|word| name.contains(word.trim())));
    macro_rules! run {
        ($($scenario:path),* $(,)?) => {
            $(
                if chosen(stringify!($scenario)) {
                    $scenario(&mut tally).await;
                }
            )*
        };
    }
    run![
        worker_killed_between_commit_and_ack,
        worker_killed_in_the_sms_step,
        the_same_message_delivered_twice,
        a_poison_message,
        redis_restarted_mid_call,
        rabbitmq_stopped_while_calls_confirm,
        postgres_restarted_under_load,
        // The engines of production fail over, and Bella runs as replicas: engines of the test's
        // own (tests/src/engines), the shared services untouched.
        failover::replicas_share_the_calls,
        failover::rabbitmq_cluster_node_killed,
        failover::redis_failover_mid_call,
        failover::postgres_failover_under_load,
    ];
    tally
}

/// The api (with the outbox relay) in this process; texts go to a fake Twilio. Workers are
/// started by each scenario, as processes.
async fn setup() -> (TestApp, FakeTwilio) {
    let twilio = FakeTwilio::start().await;
    let uri = twilio.uri();
    let vars = [("TWILIO_ACCOUNT_SID", ACCOUNT_SID), ("TWILIO_API_BASE", uri.as_str()), ("TWILIO_SMS_FROM", SMS_FROM)];
    (spawn_roles(&vars, Roles::API).await, twilio)
}

pub(crate) async fn worker(app: &TestApp, failpoints: Option<&str>, kind: JobKind) -> WorkerProcess {
    let extra: Vec<(&str, &str)> = failpoints.map(|f| ("BELLA_FAILPOINTS", f)).into_iter().collect();
    WorkerProcess::start(app, &extra, kind).await
}

/// Places `count` whole calls at once, callers `first..first + count`.
async fn place(app: &TestApp, first: usize, count: usize) -> Vec<Placed> {
    let times = distinct_times(first + count);
    let mut calls = JoinSet::new();
    for (n, when) in times.into_iter().enumerate().skip(first) {
        let caller = Caller::new(app, n);
        calls.spawn(async move { caller.place(&name(n), &when).await });
    }
    calls.join_all().await
}

pub(crate) async fn wait_until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.expect(sql)
}

/// Verifies, then stops the last worker and checks the queues.
pub(crate) async fn finish(
    scenario: &str,
    app: &TestApp,
    twilio: &FakeTwilio,
    calls: &[Placed],
    faults: usize,
    worker: WorkerProcess,
    tally: &mut Tally,
) {
    check::verify(scenario, app, twilio, calls, faults, tally).await;
    stop_and_drain(scenario, app, worker, tally).await;
}

/// Lets the worker take whatever is ready (a redelivery), stops it as a deploy would (SIGTERM),
/// and checks that nothing was left in a queue.
pub(crate) async fn stop_and_drain(scenario: &str, app: &TestApp, worker: WorkerProcess, tally: &mut Tally) {
    // A legitimate retry (a second delivery finding the text being sent, say) waits in a short
    // retry tier and comes back: wait for it rather than calling it stuck, and say why it was.
    if check::queued(app).await.1 > 0 {
        check::print_retries(scenario, app).await;
    }
    // A job that failed several times while a service was away can sit in the two-minute tier.
    wait_until("the work and retry queues are empty", Duration::from_secs(150), async || {
        check::queued(app).await == (0, 0)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    if !worker.stop().await {
        println!("  {scenario}: the worker did not stop cleanly on SIGTERM");
        tally.stuck += 1;
    }
    check::queues_drained(scenario, app, tally).await;
}

/// The booking commits, the caller hears it, and the worker is killed before it acknowledges the
/// message: the broker delivers it again, and the new worker finds the run completed.
async fn worker_killed_between_commit_and_ack(tally: &mut Tally) {
    let scenario = "worker killed between commit and ack";
    let (app, twilio) = setup().await;
    let hanging = worker(&app, Some("after_commit:book_appointment=hang"), JobKind::BookAppointment).await;
    let calls = place(&app, 0, 3).await;
    wait_until("the bookings are committed", Duration::from_secs(30), async || {
        scalar(&app, "select count(*) from workflow_runs where kind = 'book_appointment' and status = 'completed'")
            .await
            == 3
    })
    .await;
    hanging.kill().await;
    let fresh = worker(&app, None, JobKind::BookAppointment).await;
    finish(scenario, &app, &twilio, &calls, 1, fresh, tally).await;
}

/// Twilio accepts the text and the worker is killed before the ledger records it: the next
/// worker looks the message up instead of sending it again.
async fn worker_killed_in_the_sms_step(tally: &mut Tally) {
    let scenario = "worker killed in the SMS step";
    let (app, twilio) = setup().await;
    let hanging = worker(&app, Some("sent:send_sms=hang"), JobKind::SendSms).await;
    let calls = place(&app, 0, 2).await;
    wait_until("Twilio has both texts", Duration::from_secs(30), async || twilio.created().len() == 2).await;
    hanging.kill().await;
    let fresh = worker(&app, None, JobKind::SendSms).await;
    finish(scenario, &app, &twilio, &calls, 1, fresh, tally).await;
    if twilio.create_requests() != 2 {
        println!("  {scenario}: {} create requests for 2 texts", twilio.create_requests());
        tally.sms_duplicated += twilio.create_requests().saturating_sub(2);
    }
}

/// One booking job, published twice (as a publisher retry or a redelivery would): one booking,
/// one text.
async fn the_same_message_delivered_twice(tally: &mut Tally) {
    let scenario = "the same message delivered twice";
    let (app, twilio) = setup().await;
    let running = worker(&app, None, JobKind::BookAppointment).await;
    let sid = call_sid(1);
    let job = Job::BookAppointmentV1(booking_job(&sid, 1, 3));
    app.publish(&job).await;
    app.publish(&job).await;
    // No caller on the line: the job was accepted, so exactly one booking must come of it.
    let accepted = Placed { call_sid: sid, told: Told::Booked, transcript: Vec::new(), started_over: false };
    finish(scenario, &app, &twilio, &[accepted], 1, running, tally).await;
}

/// A message no code can read goes to the dead letters with the reason; the worker goes on.
async fn a_poison_message(tally: &mut Tally) {
    let scenario = "a poison message";
    let (app, twilio) = setup().await;
    let running = worker(&app, None, JobKind::BookAppointment).await;
    let amqp = app.amqp().await;
    let publisher = adapters::amqp::Publisher::new(&amqp, app.config.namespace.clone()).await.expect("publisher");
    publisher
        .send(
            &app.config.namespace.jobs_exchange(),
            "book_appointment",
            b"{\"type\": \"book_appointment.v1\", \"garbage\"",
            BasicProperties::default(),
            Duration::from_secs(5),
        )
        .await
        .expect("published");
    let calls = place(&app, 0, 1).await;
    finish(scenario, &app, &twilio, &calls, 1, running, tally).await;
    // The worker's keeper moves the dead letter into PostgreSQL: give it a moment.
    let mut dead = app.dead_letters(JobKind::BookAppointment).await;
    for _ in 0..50 {
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        dead = app.dead_letters(JobKind::BookAppointment).await;
    }
    let explained = dead.len() == 1 && dead[0].0.get("x-bella-error").is_some_and(|e| e.contains("undecodable"));
    if !explained {
        println!("  {scenario}: expected one dead letter saying why, found {dead:?}");
        tally.reasonless += 1;
    }
}

/// Redis keeps nothing on disk here: a restart loses every session. The calls go on where they
/// were, from the copies in PostgreSQL.
async fn redis_restarted_mid_call(tally: &mut Tally) {
    let scenario = "Redis restarted mid-call";
    let (app, twilio) = setup().await;
    let running = worker(&app, None, JobKind::BookAppointment).await;
    let times = distinct_times(3);
    let mut callers: Vec<Caller> = (0..3).map(|n| Caller::new(&app, n)).collect();
    for (n, caller) in callers.iter_mut().enumerate() {
        caller.ask(&name(n), &times[n]).await;
    }
    services::restart_redis().await.expect("Redis restarts");
    let mut calls = Vec::new();
    for mut caller in callers {
        caller.confirm_number().await;
        calls.push(caller.book().await);
    }
    finish(scenario, &app, &twilio, &calls, 1, running, tally).await;
}

/// The broker goes away while callers say yes: their bookings wait in the outbox and they are
/// told a text will follow; when the broker is back, the relay publishes them and the same worker
/// process (recovered, not restarted) books them.
async fn rabbitmq_stopped_while_calls_confirm(tally: &mut Tally) {
    let scenario = "RabbitMQ stopped while calls confirm";
    let (app, twilio) = setup().await;
    let mut running = worker(&app, None, JobKind::BookAppointment).await;
    let times = distinct_times(3);
    let mut callers: Vec<Caller> = (0..3).map(|n| Caller::new(&app, n)).collect();
    for (n, caller) in callers.iter_mut().enumerate() {
        caller.ask(&name(n), &times[n]).await;
        caller.confirm_number().await;
    }
    services::stop_rabbitmq().await.expect("RabbitMQ stops");
    let mut calls = Vec::new();
    for caller in callers {
        calls.push(caller.book().await);
    }
    services::start_rabbitmq().await.expect("RabbitMQ starts");
    check::verify(scenario, &app, &twilio, &calls, 1, tally).await;
    if !running.alive() {
        println!("  {scenario}: the worker process exited when the broker went away");
        tally.stuck += 1;
        return;
    }
    stop_and_drain(scenario, &app, running, tally).await;
}

/// PostgreSQL restarts while calls are under way: calls keep arriving during the restart. Turns
/// that fail apologise and come back to the same answer, jobs that fail are retried, and every
/// caller ends up booked or told it failed.
async fn postgres_restarted_under_load(tally: &mut Tally) {
    let scenario = "PostgreSQL restarted under load";
    let (app, twilio) = setup().await;
    let running = worker(&app, None, JobKind::BookAppointment).await;
    const CALLERS: usize = 12;
    let times = distinct_times(CALLERS);
    let mut calls = JoinSet::new();
    let mut restart = tokio::spawn(services::restart_postgres());
    let mut restarted = None;
    for (n, when) in times.into_iter().enumerate() {
        let caller = Caller::new(&app, n);
        calls.spawn(async move { caller.place(&name(n), &when).await });
        // A new call every 150 ms, before, during and after the restart.
        if restarted.is_none()
            && let Ok(done) = tokio::time::timeout(Duration::from_millis(150), &mut restart).await
        {
            restarted = Some(done);
        }
    }
    match restarted {
        Some(done) => done.expect("the restart task").expect("PostgreSQL restarts"),
        None => restart.await.expect("the restart task").expect("PostgreSQL restarts"),
    }
    let calls = calls.join_all().await;
    let apologised =
        calls.iter().filter(|c| c.transcript.iter().any(|t| t.contains("having a little trouble"))).count();
    println!("  {scenario}: {apologised} of {CALLERS} calls heard an apology while PostgreSQL was away");
    finish(scenario, &app, &twilio, &calls, 1, running, tally).await;
}
