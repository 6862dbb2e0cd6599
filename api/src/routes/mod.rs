//! HTTP routes. Each handler is thin: it parses the request and calls library code.

pub mod admin;
pub mod calendar;
pub mod health;
pub mod voice;
