//! Extractors: from one transcribed utterance (and any keypad digits) to typed values.
//!
//! Each extractor is a pure function, runnable through `bella parse`, and is tested on its own.

pub(crate) mod numbers;

pub mod intent;
pub mod language;
pub mod name;
pub mod phone;
pub mod spelling;
pub mod time;
pub mod yesno;

pub use intent::{Intent, intent};
pub use name::{PersonName, answered_name, introduced_name, name_as_heard};
pub use phone::{callback_number, spoken_digits};
pub use time::TimeRequest;
pub use yesno::{Answer, answer};
