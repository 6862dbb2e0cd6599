//! Holding the time a caller is about to book (see [`adapters::redis::Holds`]): the turn engine
//! holds the time a turn chose or offered first, decides again when another call took it a
//! moment before, and lets go once the call has booked, changed its mind or ended.

use adapters::metrics::SLOT_HOLDS;
use chrono::{DateTime, Utc};
use workflows::dialogue::{Session, Stage};
use workflows::schedule::{BusinessProfile, Slot};

use crate::AppState;

/// Whether the time a turn chose is the caller's to read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// Held (or nothing to hold, or Redis could not say: the booking's constraint decides).
    Kept,
    /// Another call holds it: the turn must be decided again.
    Lost,
}

/// The time `session` wants kept from other callers: the time chosen, else the first offered
/// (the one a "yes" takes).
pub(crate) fn wanted(session: &Session) -> Option<Slot> {
    if session.is_over() {
        return None;
    }
    session.draft.slot.or_else(|| match &session.stage {
        Stage::Offering { options } => options.first().copied(),
        _ => None,
    })
}

/// Holds the time `after` wants. `booked` is the calendar the turn read, when it read one: the
/// hold is refused when other callers' holds fill what the bookings leave free. A caller's own
/// hold is renewed whatever the calendar says.
pub(crate) async fn hold(
    state: &AppState,
    business: &BusinessProfile,
    after: &Session,
    booked: Option<&[Slot]>,
    now: DateTime<Utc>,
) -> Held {
    let Some(slot) = wanted(after) else { return Held::Kept };
    let capacity = usize::try_from(business.capacity).unwrap_or(1);
    let free = booked.map_or(capacity, |booked| {
        capacity.saturating_sub(booked.iter().filter(|other| other.overlaps(&slot)).count())
    });
    let result = match state.holds.take(business.id, &after.call_sid, slot, free, now).await {
        Ok(true) => ("held", Held::Kept),
        Ok(false) => ("lost", Held::Lost),
        Err(error) => {
            tracing::warn!(call.sid = %after.call_sid, %error, "could not hold the caller's time; carrying on");
            ("error", Held::Kept)
        }
    };
    metrics::counter!(SLOT_HOLDS, "result" => result.0).increment(1);
    result.1
}

/// After the turn's effect: hold a time the outcome chose (another offer after "that was just
/// taken"), or let go when the call no longer wants one (booked, ended, moved on).
pub(crate) async fn settle(
    state: &AppState,
    business: &BusinessProfile,
    previously: Option<Slot>,
    after: &Session,
    now: DateTime<Utc>,
) {
    match (previously, wanted(after)) {
        (_, Some(slot)) if previously != Some(slot) => {
            hold(state, business, after, None, now).await;
        }
        (Some(_), None) => {
            if let Err(error) = state.holds.release(business.id, &after.call_sid).await {
                tracing::warn!(call.sid = %after.call_sid, %error, "could not release a held time; it lapses by itself");
                return;
            }
            metrics::counter!(SLOT_HOLDS, "result" => "released").increment(1);
        }
        _ => {}
    }
}
