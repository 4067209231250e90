//! The `ordo` binary's library: configuration, the service registry, the platform (every
//! service in one process), the gateway and the command line. `main.rs` only calls `cli`.

pub mod backup;
pub mod bench;
pub mod cli;
pub mod config;
pub mod dead_letters;
pub mod demo;
pub mod edge;
pub mod gateway;
pub mod logging;
pub mod ops;
pub mod platform;
pub mod probe;
pub mod registry;
pub mod runbook;
pub mod server;
pub mod sim;
pub mod web;

pub use config::Config;
pub use platform::Platform;
pub use server::Running;
