//! The engines Bella runs on in production replicate and fail over (RabbitMQ as a three-node
//! cluster, Redis as a primary with a replica, PostgreSQL with a standby), and Bella itself runs
//! as several replicas. Each scenario starts engines of its own on other ports (the machine's
//! shared services are not touched), places calls, takes a node away while callers are talking,
//! and counts what a user would: bookings lost or doubled, texts doubled, calls that started over.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bella::Roles;
use bella::simulator::Simulator;
use e2e::engines::postgres::PostgresPair;
use e2e::engines::proxy::SwitchProxy;
use e2e::engines::rabbitmq::{Front, RabbitCluster};
use e2e::engines::redis::RedisPair;
use e2e::fake_twilio::{ACCOUNT_SID, FakeTwilio, SMS_FROM};
use e2e::process::{ApiProcess, WorkerProcess};
use e2e::{Engines, TestApp, spawn_on};
use tokio::task::JoinSet;
use workflows::jobs::JobKind;

use crate::calls::{Caller, Placed, Told, distinct_times, name};
use crate::check::{self, Tally};
use crate::scenarios::{finish, stop_and_drain, wait_until, worker};

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The api (with the outbox relay) in this process on `engines`, texts to a fake Twilio.
async fn setup_on(engines: &Engines, extra: &[(&str, &str)]) -> (TestApp, FakeTwilio) {
    let twilio = FakeTwilio::start().await;
    let uri = twilio.uri();
    let mut vars =
        vec![("TWILIO_ACCOUNT_SID", ACCOUNT_SID), ("TWILIO_API_BASE", uri.as_str()), ("TWILIO_SMS_FROM", SMS_FROM)];
    vars.extend_from_slice(extra);
    (spawn_on(engines, &vars, Roles::API).await, twilio)
}

/// A machine without an engine's programs cannot prove anything about it: that is a failure, not
/// a pass.
fn unavailable(scenario: &str, missing: &str, tally: &mut Tally) {
    println!("  {scenario}: cannot run here: {missing} is not installed (scripts/services --test-tools installs it)");
    tally.stuck += 1;
}

/// The value of one sample (`name{labels}`) in Prometheus text, 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines().find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}

async fn metrics(base_url: &str) -> String {
    match reqwest::get(format!("{base_url}/metrics")).await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Callers who have given everything but their yes: name and time, then the caller ID.
async fn ready_to_confirm(app: &TestApp, first: usize, count: usize) -> Vec<Caller> {
    let times = distinct_times(first + count);
    let mut set = JoinSet::new();
    for (n, when) in times.into_iter().enumerate().skip(first) {
        let mut caller = Caller::new(app, n);
        set.spawn(async move {
            caller.ask(&name(n), &when).await;
            caller.confirm_number().await;
            (n, caller)
        });
    }
    let mut callers = set.join_all().await;
    callers.sort_by_key(|(n, _)| *n);
    callers.into_iter().map(|(_, c)| c).collect()
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ

/// A three-node cluster; the node leading Bella's queues is killed while callers say yes, once
/// with `AMQP_URL` listing the nodes, once through one front address.
pub(crate) async fn rabbitmq_cluster_node_killed(tally: &mut Tally) {
    let scenario = "RabbitMQ cluster";
    if !RabbitCluster::available() {
        return unavailable(scenario, "rabbitmq-server", tally);
    }
    if !Front::available() {
        return unavailable(scenario, "haproxy", tally);
    }
    let started = Instant::now();
    let cluster = RabbitCluster::start().await;
    println!(
        "  {scenario}: nodes {}, {}, {} clustered in {:.0?}",
        cluster.node_name(0),
        cluster.node_name(1),
        cluster.node_name(2),
        started.elapsed()
    );
    let list = cluster.url_list();
    leader_killed("RabbitMQ cluster, AMQP_URL listing the three nodes", &cluster, &list, tally).await;
    let front = Front::start(&cluster).await;
    let front_url = front.url();
    leader_killed("RabbitMQ cluster behind one address (haproxy)", &cluster, &front_url, tally).await;
}

/// How soon after a node's loss bookings go through directly again, and both workers consume.
const RESUME_WITHIN: Duration = Duration::from_secs(15);

#[allow(
    clippy::too_many_lines,
    reason = "a scenario reads best as one story: the kill, the calls through it, the checks"
)]
async fn leader_killed(scenario: &str, cluster: &RabbitCluster, amqp_url: &str, tally: &mut Tally) {
    let engines = Engines { amqp_url: amqp_url.to_owned(), ..Engines::default() };
    let (app, twilio) = setup_on(&engines, &[]).await;
    let queue = app.config.namespace.queue(JobKind::BookAppointment);
    let alive = cluster.running(0).first().copied().unwrap_or(0);
    let replicas = cluster.queues(alive, &queue).into_iter().find(|q| q.name == queue).expect("the queue is declared");
    if replicas.members.len() != 3 {
        println!("  {scenario}: {queue} is replicated on {:?}, not on the three nodes", replicas.members);
        tally.stuck += 1;
    }
    let leader = cluster.index_of(&replicas.leader).expect("the leader is a node of the cluster");
    let workers =
        [worker(&app, None, JobKind::BookAppointment).await, worker(&app, None, JobKind::BookAppointment).await];

    const CALLERS: usize = 10;
    let callers = ready_to_confirm(&app, 0, CALLERS).await;
    let before = metrics(&app.base_url).await;
    // The yeses arrive 100 ms apart; the leader dies after the third.
    let mut saying_yes = JoinSet::new();
    let mut killed_at = None;
    for (n, caller) in callers.into_iter().enumerate() {
        saying_yes.spawn(caller.book());
        if n == 2 {
            cluster.kill(leader).await;
            killed_at = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut calls = saying_yes.join_all().await;
    let killed_at = killed_at.expect("the leader was killed");

    // Publishing and consuming resume on the surviving nodes: a new caller is booked at once
    // (not through the outbox) and both workers consume again.
    let mut resumed = None;
    for n in CALLERS..CALLERS + 20 {
        let placed = Caller::new(&app, n).place(&name(n), &distinct_times(n + 1)[n]).await;
        let booked = placed.told == Told::Booked;
        calls.push(placed);
        if booked {
            resumed = Some(killed_at.elapsed());
            break;
        }
    }
    // Both workers consuming again, as their own heartbeats report it (the queue's consumer
    // count may still include a consumer of the lost node, kept as "suspected down").
    let workers_consuming = async || {
        let (_, queues) = app.admin_get("/admin/api/queues", None).await;
        queues
            .as_array()
            .and_then(|kinds| kinds.iter().find(|k| k["kind"] == "book_appointment"))
            .and_then(|k| k["workers_consuming"].as_u64())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while workers_consuming().await < 2 {
        if Instant::now() > deadline {
            let via = (leader + 1) % 3;
            println!(
                "  {scenario}: the workers did not both consume again within a minute:\n{}",
                cluster.describe(via, app.config.namespace.as_str())
            );
            tally.stuck += 1;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let consuming = killed_at.elapsed();
    let after = metrics(&app.base_url).await;
    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    let new_leader = cluster
        .queues((leader + 1) % 3, &queue)
        .into_iter()
        .find(|q| q.name == queue)
        .map(|q| q.leader)
        .unwrap_or_default();
    match resumed {
        Some(resumed_after) => println!(
            "  {scenario}: killed {} (leader of {queue}); new leader {new_leader}; a new call booked directly {:.1} s later, \
             both workers consuming after {:.1} s; the api's metrics: connections lost {} and reopened {}, publishes that \
             failed over to the outbox {}, jobs the relay published {}, consumers {}",
            replicas.leader,
            resumed_after.as_secs_f64(),
            consuming.as_secs_f64(),
            delta("bella_broker_reconnects_total{result=\"lost\"}"),
            delta("bella_broker_reconnects_total{result=\"reconnected\"}"),
            delta("bella_publish_failures_total{kind=\"book_appointment\"}"),
            delta("bella_outbox_published_total"),
            sample(&after, "bella_queue_consumers{kind=\"book_appointment\"}"),
        ),
        None => {
            println!("  {scenario}: after the leader died, 20 more calls were never booked directly");
            tally.stuck += 1;
        }
    }
    // The queues were declared through the api's connection, so their leader was the api's node
    // (RabbitMQ places a new queue's leader on the declaring client's node): the api lost its
    // connection and opened another, on a surviving node.
    let (lost, reopened) = (
        delta("bella_broker_reconnects_total{result=\"lost\"}"),
        delta("bella_broker_reconnects_total{result=\"reconnected\"}"),
    );
    if lost < 1.0 || reopened < lost {
        println!("  {scenario}: the api's connection was lost {lost} times and reopened {reopened} times");
        tally.stuck += 1;
    }
    // "Within seconds": a node's loss must not stall bookings for longer than a caller waits.
    if resumed.is_some_and(|r| r > RESUME_WITHIN) || consuming > RESUME_WITHIN {
        println!("  {scenario}: publishing or consuming took longer than {RESUME_WITHIN:?} to resume");
        tally.stuck += 1;
    }
    finish_two(scenario, &app, &twilio, &calls, workers, tally).await;
    drop(app);
    cluster.restart(leader).await;
}

/// Verifies, then stops both workers and checks the queues.
async fn finish_two(
    scenario: &str,
    app: &TestApp,
    twilio: &FakeTwilio,
    calls: &[Placed],
    workers: [WorkerProcess; 2],
    tally: &mut Tally,
) {
    let [first, second] = workers;
    check::verify(scenario, app, twilio, calls, 1, tally).await;
    if !first.stop().await {
        println!("  {scenario}: a worker did not stop cleanly on SIGTERM");
        tally.stuck += 1;
    }
    stop_and_drain(scenario, app, second, tally).await;
}

// ---------------------------------------------------------------------------------------------
// Redis

/// The primary stops replicating, takes a few more turns that its replica never sees, and dies;
/// the replica is promoted and the primary's address moves to it, while calls are mid-way.
pub(crate) async fn redis_failover_mid_call(tally: &mut Tally) {
    let scenario = "Redis primary lost, its replica promoted behind the same address";
    if !e2e::engines::have("redis-server", &[]) {
        return unavailable(scenario, "redis-server", tally);
    }
    let mut pair = RedisPair::start().await;
    let proxy = SwitchProxy::start(local(pair.primary)).await;
    let engines = Engines { redis_url: format!("redis://127.0.0.1:{}", proxy.port()), ..Engines::default() };
    let (app, twilio) = setup_on(&engines, &[]).await;
    let running = worker(&app, None, JobKind::BookAppointment).await;

    const CALLERS: usize = 12;
    let times = distinct_times(CALLERS);
    let mut asking = JoinSet::new();
    for (n, when) in times.into_iter().enumerate() {
        let mut caller = Caller::new(&app, n);
        asking.spawn(async move {
            caller.ask(&name(n), &when).await;
            (n, caller)
        });
    }
    let mut callers = asking.join_all().await;
    callers.sort_by_key(|(n, _)| *n);
    let before = metrics(&app.base_url).await;

    // From here on the replica misses what the primary takes: half the callers answer a turn.
    pair.promote_replica().await;
    let (ahead, behind): (Vec<_>, Vec<_>) = callers.into_iter().partition(|(n, _)| n % 2 == 0);
    let mut answering = JoinSet::new();
    for (n, mut caller) in ahead {
        answering.spawn(async move {
            caller.confirm_number().await;
            (n, caller)
        });
    }
    let ahead = answering.join_all().await;
    let (primary_keys, _) = RedisPair::keys_and_offset(pair.primary).await;
    let (replica_keys, _) = RedisPair::keys_and_offset(pair.replica).await;

    // The failover, while every caller's next turn is on the wire.
    let mut finishing = JoinSet::new();
    for (_, caller) in ahead {
        finishing.spawn(caller.book());
    }
    for (_, mut caller) in behind {
        finishing.spawn(async move {
            caller.confirm_number().await;
            caller.book().await
        });
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    pair.kill_primary();
    // The address follows a moment later, as DNS does.
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.switch(local(pair.replica));
    let calls = finishing.join_all().await;

    let after = metrics(&app.base_url).await;
    let recovered = |reason: &str| {
        let series = format!("bella_session_recoveries_total{{reason=\"{reason}\"}}");
        sample(&after, &series) - sample(&before, &series)
    };
    let (behind_count, missing_count) = (recovered("behind"), recovered("missing"));
    println!(
        "  {scenario}: the old primary held {primary_keys} keys, the promoted replica {replica_keys}; \
         sessions taken from PostgreSQL: {behind_count} a turn behind, {missing_count} missing"
    );
    // Six callers answered a turn that only the dead primary saw: each must have been recovered.
    if behind_count + missing_count < (CALLERS / 2) as f64 {
        println!("  {scenario}: expected at least {} sessions recovered from PostgreSQL", CALLERS / 2);
        tally.stuck += 1;
    }
    finish(scenario, &app, &twilio, &calls, 1, running, tally).await;
    drop(app);
    drop(proxy);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/// The primary crashes under load and its synchronous standby is promoted; the primary's address
/// then leads to the standby. New connections find it within their bounded waits.
pub(crate) async fn postgres_failover_under_load(tally: &mut Tally) {
    let scenario = "PostgreSQL primary lost, its standby promoted behind the same address";
    if !PostgresPair::available() {
        return unavailable(scenario, "PostgreSQL's server", tally);
    }
    let started = Instant::now();
    let pair = PostgresPair::start().await;
    let proxy = SwitchProxy::start(local(pair.primary)).await;
    println!("  {scenario}: primary and synchronous standby up in {:.0?}", started.elapsed());
    let engines =
        Engines { database_server: format!("postgres://postgres@127.0.0.1:{}", proxy.port()), ..Engines::default() };
    let (app, twilio) = setup_on(&engines, &[]).await;
    let running = worker(&app, None, JobKind::BookAppointment).await;

    const CALLERS: usize = 12;
    let times = distinct_times(CALLERS);
    let proxy = std::sync::Arc::new(proxy);
    let mut calls = JoinSet::new();
    let mut failover = None;
    for (n, when) in times.into_iter().enumerate() {
        let caller = Caller::new(&app, n);
        calls.spawn(async move { caller.place(&name(n), &when).await });
        // A new call every 150 ms, before, during and after the failover.
        tokio::time::sleep(Duration::from_millis(150)).await;
        if n == 4 {
            let (pair, proxy) = (&pair, std::sync::Arc::clone(&proxy));
            let (primary, standby) = (pair.primary, pair.standby);
            let promote = pair.fail_over_command();
            failover = Some(tokio::spawn(async move {
                let started = Instant::now();
                promote.await;
                // The name moves once the standby is promoted.
                proxy.switch(local(standby));
                println!(
                    "  {scenario}: primary (:{primary}) crashed, standby (:{standby}) promoted and the address moved in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }));
        }
    }
    if let Some(failover) = failover {
        failover.await.expect("the failover");
    }
    let calls = calls.join_all().await;
    let apologised =
        calls.iter().filter(|c| c.transcript.iter().any(|t| t.contains("having a little trouble"))).count();
    println!("  {scenario}: {apologised} of {CALLERS} calls heard an apology during the failover");
    finish(scenario, &app, &twilio, &calls, 1, running, tally).await;
    // The app's database lives on this pair: the app goes first.
    drop(app);
    drop(proxy);
    drop(pair);
}

// ---------------------------------------------------------------------------------------------
// Replicas

/// Thirty calls whose every webhook goes to the next of three `bella api` processes (one public
/// URL, as behind a load balancer), two `bella worker`s competing, one of them SIGKILLed
/// mid-load.
pub(crate) async fn replicas_share_the_calls(tally: &mut Tally) {
    let scenario = "three api replicas, two workers, one worker killed";
    const PUBLIC_URL: &str = "https://bella.replicas.test";
    let (app, twilio) = setup_on(&Engines::default(), &[("PUBLIC_URL", PUBLIC_URL)]).await;
    let mut apis = Vec::new();
    for _ in 0..3 {
        apis.push(ApiProcess::start(&app, &[]).await);
    }
    let urls: Vec<String> = apis.iter().map(|a| a.url.clone()).collect();
    let doomed = worker(&app, None, JobKind::BookAppointment).await;
    let survivor = worker(&app, None, JobKind::BookAppointment).await;

    const CALLERS: usize = 30;
    let times = distinct_times(CALLERS);
    let mut calls = JoinSet::new();
    for (n, when) in times.into_iter().enumerate() {
        let mut sim =
            Simulator::new(PUBLIC_URL, app.twilio_token(), &format!("+1416555{:04}", 100 + n), "+15145550199")
                .expect("simulator");
        sim.spread_over(&urls).expect("replica URLs");
        let caller = Caller::with(sim);
        calls.spawn(async move { caller.place(&name(n), &when).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Mid-load: some calls have booked, others are about to.
    wait_until("the first bookings", Duration::from_secs(60), async || {
        sqlx::query_scalar::<_, i64>("select count(*) from appointments").fetch_one(&app.pool).await.unwrap_or(0) >= 5
    })
    .await;
    doomed.kill().await;
    let calls = calls.join_all().await;
    let mut served = Vec::new();
    for api in &mut apis {
        let text = api.metrics().await;
        served.push(sample(&text, "bella_turn_duration_seconds_count{webhook=\"answer\",step=\"total\"}"));
        if !api.alive() {
            println!("  {scenario}: an api process died");
            tally.stuck += 1;
        }
    }
    println!("  {scenario}: answers per api process {served:?}; worker 1 of 2 SIGKILLed after 5 bookings");
    finish(scenario, &app, &twilio, &calls, 1, survivor, tally).await;
}
