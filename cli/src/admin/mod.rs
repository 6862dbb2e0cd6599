//! `bella admin …`: operators' commands. Each talks to PostgreSQL directly, with the same
//! library code the admin API uses.

pub mod business;
pub mod ops;
