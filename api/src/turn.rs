//! The turn engine: one webhook in, one TwiML document out.
//!
//! 1. Load the call's session from Redis with its version (or start one, with what the business
//!    knows about the caller).
//! 2. A request for a turn that was already answered (Twilio retried it, or it arrived twice) gets
//!    the stored answer of that turn, byte for byte, and changes nothing.
//! 3. Run the state machine with the business's profile, the current instant and the booked
//!    times. If it asks for an effect, carry it out: look up the caller's bookings, or publish a
//!    job with confirms and wait a bounded time for the worker's result; then let the machine
//!    speak the outcome.
//! 4. Save the session and this turn's TwiML atomically, on condition that nobody saved in
//!    between; if somebody did, start over from 1 (which then usually replays their answer).

use std::time::{Duration, Instant};

use adapters::metrics::{REPAIRS, SESSION_RECOVERIES, TURN_SECONDS};
use adapters::postgres::businesses::Business;
use adapters::postgres::{self, appointments};
use adapters::redis::{Saved, SessionStore, StoredSession};
use adapters::trace_context;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use tracing::Instrument as _;
use workflows::dialogue::{self, Calendar, CallerHistory, Context, Event, Reply, Session, Stage, Work};
use workflows::jobs::{Job, JobOutcome};
use workflows::schedule::Slot;
use workflows::{CallSid, E164};

use crate::AppState;
use crate::holding::{self, Held};
use crate::twilio::{TwilioParams, twiml};

/// Which webhook is being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    /// `POST /twilio/voice`: a call starts.
    Incoming,
    /// `POST /twilio/voice/turn?t=N`: the caller's answer.
    Answer { turn: Option<u32> },
    /// `POST /twilio/voice/result?t=N`: come back for a job's result.
    JobResult { turn: Option<u32> },
}

/// A request the engine refuses.
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// How long the publisher waits for the broker's confirm.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the publisher waits for the broker's confirm of a repair: the caller is waiting.
const REPAIR_PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);
/// The longest a redirect waits for a repair, whatever the session says.
const MAX_REPAIR_WAIT: Duration = Duration::from_secs(6);
/// Decisions a turn may take when the time it chose is held by another call each time; after the
/// last, the turn goes on without a hold (PostgreSQL still decides the booking).
const HOLD_ROUNDS: usize = 8;
/// How far ahead availability is loaded for a turn.
const CALENDAR_DAYS: i64 = 62;
/// Saves retried after a conflicting concurrent request before giving up.
const SAVE_ATTEMPTS: usize = 4;

/// The TwiML for a webhook, and whether it was the stored answer of a turn answered before.
#[derive(Debug)]
pub struct Answer {
    pub twiml: String,
    pub replayed: bool,
}

impl Webhook {
    pub fn name(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Answer { .. } => "answer",
            Self::JobResult { .. } => "job_result",
        }
    }
}

/// Times the steps of a turn into `bella_turn_duration_seconds`.
struct Laps {
    webhook: &'static str,
    last: Instant,
}

impl Laps {
    fn new(webhook: Webhook) -> Self {
        Self { webhook: webhook.name(), last: Instant::now() }
    }

    fn lap(&mut self, step: &'static str) {
        let now = Instant::now();
        metrics::histogram!(TURN_SECONDS, "webhook" => self.webhook, "step" => step).record(now - self.last);
        self.last = now;
    }
}

/// Answers one webhook of a call with TwiML, in a span that joins the call's trace.
pub async fn answer(state: &AppState, webhook: Webhook, params: &TwilioParams) -> Result<Answer, TurnError> {
    let call = CallSid::parse(params.text("CallSid")).map_err(|e| TurnError::BadRequest(e.to_string()))?;
    let span = tracing::info_span!(
        "turn",
        call.sid = %call,
        webhook = webhook.name(),
        business = tracing::field::Empty,
        turn = tracing::field::Empty,
        stage = tracing::field::Empty,
    );
    trace_context::join_call(&span, &call);
    let started = Instant::now();
    let answered = async {
        for _ in 0..SAVE_ATTEMPTS {
            if let Some(answer) = attempt(state, webhook, params, &call).await? {
                return Ok(answer);
            }
        }
        Err(anyhow::anyhow!("the session of {call} kept changing under this request").into())
    }
    .instrument(span)
    .await;
    metrics::histogram!(TURN_SECONDS, "webhook" => webhook.name(), "step" => "total").record(started.elapsed());
    answered
}

/// Runs the dialogue, reading the calendar only for the turns that consult it (see
/// [`dialogue::Calendar`]): a greeting, a name or a yes costs no query.
struct Decide<'a> {
    state: &'a AppState,
    business: &'a Business,
    now: DateTime<Utc>,
    webhook: Webhook,
    /// The booked times, once a turn consulted the calendar.
    booked: Option<Vec<Slot>>,
    /// The booked times and those other callers hold: what the machine sees as busy.
    busy: Option<Vec<Slot>>,
}

impl Decide<'_> {
    /// Decides, then holds the time the caller is about to book (see [`holding`]); when another
    /// call took it a moment before, decides again against a fresh calendar, which shows it held
    /// (a burst of callers asking for one time settles in a few rounds).
    async fn decide(&mut self, session: &mut Session, event: Event<'_>) -> anyhow::Result<Reply> {
        let before = session.clone();
        let profile = &self.business.profile;
        let mut reply = self.handle(session, event.clone()).await?;
        for _ in 1..HOLD_ROUNDS {
            if holding::hold(self.state, profile, session, self.booked.as_deref(), self.now).await == Held::Kept {
                break;
            }
            session.clone_from(&before);
            (self.booked, self.busy) = (None, None);
            reply = self.handle(session, event.clone()).await?;
        }
        Ok(reply)
    }

    async fn handle(&mut self, session: &mut Session, event: Event<'_>) -> anyhow::Result<Reply> {
        let repair = self.state.config.openai_api_key.is_some();
        let profile = &self.business.profile;
        if self.busy.is_none() {
            // (A block, so that the calendar, which is not Sync, is gone before the query.)
            let trial = {
                let unloaded = Calendar::default();
                let ctx = Context { business: profile, now: self.now, busy: &unloaded, repair };
                let mut trial = session.clone();
                let reply = dialogue::handle(&mut trial, event.clone(), &ctx);
                (!unloaded.was_consulted()).then_some((trial, reply))
            };
            if let Some((trial, reply)) = trial {
                *session = trial;
                return Ok(reply);
            }
            let started = Instant::now();
            let until = self.now + chrono::Duration::days(CALENDAR_DAYS);
            let (booked, held) = tokio::join!(
                appointments::busy(&self.state.pool, profile.id, self.now, until),
                self.state.holds.others(profile.id, &session.call_sid, self.now)
            );
            let booked = booked?;
            let held = held.unwrap_or_else(|error| {
                tracing::warn!(call.sid = %session.call_sid, %error, "could not read the times other callers hold");
                Vec::new()
            });
            self.busy = Some([booked.as_slice(), held.as_slice()].concat());
            self.booked = Some(booked);
            metrics::histogram!(TURN_SECONDS, "webhook" => self.webhook.name(), "step" => "calendar")
                .record(started.elapsed());
        }
        let calendar = Calendar::new(self.busy.as_deref().unwrap_or_default());
        let ctx = Context { business: profile, now: self.now, busy: &calendar, repair };
        Ok(dialogue::handle(session, event, &ctx))
    }
}

/// Copies being written in the background, at most; beyond that a turn writes its own copy
/// before answering (back-pressure rather than an unbounded queue of tasks).
static COPIES_IN_FLIGHT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(64);

/// Keeps the copy of the session that survives a Redis restart. Best effort: the turn is
/// answered either way, so the copy is written after the answer rather than before it. A copy
/// written late never replaces a later turn's (`sessions::keep` is guarded by the turn number),
/// and losing one needs Redis and this process to fail within the same few milliseconds.
async fn keep_copy(state: &AppState, session: &Session, turn: u32, twiml: &str, params: &TwilioParams) {
    let write = {
        let (pool, session, twiml) = (state.pool.clone(), session.clone(), twiml.to_owned());
        let (speech, digits) = (params.text("SpeechResult").to_owned(), params.text("Digits").to_owned());
        async move {
            let heard = postgres::sessions::Received { speech: &speech, digits: &digits, stage: session.stage.name() };
            if let Err(error) = postgres::sessions::keep(&pool, &session, turn, &twiml, heard).await {
                let call = &session.call_sid;
                tracing::warn!(call.sid = %call, %error, "could not keep a copy of the session in PostgreSQL");
            }
        }
    };
    match COPIES_IN_FLIGHT.try_acquire() {
        Ok(permit) => {
            tokio::spawn(
                async move {
                    write.await;
                    drop(permit);
                }
                .in_current_span(),
            );
        }
        Err(_) => write.await,
    }
}

/// One pass of load, then replay or decide, then perform, then save; `None` when the save lost
/// a race and the turn must be retried.
async fn attempt(
    state: &AppState,
    webhook: Webhook,
    params: &TwilioParams,
    call: &CallSid,
) -> anyhow::Result<Option<Answer>> {
    let now = Utc::now();
    let mut laps = Laps::new(webhook);
    let Loaded { version, mut session, webhook } = match load(state, webhook, params, call, now).await? {
        Start::Replay(answer) => return Ok(Some(answer)),
        Start::Turn(loaded) => *loaded,
    };
    laps.lap("load");
    let business = state.businesses.by_id(session.business_id).await?;
    tracing::Span::current().record("business", tracing::field::display(business.profile.id));
    tracing::Span::current().record("turn", session.turn);
    let mut decide = Decide { state, business: &business, now, webhook, booked: None, busy: None };
    let reply = match arrival(state, call, &session, webhook, params, now).await {
        Arrival::Event(event) => decide.decide(&mut session, event).await?,
        Arrival::RepeatLast(last) => {
            let twiml = state.sessions.reply(call, last).await?;
            return Ok(twiml.map(|twiml| Answer { twiml, replayed: true }));
        }
    };
    laps.lap("decide");
    let decided = holding::wanted(&session);
    let reply = perform(&mut decide, &mut session, reply, call, &mut laps).await?;
    holding::settle(state, &business.profile, decided, &session, now).await;
    save(state, version, session, &reply, params, laps).await
}

/// A call's state at the start of a turn.
struct Loaded {
    /// The version it was saved with: the save is conditional on it.
    version: u64,
    session: Session,
    /// The webhook as this turn answers it (a new call's first webhook is its start, whatever
    /// was posted).
    webhook: Webhook,
}

/// What loading found: a turn to answer, or a turn answered before.
enum Start {
    Replay(Answer),
    Turn(Box<Loaded>),
}

/// Loads the call's session (Redis, else its copy in PostgreSQL), or starts one; a webhook for a
/// turn already answered gets that turn's stored answer.
async fn load(
    state: &AppState,
    webhook: Webhook,
    params: &TwilioParams,
    call: &CallSid,
    now: DateTime<Utc>,
) -> anyhow::Result<Start> {
    let asked_turn = match webhook {
        Webhook::Incoming => None,
        Webhook::Answer { turn } | Webhook::JobResult { turn } => turn,
    };
    let Some(stored) = stored_session(state, call, asked_turn).await? else {
        // A new call. (A call whose session expired starts over, as its caller would expect
        // after fifteen silent minutes.)
        let business = state.businesses.for_number(params.text("To")).await?;
        let caller_id = E164::parse(params.text("From")).ok();
        let history = match &caller_id {
            Some(number) => appointments::history(&state.pool, business.profile.id, number, now).await?,
            None => CallerHistory::default(),
        };
        let session = Session::new(call.clone(), &business.profile, caller_id, history, now);
        return Ok(Start::Turn(Box::new(Loaded { version: 0, session, webhook: Webhook::Incoming })));
    };
    let asked = match webhook {
        Webhook::Incoming => 0,
        Webhook::Answer { .. } | Webhook::JobResult { .. } => asked_turn.unwrap_or(stored.session.turn),
    };
    if asked < stored.session.turn {
        let kept = match state.sessions.reply(call, asked).await? {
            Some(reply) => Some(reply),
            None => postgres::sessions::reply(&state.pool, call, asked).await?,
        };
        if let Some(twiml) = kept {
            tracing::info!(call.sid = %call, turn = asked, "replayed the answer of a repeated webhook");
            return Ok(Start::Replay(Answer { twiml, replayed: true }));
        }
    }
    Ok(Start::Turn(Box::new(Loaded { version: stored.version, session: stored.session, webhook })))
}

/// The call's session as Redis holds it, or as PostgreSQL's copy has it when Redis lost it or is
/// behind the caller.
async fn stored_session(
    state: &AppState,
    call: &CallSid,
    asked_turn: Option<u32>,
) -> anyhow::Result<Option<StoredSession>> {
    Ok(match state.sessions.load(call).await? {
        // Redis is behind the caller: it failed over to a replica that had not yet received the
        // last turns (replication is asynchronous). The copy in PostgreSQL is ahead: go on from
        // it, saving over what Redis holds.
        Some(stale) if asked_turn.is_some_and(|asked| asked > stale.session.turn) => {
            match postgres::sessions::recover(&state.pool, call, SessionStore::DEFAULT_TTL).await? {
                Some(session) if session.turn > stale.session.turn => {
                    metrics::counter!(SESSION_RECOVERIES, "reason" => "behind").increment(1);
                    tracing::warn!(
                        call.sid = %call,
                        turn = session.turn,
                        behind = stale.session.turn,
                        "Redis was behind this call; session recovered from PostgreSQL"
                    );
                    Some(StoredSession { version: stale.version, session })
                }
                _ => Some(stale),
            }
        }
        Some(stored) => Some(stored),
        // Redis lost it (a restart): go on from the copy in PostgreSQL. Version 0 is what Redis
        // now holds, so the save recreates the session there.
        None => postgres::sessions::recover(&state.pool, call, SessionStore::DEFAULT_TTL).await?.map(|session| {
            metrics::counter!(SESSION_RECOVERIES, "reason" => "missing").increment(1);
            tracing::warn!(call.sid = %call, turn = session.turn, "session recovered from PostgreSQL");
            StoredSession { version: 0, session }
        }),
    })
}

/// What a webhook brings the machine, or that it only asks for the last answer again.
enum Arrival<'p> {
    Event(Event<'p>),
    /// A redirect for a job's result when nothing is pending: the answer of this turn.
    RepeatLast(u32),
}

/// The event a webhook brings: the call's start, the caller's words, or a job's result (waited
/// for a bounded time).
async fn arrival<'p>(
    state: &AppState,
    call: &CallSid,
    session: &Session,
    webhook: Webhook,
    params: &'p TwilioParams,
    now: DateTime<Utc>,
) -> Arrival<'p> {
    let settled = |outcome: Option<JobOutcome>| Arrival::Event(outcome.map_or(Event::JobPending, Event::JobSettled));
    match webhook {
        Webhook::Incoming => Arrival::Event(Event::CallStarted),
        Webhook::Answer { .. } => {
            Arrival::Event(Event::Heard { speech: params.text("SpeechResult"), digits: params.text("Digits") })
        }
        Webhook::JobResult { .. } => match &session.stage {
            Stage::Waiting { key } => settled(job_result(state, call, key, state.config.job_wait).await),
            Stage::Repairing { key, until, .. } => {
                // Wait for the model until the repair's deadline, and not a moment longer.
                let left = (*until - now).to_std().unwrap_or_default().min(MAX_REPAIR_WAIT);
                let outcome = job_result(state, call, key, left).await;
                let result = match &outcome {
                    Some(JobOutcome::Repaired { value: Some(_) }) => "answered",
                    Some(_) => "unanswered",
                    None => "late",
                };
                metrics::counter!(REPAIRS, "result" => result).increment(1);
                settled(outcome)
            }
            // Nothing is pending: repeat the last answer.
            _ => match session.turn.checked_sub(1) {
                Some(last) => Arrival::RepeatLast(last),
                None => Arrival::Event(Event::CallStarted),
            },
        },
    }
}

/// Carries out the reply's effect, if it has one, and lets the machine speak its outcome.
async fn perform(
    decide: &mut Decide<'_>,
    session: &mut Session,
    mut reply: Reply,
    call: &CallSid,
    laps: &mut Laps,
) -> anyhow::Result<Reply> {
    let Some(effect) = reply.effect.take() else { return Ok(reply) };
    let (state, now) = (decide.state, decide.now);
    let follow = match effect.work(session, &decide.business.profile, now) {
        Work::LookUp { phone } => {
            let found = appointments::upcoming(&state.pool, decide.business.profile.id, &phone, now).await?;
            decide.handle(session, Event::Found(found)).await?
        }
        // Answer at once with the hold; the redirect waits for the result. A repair that cannot
        // be published is not worth an outbox: the caller is asked again.
        Work::Repair(job) => match state.publisher.publish(&job, REPAIR_PUBLISH_TIMEOUT).await {
            Ok(()) => {
                metrics::counter!(REPAIRS, "result" => "asked").increment(1);
                laps.lap("effect");
                return Ok(reply);
            }
            Err(error) => {
                metrics::counter!(REPAIRS, "result" => "not_published").increment(1);
                tracing::warn!(call.sid = %call, %error, "could not publish a repair; asking again");
                reply.say.clear();
                decide.handle(session, Event::JobPending).await?
            }
        },
        Work::Job(job) => {
            let outcome = run_job(state, session, &job).await;
            decide.handle(session, outcome.map_or(Event::JobPending, Event::JobSettled)).await?
        }
    };
    laps.lap("effect");
    Ok(reply.then(follow))
}

/// Saves the session and this turn's answer, on condition that nobody saved in between.
async fn save(
    state: &AppState,
    version: u64,
    mut session: Session,
    reply: &Reply,
    params: &TwilioParams,
    mut laps: Laps,
) -> anyhow::Result<Option<Answer>> {
    let call = session.call_sid.clone();
    let this_turn = session.end_turn();
    let twiml = twiml::render(reply, session.turn);
    match state.sessions.save(version, &session, this_turn, &twiml).await? {
        Saved::Saved => {
            keep_copy(state, &session, this_turn, &twiml, params).await;
            laps.lap("save");
            tracing::Span::current().record("stage", session.stage.name());
            tracing::info!(
                call.sid = %call,
                business = %session.business_id,
                turn = this_turn,
                stage = session.stage.name(),
                language = %session.language,
                "answered a turn"
            );
            Ok(Some(Answer { twiml, replayed: false }))
        }
        Saved::Conflict => {
            tracing::info!(call.sid = %call, turn = this_turn, "another request saved this call first; retrying");
            Ok(None)
        }
    }
}

/// Publishes a job and waits briefly for its result: `None` when it is still pending.
async fn run_job(state: &AppState, session: &Session, job: &Job) -> Option<JobOutcome> {
    let key = job.idempotency_key();
    // A retried webhook may find the job already settled.
    if let Ok(Some(outcome)) = state.results.board().get(key).await {
        return Some(outcome);
    }
    if let Err(error) = state.publisher.publish(job, PUBLISH_TIMEOUT).await {
        // The broker cannot confirm: keep the job in the outbox, where the relay publishes it
        // once the broker is back, and tell the caller the truth (a text message will follow).
        let mut deferred = job.clone();
        deferred.defer();
        let saved = async {
            let mut conn = state.pool.acquire().await?;
            postgres::outbox::enqueue(&mut conn, &deferred).await
        };
        return match saved.await {
            Ok(_) => {
                tracing::warn!(call.sid = %session.call_sid, job.kind = job.kind().name(), %error, "broker unavailable; job saved in the outbox");
                Some(JobOutcome::Queued)
            }
            Err(db_error) => {
                tracing::error!(call.sid = %session.call_sid, job.kind = job.kind().name(), %error, %db_error, "could not publish a job nor save it");
                Some(JobOutcome::NotSubmitted)
            }
        };
    }
    job_result(state, &session.call_sid, key, state.config.job_wait).await
}

/// Waits up to `wait` for a job's result on the board in Redis; then, if there is none, looks for
/// it in the job's workflow run (the board loses its results when Redis restarts).
async fn job_result(state: &AppState, call: &CallSid, key: &str, wait: Duration) -> Option<JobOutcome> {
    match state.results.wait(key, wait).await.context("waiting for a job result") {
        Ok(Some(outcome)) => return Some(outcome),
        Ok(None) => {}
        Err(error) => tracing::warn!(call.sid = %call, error = format!("{error:#}"), "job result unavailable"),
    }
    postgres::runs::outcome(&state.pool, key).await.unwrap_or_else(|error| {
        tracing::warn!(call.sid = %call, error = format!("{error:#}"), "could not read the job's run");
        None
    })
}
