//! A use case's failure: the refusals every service shares (invalid input, not found,
//! forbidden), the failures nobody planned for, and the service's own refusals `E`. Each
//! service says once what its own refusals mean ([`Refusal`]); HTTP answers and the bus's
//! retry-or-dead-letter follow from that.

use ordo_bus::{BusError, Failure};
use ordo_contracts::ClientError;
use ordo_http::{Problem, Unavailable};
use ordo_kernel::Violations;

#[derive(Debug, thiserror::Error)]
pub enum Error<E: Refusal> {
    #[error("invalid request: {0}")]
    Invalid(Violations),
    /// What is absent, or not the caller's to see: a 404 either way.
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Service(E),
    /// A database, the bus or another service failing: a 500 whose cause is logged (a 503
    /// when the cause is an outage), and an event handled again later.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

/// A service's own refusals: what they answer over HTTP, and whether an event handler
/// failing with one should try again.
pub trait Refusal: std::error::Error + Send + Sync + 'static {
    /// The detail of the service's 404, naming what it keeps: "no such order".
    const NOT_FOUND: &'static str;

    fn problem(&self) -> Problem;

    /// True when trying again later may succeed; false dead-letters the event at once.
    fn is_transient(&self) -> bool {
        false
    }

    /// True when the event follows another, of another source, not handled here yet (an
    /// order's payment before its placement): it waits for it without spending attempts.
    fn is_early(&self) -> bool {
        false
    }
}

impl<E: Refusal> From<E> for Error<E> {
    fn from(refusal: E) -> Self {
        Error::Service(refusal)
    }
}

impl<E: Refusal> From<Violations> for Error<E> {
    fn from(violations: Violations) -> Self {
        Error::Invalid(violations)
    }
}

/// The answer to a storage failure outside any use case (the platform's own routes): 503
/// when the database is down, else 500.
#[must_use]
pub fn storage_problem(cause: impl Into<ordo_db::Error>) -> Problem {
    let cause = cause.into();
    let down = cause.is_unavailable();
    Problem::internal(unexpected(cause, down).as_ref())
}

/// `cause`, marked as an outage for the HTTP answer (503, not 500) when `down`.
fn unexpected<C>(cause: C, down: bool) -> anyhow::Error
where
    C: Into<Box<dyn std::error::Error + Send + Sync + 'static>> + Into<anyhow::Error>,
{
    if down {
        Unavailable::new(cause).into()
    } else {
        cause.into()
    }
}

impl<E: Refusal> From<anyhow::Error> for Error<E> {
    fn from(cause: anyhow::Error) -> Self {
        let down = ordo_db::caused_by_unavailable(cause.as_ref());
        Error::Unexpected(unexpected(cause, down))
    }
}

impl<E: Refusal> From<ordo_db::Error> for Error<E> {
    fn from(cause: ordo_db::Error) -> Self {
        let down = cause.is_unavailable();
        Error::Unexpected(unexpected(cause, down))
    }
}

impl<E: Refusal> From<BusError> for Error<E> {
    fn from(cause: BusError) -> Self {
        let down = ordo_db::caused_by_unavailable(&cause);
        Error::Unexpected(unexpected(cause, down))
    }
}

/// Redis that cannot be reached is an outage, as a database that cannot.
impl<E: Refusal> From<ordo_redis::Error> for Error<E> {
    fn from(cause: ordo_redis::Error) -> Self {
        let down = matches!(cause, ordo_redis::Error::Unreachable(_));
        Error::Unexpected(unexpected(cause, down))
    }
}

impl<E: Refusal> Error<E> {
    /// Whether this is an outage of something the service depends on (answered 503).
    #[must_use]
    pub fn is_outage(&self) -> bool {
        matches!(self, Error::Unexpected(cause) if cause.chain().any(|e| e.is::<Unavailable>()))
    }
}

impl<E: Refusal> From<ClientError> for Error<E> {
    fn from(cause: ClientError) -> Self {
        let down = matches!(cause, ClientError::Unavailable { .. });
        Error::Unexpected(unexpected(cause, down))
    }
}

impl<E: Refusal> From<Error<E>> for Problem {
    fn from(error: Error<E>) -> Self {
        match error {
            Error::Invalid(violations) => Problem::invalid(violations),
            Error::NotFound => Problem::not_found(E::NOT_FOUND),
            Error::Forbidden(detail) => Problem::forbidden(detail),
            Error::Service(refusal) => refusal.problem(),
            Error::Unexpected(cause) => Problem::internal(cause.as_ref()),
        }
    }
}

impl<E: Refusal> Failure for Error<E> {
    fn is_transient(&self) -> bool {
        match self {
            Error::Service(refusal) => refusal.is_transient(),
            Error::Unexpected(_) => true,
            Error::Invalid(_) | Error::NotFound | Error::Forbidden(_) => false,
        }
    }

    fn is_early(&self) -> bool {
        matches!(self, Error::Service(refusal) if refusal.is_early())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[derive(Debug, thiserror::Error)]
    enum ToyError {
        #[error("the toy is broken")]
        Broken,
        #[error("the toy is not back yet")]
        Away,
    }

    impl Refusal for ToyError {
        const NOT_FOUND: &'static str = "no such toy";

        fn problem(&self) -> Problem {
            Problem::conflict("toy", self.to_string())
        }

        fn is_transient(&self) -> bool {
            matches!(self, ToyError::Away)
        }
    }

    fn status(error: Error<ToyError>) -> StatusCode {
        Problem::from(error).status()
    }

    #[test]
    fn shared_refusals_answer_alike_and_own_ones_as_the_service_says() {
        let mut violations = Violations::new();
        violations.add("name", "must not be empty");
        assert_eq!(status(violations.into()), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(status(Error::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status(Error::Forbidden("no")), StatusCode::FORBIDDEN);
        assert_eq!(status(ToyError::Broken.into()), StatusCode::CONFLICT);
        assert_eq!(
            status(anyhow::anyhow!("disk full").into()),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn an_outage_below_answers_503_and_a_fault_500() {
        assert_eq!(
            status(ordo_db::Error::Busy.into()),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(ordo_db::Error::NoRow.into()),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let down = ClientError::Unavailable {
            service: "catalog",
            detail: "no connection".into(),
        };
        assert_eq!(status(down.into()), StatusCode::SERVICE_UNAVAILABLE);
        let failed = ClientError::Failed {
            service: "catalog",
            detail: "a bug".into(),
        };
        assert_eq!(status(failed.into()), StatusCode::INTERNAL_SERVER_ERROR);
        let wrapped = anyhow::Error::new(ordo_db::Error::Busy).context("reading the cart");
        assert_eq!(status(wrapped.into()), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            storage_problem(ordo_db::Error::Closed).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn only_the_unexpected_and_the_service_s_transient_refusals_are_retried() {
        let transient = |error: Error<ToyError>| error.is_transient();
        assert!(transient(anyhow::anyhow!("database down").into()));
        assert!(transient(ToyError::Away.into()));
        assert!(!transient(ToyError::Broken.into()));
        assert!(!transient(Error::NotFound));
        assert!(!transient(Error::Forbidden("no")));
    }
}
