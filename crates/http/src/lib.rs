//! HTTP plumbing shared by every service and the gateway: problem+json errors, extractors
//! with problem rejections, the authenticated `Caller`, rate limits, the standard layer
//! stack and a server with timeouts and graceful shutdown. No business rules here.

pub mod auth;
pub mod extract;
pub mod layers;
pub mod problem;
pub mod ratelimit;
pub mod serve;

pub use auth::{Caller, Verifier};
pub use extract::{ClientIp, Json, Path, Query};
pub use problem::{FieldError, Problem};
