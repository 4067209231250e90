//! The catalogue's SQL, the same on SQLite and PostgreSQL.

pub mod merchants;
pub mod products;
