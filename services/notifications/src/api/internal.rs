//! Notifications' internal routes (`/internal/v1/notifications`), for services in other
//! processes: `NotificationsClient` (an order's messages) over HTTP. `crate::remote` is
//! their client.

use crate::app::Notifications;
use ordo_kit::internal::timeline_route;
use std::sync::Arc;

pub fn router(notifications: Arc<Notifications>) -> axum::Router {
    timeline_route(notifications)
}
