//! The `bella` command as a library: bootstrapping the services and running the api and the
//! worker in one process (`bella all`, `api`, `worker`), the operators' commands (`bella admin`),
//! the Twilio call simulator behind `bella call`, and the extractors behind `bella parse`.
//! `main.rs` only parses the command line and calls into here, so tests run the very same code.

pub mod admin;
pub mod bootstrap;
pub mod call;
pub mod parse;
pub mod simulator;
pub mod telemetry;

pub use bootstrap::{Roles, Running};
