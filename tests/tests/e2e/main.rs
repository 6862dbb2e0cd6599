//! End-to-end tests: whole calls through the real server, against real services.
//! Each test has its own database, Redis namespace and RabbitMQ queues (see the harness).

// Helpers fail their test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod browser;
mod calendar_feed;
mod callers;
mod calls;
mod console;
mod conversations;
mod durability;
mod jobs;
mod observability;
mod openapi;
mod operations;
mod repair;
mod security;
mod sms;
