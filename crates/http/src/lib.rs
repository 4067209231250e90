//! HTTP plumbing shared by every service and the gateway: problem+json errors, extractors
//! with problem rejections, the `Authenticated` caller (`ordo_kernel::Caller`) extractor,
//! rate limits, live streams per user, the standard layer stack and a server with timeouts
//! and graceful shutdown. No business rules here.

pub mod auth;
pub mod caching;
pub mod extract;
pub mod layers;
pub mod overload;
pub mod problem;
pub mod ratelimit;
pub mod serve;
pub mod service_auth;
pub mod streams;
pub mod tls;

pub use auth::{Authenticated, TokenLife, Verifier, require};
pub use extract::{
    ClientIp, Json, PageQuery, Path, Query, Strict, Trace, Unknown, last_event_id, page_request,
};
pub use problem::{FieldError, Problem, Unavailable};
pub use streams::{StreamPass, Streams};
