//! Identity's events: what it publishes (it consumes none).

pub mod publish;
