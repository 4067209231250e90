//! Search refuses nothing of its own: the shared refusals answer as `ordo_kit` says.

use crate::app::SearchError;
use ordo_http::Problem;
use ordo_kit::Refusal;

impl Refusal for SearchError {
    const NOT_FOUND: &'static str = "nothing to search";

    fn problem(&self) -> Problem {
        match *self {}
    }
}
