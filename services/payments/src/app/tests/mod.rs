//! The use cases against the provider on both databases: its requests (`requests`) and
//! refunds (`refunds`), sharing a database and a provider that holds its calls at a door
//! (`support`).

mod refunds;
mod requests;
mod support;
