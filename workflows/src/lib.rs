//! Bella's domain, with no I/O.
//!
//! Everything a call needs to be understood and decided lives here as pure functions of values and
//! a clock passed in: the conversation state machine ([`dialogue`]), the extractors that turn a
//! transcribed utterance into a name, a time, a phone number or a yes/no ([`extract`]), the
//! business rules that say whether a slot can be booked ([`schedule`]), and the job messages that
//! the api hands to the worker ([`jobs`]). The api and the worker are adapters around this crate;
//! a reader finds the whole call flow here and can test it in microseconds.

pub mod dialogue;
pub mod extract;
pub mod holidays;
pub mod ids;
pub mod jobs;
pub mod phone;
pub mod privacy;
pub mod repair;
pub mod runs;
pub mod schedule;
pub mod sms;
pub mod speech;
pub mod text;

pub use ids::{AppointmentRef, BusinessId, CallSid, Language};
pub use phone::E164;
