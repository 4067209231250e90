//! The orders service's SQL, the same on SQLite and PostgreSQL.

pub mod idempotency;
pub mod orders;
