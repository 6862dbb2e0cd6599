//! A run's own corner of the machine's PostgreSQL, Redis and RabbitMQ, shared by the end-to-end
//! tests (`bella-e2e`) and the bench (`bella-bench`): a database made for the run and dropped
//! after it ([`database`]), a namespace whose Redis keys and RabbitMQ queues and exchanges are
//! removed with it ([`namespace`]), and `bella` started as a child process with the run's
//! environment and nothing else ([`process`]).
//!
//! Clean-up does what it can and reports nothing: it runs when a test or a bench ends, often
//! after a failure, and must not hide that failure behind its own.

pub mod database;
pub mod namespace;
pub mod process;

pub use database::{create_database, database_url, drop_database, stamped_name, sweep_databases};
pub use namespace::remove_namespace;
pub use process::{Child, bella_binary, command, free_port};
