//! What the notifications service publishes to itself: emails and text messages to send,
//! retried by the bus; and what it tells others.

use crate::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service that publishes these events.
pub const SOURCE: &str = "notifications";

/// A notification is to be sent by email too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailRequested {
    pub notification_id: Uuid,
    pub user_id: Uuid,
    pub subject: String,
    pub body: String,
}

impl Event for EmailRequested {
    const TYPE: &'static str = "email.requested";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

/// A notification is to be sent by text message too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsRequested {
    pub notification_id: Uuid,
    pub user_id: Uuid,
    pub body: String,
}

impl Event for SmsRequested {
    const TYPE: &'static str = "sms.requested";
    const SOURCE: &'static str = SOURCE;
    const VERSION: u32 = 1;
}

/// Notifications as other services ask it: what it sent about an order (its part of the
/// order's timeline).
pub trait NotificationsClient: crate::timeline::OrderTimeline {}
