//! What the reviews' own refusals answer over HTTP; the shared ones answer as `ordo_kit`
//! says.

use crate::app::ReviewsError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for ReviewsError {
    const NOT_FOUND: &'static str = "no such review, or no such order among yours";

    fn problem(&self) -> Problem {
        let kind = match self {
            ReviewsError::AlreadyReviewed => "already-reviewed",
            ReviewsError::NotCompleted => "order-not-completed",
            ReviewsError::AlreadyDecided(_) => "already-moderated",
            ReviewsError::AlreadyAnswered => "already-answered",
        };
        Problem::conflict(kind, self.to_string())
    }
}
