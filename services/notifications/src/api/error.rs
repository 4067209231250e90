//! What notifications' own failures answer over HTTP and mean to the bus; the shared ones
//! answer as `ordo_kit` says.

use crate::app::NotificationsError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for NotificationsError {
    const NOT_FOUND: &'static str = "no such notification";

    fn problem(&self) -> Problem {
        Problem::internal(self)
    }

    /// Another service's event may overtake the order's own, and a mail server or a
    /// text-message gateway may come back: all are worth waiting for.
    fn is_transient(&self) -> bool {
        match self {
            NotificationsError::UnknownOrder(_)
            | NotificationsError::EmailFailed(_)
            | NotificationsError::SmsFailed(_) => true,
        }
    }

    /// An order's later events wait for its placement, which tells who it concerns.
    fn is_early(&self) -> bool {
        matches!(self, NotificationsError::UnknownOrder(_))
    }
}
