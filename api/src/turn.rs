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
use workflows::dialogue::{self, Calendar, CallerHistory, Context, Effect, Event, Field, Reply, Session, Stage};
use workflows::jobs::{BookAppointment, CancelAppointment, Job, JobOutcome, RepairAnswer, RescheduleAppointment};
use workflows::schedule::Slot;
use workflows::{CallSid, E164};

use crate::AppState;
use crate::twilio::{TwilioParams, twiml};

/// Which webhook is being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    /// `POST /twilio/voice`: a call starts.
    Incoming,
    /// `POST /twilio/voice/turn?t=N`: the caller's answer.
    Answer { turn: Option<u32> },
    /// `POST /twilio/voice/booking?t=N`: come back for a job's result.
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
    busy: Option<Vec<Slot>>,
}

impl Decide<'_> {
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
            self.busy = Some(appointments::busy(&self.state.pool, profile.id, self.now, until).await?);
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
            let heard =
                postgres::sessions::Heard { speech: &speech, digits: &digits, stage: stage_name(&session.stage) };
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

/// One load-decide-save pass; `None` when the save lost a race and the turn must be retried.
async fn attempt(
    state: &AppState,
    webhook: Webhook,
    params: &TwilioParams,
    call: &CallSid,
) -> anyhow::Result<Option<Answer>> {
    let now = Utc::now();
    let mut laps = Laps::new(webhook);
    let asked_turn = match webhook {
        Webhook::Incoming => None,
        Webhook::Answer { turn } | Webhook::JobResult { turn } => turn,
    };
    let stored = match state.sessions.load(call).await? {
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
        // now holds, so the save below recreates the session there.
        None => postgres::sessions::recover(&state.pool, call, SessionStore::DEFAULT_TTL).await?.map(|session| {
            metrics::counter!(SESSION_RECOVERIES, "reason" => "missing").increment(1);
            tracing::warn!(call.sid = %call, turn = session.turn, "session recovered from PostgreSQL");
            StoredSession { version: 0, session }
        }),
    };
    let (version, mut session, webhook) = match stored {
        Some(stored) => {
            let asked = match webhook {
                Webhook::Incoming => 0,
                Webhook::Answer { turn } | Webhook::JobResult { turn } => turn.unwrap_or(stored.session.turn),
            };
            if asked < stored.session.turn {
                let kept = match state.sessions.reply(call, asked).await? {
                    Some(reply) => Some(reply),
                    None => postgres::sessions::reply(&state.pool, call, asked).await?,
                };
                if let Some(twiml) = kept {
                    tracing::info!(call.sid = %call, turn = asked, "replayed the answer of a repeated webhook");
                    return Ok(Some(Answer { twiml, replayed: true }));
                }
            }
            (stored.version, stored.session, webhook)
        }
        None => {
            // A new call. (A call whose session expired starts over, as its caller would expect
            // after fifteen silent minutes.)
            let business = state.businesses.for_number(params.text("To")).await?;
            let caller_id = E164::parse(params.text("From")).ok();
            let history = match &caller_id {
                Some(number) => appointments::history(&state.pool, business.profile.id, number, now).await?,
                None => CallerHistory::default(),
            };
            (0, Session::new(call.clone(), &business.profile, caller_id, history, now), Webhook::Incoming)
        }
    };
    laps.lap("load");
    let business = state.businesses.by_id(session.business_id).await?;
    tracing::Span::current().record("business", tracing::field::display(business.profile.id));
    let mut decide = Decide { state, business: &business, now, webhook, busy: None };
    let this_turn = session.turn;
    tracing::Span::current().record("turn", this_turn);

    let mut reply = match webhook {
        Webhook::Incoming => decide.handle(&mut session, Event::CallStarted).await?,
        Webhook::Answer { .. } => {
            let event = Event::Heard { speech: params.text("SpeechResult"), digits: params.text("Digits") };
            decide.handle(&mut session, event).await?
        }
        Webhook::JobResult { .. } => match session.stage.clone() {
            Stage::Waiting { key } => {
                let outcome = job_result(state, call, &key, state.config.booking_wait).await;
                let event = outcome.map_or(Event::JobPending, Event::JobSettled);
                decide.handle(&mut session, event).await?
            }
            Stage::Repairing { key, until, .. } => {
                // Wait for the model until the repair's deadline, and not a moment longer.
                let left = (until - now).to_std().unwrap_or_default().min(MAX_REPAIR_WAIT);
                let outcome = job_result(state, call, &key, left).await;
                let result = match &outcome {
                    Some(JobOutcome::Repaired { value: Some(_) }) => "answered",
                    Some(_) => "unanswered",
                    None => "late",
                };
                metrics::counter!(REPAIRS, "result" => result).increment(1);
                let event = outcome.map_or(Event::JobPending, Event::JobSettled);
                decide.handle(&mut session, event).await?
            }
            // Nothing is pending: repeat the last answer.
            _ => match this_turn.checked_sub(1) {
                Some(last) => {
                    let twiml = state.sessions.reply(call, last).await?;
                    return Ok(twiml.map(|twiml| Answer { twiml, replayed: true }));
                }
                None => decide.handle(&mut session, Event::CallStarted).await?,
            },
        },
    };

    laps.lap("decide");
    if let Some(effect) = reply.effect.take() {
        let follow = match effect {
            Effect::LookUp { phone } => {
                let found = appointments::upcoming(&state.pool, business.profile.id, &phone, now).await?;
                decide.handle(&mut session, Event::Found(found)).await?
            }
            Effect::Repair(request) => {
                // Answer at once with the hold; the redirect waits for the result. A repair that
                // cannot be published is not worth an outbox: the caller is asked again.
                let job = Job::RepairAnswerV1(RepairAnswer {
                    idempotency_key: request.idempotency_key,
                    call_sid: session.call_sid.clone(),
                    business_id: business.profile.id,
                    field: request.field,
                    language: request.language,
                    heard: request.heard,
                    today: business.profile.today(now),
                    requested_at: now,
                });
                match state.publisher.publish(&job, REPAIR_PUBLISH_TIMEOUT).await {
                    Ok(()) => {
                        metrics::counter!(REPAIRS, "result" => "asked").increment(1);
                        Reply { say: Vec::new(), next: reply.next.clone(), effect: None, language: reply.language }
                    }
                    Err(error) => {
                        metrics::counter!(REPAIRS, "result" => "not_published").increment(1);
                        tracing::warn!(call.sid = %call, %error, "could not publish a repair; asking again");
                        reply.say.clear();
                        decide.handle(&mut session, Event::JobPending).await?
                    }
                }
            }
            job_effect => {
                let job = job_for(&session, &business, job_effect, now);
                let outcome = run_job(state, &session, &job).await;
                let event = outcome.map_or(Event::JobPending, Event::JobSettled);
                decide.handle(&mut session, event).await?
            }
        };
        reply = Reply { say: [reply.say, follow.say].concat(), ..follow };
        laps.lap("effect");
    }

    session.turn = this_turn + 1;
    let twiml = twiml::render(&reply, session.turn);
    match state.sessions.save(version, &session, this_turn, &twiml).await? {
        Saved::Saved => {
            keep_copy(state, &session, this_turn, &twiml, params).await;
            laps.lap("save");
            tracing::Span::current().record("stage", stage_name(&session.stage));
            tracing::info!(
                call.sid = %call,
                business = %business.profile.id,
                turn = this_turn,
                stage = stage_name(&session.stage),
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

/// The job an effect asks for.
fn job_for(session: &Session, business: &Business, effect: Effect, now: DateTime<Utc>) -> Job {
    let call_sid = session.call_sid.clone();
    let business_id = business.profile.id;
    match effect {
        Effect::Book(request) => Job::BookAppointmentV1(BookAppointment {
            idempotency_key: request.idempotency_key,
            call_sid,
            attempt: request.attempt,
            business_id,
            name: request.name,
            phone: request.phone,
            starts_at: request.slot.starts_at,
            ends_at: request.slot.ends_at,
            language: request.language,
            requested_at: now,
            deferred: false,
        }),
        Effect::Reschedule { idempotency_key, appointment_id, slot } => {
            Job::RescheduleAppointmentV1(RescheduleAppointment {
                idempotency_key,
                call_sid,
                business_id,
                appointment_id,
                starts_at: slot.starts_at,
                ends_at: slot.ends_at,
                requested_at: now,
                deferred: false,
            })
        }
        Effect::Cancel { idempotency_key, appointment_id } => Job::CancelAppointmentV1(CancelAppointment {
            idempotency_key,
            call_sid,
            business_id,
            appointment_id,
            requested_at: now,
            deferred: false,
        }),
        Effect::LookUp { .. } | Effect::Repair(_) => unreachable!("handled before"),
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
    job_result(state, &session.call_sid, key, state.config.booking_wait).await
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

fn stage_name(stage: &Stage) -> &'static str {
    match stage {
        Stage::Greeting => "greeting",
        Stage::Asking { field: Field::Name } => "asking_name",
        Stage::Asking { field: Field::SpelledName } => "asking_spelling",
        Stage::Asking { field: Field::Time } => "asking_time",
        Stage::Asking { field: Field::Phone } => "asking_phone",
        Stage::Asking { field: Field::LookupPhone } => "asking_lookup_phone",
        Stage::ConfirmCallerId => "confirm_caller_id",
        Stage::Offering { .. } => "offering",
        Stage::ReadBack => "read_back",
        Stage::WhatToChange => "what_to_change",
        Stage::ChooseExisting { .. } => "choose_existing",
        Stage::ConfirmCancel => "confirm_cancel",
        Stage::OfferNewBooking => "offer_new_booking",
        Stage::Waiting { .. } => "waiting",
        Stage::Repairing { .. } => "repairing",
        Stage::Ended => "ended",
    }
}
