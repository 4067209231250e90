//! The catalogue's SQL, the same on SQLite and PostgreSQL.

pub mod images;
pub mod merchants;
pub mod products;

#[cfg(test)]
mod tests;
