//! The reports' events: what they consume. They publish nothing.

pub mod consume;
