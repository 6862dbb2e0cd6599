//! Turn latency: simulated callers placing whole bookings through signed webhooks against the
//! `bella api` process, and the same load against the floor server.
//!
//! Each of N callers places calls one after another. A call is the greeting, the caller's
//! answers to what Bella asks ("I'd like to book an appointment", a name, a time, yes to the
//! caller ID as the number to text, yes to the read-back) and the status callback; the confirming answer includes the booking job's round
//! trip through RabbitMQ and the worker. Between turns a caller "speaks" for the think time
//! (randomised between half and one and a half times it, so callers do not march in step).
//! Latency is measured by the caller, from sending the webhook to having read the TwiML.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{Datelike as _, NaiveDate};
use rand::Rng as _;
use secrecy::SecretString;
use serde::Serialize;
use tokio::sync::{Barrier, Semaphore};
use tokio::task::JoinSet;
use workflows::holidays::{Province, statutory};

use crate::stats::Summary;
use bella::simulator::{Simulator, Spoken, spoken_day};

/// The business's number, for every call.
pub const DIALLED: &str = "+15145550199";

/// The webhooks of a first-time caller's booking call, as the floor replays them: Bella's
/// greeting, five answers, the status callback.
const FLOOR_CALL: [&str; 7] = ["greeting", "intent", "name", "time", "number", "confirm", "status"];

/// Distinct bookable times, as callers say them ("Monday, December 7th at 6:10 pm"), for a
/// business open every day 06:00 to 22:00 with ten-minute appointments, from the day after
/// tomorrow on, skipping Ontario's statutory holidays. Handed out once each.
#[derive(Debug)]
pub struct Slots {
    times: Vec<String>,
    next: AtomicUsize,
}

impl Slots {
    pub fn new(count: usize, today: NaiveDate) -> Self {
        let mut times = Vec::with_capacity(count);
        let mut day = today + chrono::Duration::days(2);
        while times.len() < count {
            let holiday = statutory(Province::ON, day.year()).iter().any(|(d, _)| *d == day);
            if !holiday {
                for minutes in (6 * 60..22 * 60).step_by(10) {
                    times.push(format!("{} at {}", spoken_day(day), spoken_time(minutes)));
                }
            }
            day += chrono::Duration::days(1);
        }
        times.truncate(count);
        Self { times, next: AtomicUsize::new(0) }
    }

    fn take(&self) -> anyhow::Result<&str> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.times.get(n).map(String::as_str).context("the bench ran out of distinct times")
    }
}

/// "6:10 am", "12:30 pm", "9 pm".
fn spoken_time(minutes: u32) -> String {
    let (hour, minute) = (minutes / 60, minutes % 60);
    let (twelve, half) = match hour {
        0 => (12, "am"),
        1..=11 => (hour, "am"),
        12 => (12, "pm"),
        _ => (hour - 12, "pm"),
    };
    if minute == 0 { format!("{twelve} {half}") } else { format!("{twelve}:{minute:02} {half}") }
}

/// The load: who calls, how often, how fast they speak.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Load {
    pub callers: usize,
    pub calls_per_caller: usize,
    pub think_ms: u64,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct TurnRun {
    pub calls: usize,
    pub booked: usize,
    pub failed: usize,
    pub seconds: f64,
    pub calls_per_second: f64,
    /// Every webhook.
    pub all: Summary,
    /// By turn: greeting, intent, name, time, number, confirm, booking_result, status.
    pub by_turn: BTreeMap<String, Summary>,
}

/// Shared by every simulated caller.
#[derive(Debug, Clone)]
pub struct Target {
    pub http: reqwest::Client,
    pub base: String,
    pub token: SecretString,
}

/// A caller's number: `n` picks a distinct valid Toronto number.
fn caller_id(n: usize) -> String {
    format!("+1416{:03}{:04}", 300 + n / 10_000, n % 10_000)
}

const NAMES: [&str; 8] = [
    "Marie Tremblay",
    "Kevin Nguyen",
    "Amira Haddad",
    "Jean Roy",
    "Priya Singh",
    "Luc Gagnon",
    "Sofia Rossi",
    "Omar Khan",
];

async fn think(think_ms: u64) {
    if think_ms > 0 {
        let ms = rand::rng().random_range(think_ms / 2..=think_ms + think_ms / 2);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// Answers a call gives at most before the bench calls it lost.
const MAX_ANSWERS: usize = 8;

/// What a caller answers to what Bella just said, and which turn that is.
fn answer<'a>(said: &str, name: &'a str, when: &'a str) -> (&'static str, &'a str) {
    let said = said.to_lowercase();
    if said.contains("shall i book") {
        ("confirm", "yes")
    } else if said.contains("number") {
        ("number", "yes")
    } else if said.contains("name") {
        ("name", name)
    } else if said.contains("what day") || said.contains("what time") || said.contains("when") {
        ("time", when)
    } else {
        ("intent", "I'd like to book an appointment")
    }
}

/// One whole booking call against Bella; the timings of each turn, and whether it booked.
async fn bella_call(
    target: &Target,
    n: usize,
    when: &str,
    think_ms: u64,
) -> anyhow::Result<(bool, Vec<(String, Duration)>)> {
    let mut sim =
        Simulator::with_client(target.http.clone(), &target.base, target.token.clone(), &caller_id(n), DIALLED)?;
    let mut timings = Vec::new();
    let mut label = |sim: &mut Simulator, turn: &str| {
        for (path, elapsed) in sim.take_timings() {
            let kind = if path.ends_with("/booking") { "booking_result" } else { turn };
            timings.push((kind.to_owned(), elapsed));
        }
    };
    let mut heard = sim.dial().await?;
    label(&mut sim, "greeting");
    let name = NAMES[n % NAMES.len()];
    for _ in 0..MAX_ANSWERS {
        if heard.end.is_some() {
            break;
        }
        think(think_ms).await;
        let (turn, speech) = answer(&heard.text(), name, when);
        heard = sim.say(speech).await?;
        label(&mut sim, turn);
    }
    let booked = heard.text().contains("You're all set");
    if !booked {
        tracing::warn!(call = n, last = heard.text(), "a bench call did not book");
    }
    sim.hang_up().await?;
    label(&mut sim, "status");
    Ok((booked, timings))
}

/// The same number of requests, with the same pauses, against the floor server.
async fn floor_call(target: &Target, n: usize, think_ms: u64) -> anyhow::Result<Vec<(String, Duration)>> {
    let mut sim =
        Simulator::with_client(target.http.clone(), &target.base, target.token.clone(), &caller_id(n), DIALLED)?;
    let url = format!("{}/floor", target.base);
    for (i, turn) in FLOOR_CALL.into_iter().enumerate() {
        if i > 0 && turn != "status" {
            think(think_ms).await;
        }
        let mut params = sim.call_params("in-progress");
        params.push(("SpeechResult".into(), turn.to_owned()));
        let (status, _) = sim.post(&url, params).await?;
        anyhow::ensure!(status.is_success(), "the floor answered {status}");
    }
    let timings = sim.take_timings().into_iter().zip(FLOOR_CALL);
    Ok(timings.map(|((_, elapsed), turn)| (turn.to_owned(), elapsed)).collect())
}

/// Runs the load against Bella (`slots` gives each call its time) or, without slots, the floor.
pub async fn run(
    target: &Target,
    load: Load,
    slots: Option<Arc<Slots>>,
    first_caller: usize,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<TurnRun> {
    let started = Instant::now();
    let mut callers = JoinSet::new();
    for caller in 0..load.callers {
        let (target, slots, progress) = (target.clone(), slots.clone(), progress.clone());
        callers.spawn(async move {
            let mut timings = Vec::new();
            let (mut booked, mut failed) = (0, 0);
            // Callers start spread over one think time, as calls arrive in life.
            tokio::time::sleep(Duration::from_millis(load.think_ms * caller as u64 / load.callers.max(1) as u64)).await;
            for round in 0..load.calls_per_caller {
                // Each call from a number of its own: a returning caller would not be asked
                // for a name.
                let n = first_caller + round * load.callers + caller;
                let result = match &slots {
                    Some(slots) => match slots.take() {
                        Ok(when) => bella_call(&target, n, when, load.think_ms).await,
                        Err(error) => Err(error),
                    },
                    None => floor_call(&target, n, load.think_ms).await.map(|t| (true, t)),
                };
                match result {
                    Ok((ok, t)) => {
                        timings.extend(t);
                        if ok { booked += 1 } else { failed += 1 }
                    }
                    Err(error) => {
                        tracing::warn!(error = format!("{error:#}"), "a bench call failed");
                        failed += 1;
                    }
                }
                progress.inc(1);
            }
            (booked, failed, timings)
        });
    }
    let mut by_turn: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    let (mut booked, mut failed) = (0, 0);
    for (b, f, timings) in callers.join_all().await {
        booked += b;
        failed += f;
        for (turn, elapsed) in timings {
            by_turn.entry(turn).or_default().push(elapsed);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let all: Vec<Duration> = by_turn.values().flatten().copied().collect();
    let calls = booked + failed;
    Ok(TurnRun {
        calls,
        booked,
        failed,
        seconds,
        calls_per_second: calls as f64 / seconds.max(1e-9),
        all: Summary::of(&all),
        by_turn: by_turn.iter().map(|(turn, samples)| (turn.clone(), Summary::of(samples))).collect(),
    })
}

/// What the api's memory was with many calls in progress at once.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryRun {
    pub calls: usize,
    pub booked: usize,
    /// Requests in flight at most (callers wait for a slot to speak).
    pub max_in_flight: usize,
    pub rss_before_mb: f64,
    pub rss_with_calls_mb: f64,
    pub peak_mb: f64,
}

/// Brings `count` calls to the read-back at once, measures the api, then books them all.
pub async fn hold(
    target: &Target,
    count: usize,
    slots: Arc<Slots>,
    first_caller: usize,
    max_in_flight: usize,
    progress: &indicatif::ProgressBar,
    measure: impl Fn() -> anyhow::Result<crate::fleet::Memory>,
) -> anyhow::Result<MemoryRun> {
    let before = measure()?;
    let barrier = Arc::new(Barrier::new(count + 1));
    let released = Arc::new(Barrier::new(count + 1));
    let speaking = Arc::new(Semaphore::new(max_in_flight));
    let mut calls = JoinSet::new();
    for i in 0..count {
        let (target, slots, barrier, released, speaking, progress) =
            (target.clone(), slots.clone(), barrier.clone(), released.clone(), speaking.clone(), progress.clone());
        calls.spawn(async move {
            let n = first_caller + i;
            let placed = async {
                let when = slots.take()?.to_owned();
                let mut sim = Simulator::with_client(
                    target.http.clone(),
                    &target.base,
                    target.token.clone(),
                    &caller_id(n),
                    DIALLED,
                )?;
                let say = async |sim: &mut Simulator, speech: Option<&str>| -> anyhow::Result<Spoken> {
                    let _turn = speaking.acquire().await?;
                    match speech {
                        None => sim.dial().await,
                        Some(speech) => sim.say(speech).await,
                    }
                };
                say(&mut sim, None).await?;
                let name = NAMES[n % NAMES.len()];
                for speech in ["I'd like to book an appointment", name, &when, "yes"] {
                    say(&mut sim, Some(speech)).await?;
                }
                anyhow::Ok(sim)
            }
            .await;
            progress.inc(1);
            barrier.wait().await;
            released.wait().await;
            let mut sim = placed?;
            let heard = {
                let _turn = speaking.acquire().await?;
                sim.say("yes").await?
            };
            let _ = sim.hang_up().await;
            anyhow::Ok(heard.text().contains("You're all set"))
        });
    }
    barrier.wait().await;
    let with_calls = measure()?;
    released.wait().await;
    let mut booked = 0;
    for result in calls.join_all().await {
        match result {
            Ok(true) => booked += 1,
            Ok(false) => {}
            Err(error) => tracing::warn!(error = format!("{error:#}"), "a held call failed"),
        }
    }
    let after = measure()?;
    let mb = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    Ok(MemoryRun {
        calls: count,
        booked,
        max_in_flight,
        rss_before_mb: mb(before.rss),
        rss_with_calls_mb: mb(with_calls.rss),
        peak_mb: mb(after.peak),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_spoken_as_callers_say_them() {
        assert_eq!(spoken_time(6 * 60 + 10), "6:10 am");
        assert_eq!(spoken_time(12 * 60), "12 pm");
        assert_eq!(spoken_time(21 * 60 + 50), "9:50 pm");
    }

    #[test]
    fn slots_are_distinct_and_skip_holidays() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 23).unwrap();
        let slots = Slots::new(300, today);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..300 {
            assert!(seen.insert(slots.take().unwrap().to_owned()));
        }
        assert!(slots.take().is_err());
        // Christmas and Boxing Day are skipped; the first day is the 25th otherwise.
        assert!(seen.iter().all(|t| !t.contains("December 25th") && !t.contains("December 26th")));
        assert!(seen.iter().any(|t| t.starts_with("Sunday, December 27th at 6 am")));
    }
}
