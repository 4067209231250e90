//! Search's events: it only consumes (`consume`).

pub mod consume;
