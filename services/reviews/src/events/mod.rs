//! The reviews' events: what it consumes (`consume`) and publishes (`publish`).

pub mod consume;
mod publish;

pub(crate) use publish::review_published;
