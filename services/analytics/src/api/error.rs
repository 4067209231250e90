//! What the reports' own refusal means; the shared refusals answer as `ordo_kit` says.

use crate::app::AnalyticsError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for AnalyticsError {
    const NOT_FOUND: &'static str = "no such merchant";

    fn problem(&self) -> Problem {
        match self {
            AnalyticsError::NotPlacedYet(_) => Problem::conflict("not-placed", self.to_string()),
        }
    }

    fn is_early(&self) -> bool {
        matches!(self, AnalyticsError::NotPlacedYet(_))
    }
}
