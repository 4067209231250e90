//! The reports refuse nothing of their own: the shared refusals answer as `ordo_kit` says.

use crate::app::AnalyticsError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for AnalyticsError {
    const NOT_FOUND: &'static str = "no such merchant";

    fn problem(&self) -> Problem {
        match *self {}
    }
}
