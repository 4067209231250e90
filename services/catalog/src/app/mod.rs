//! The catalogue's use cases. Every write runs in one transaction that also appends its
//! events to the outbox: load through `store`, decide in `domain`, save, append, commit.

mod client;
mod merchants;
mod pictures;
mod products;

pub use merchants::Near;

use ordo_bus::{Echoes, Outbox};
use ordo_db::{Db, Executor};
use ordo_kernel::Caller;
use ordo_kernel::Role;
use uuid::Uuid;

pub struct Catalog {
    db: Db,
    outbox: Outbox,
    /// Where other processes hear which merchants and products changed: what their
    /// clients keep of them goes (`crate::remote`).
    echoes: Echoes,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the merchant already has a product with this SKU")]
    SkuTaken,
    /// The content is no picture known.
    #[error("the body is not a {declared} picture")]
    NotAnImage { declared: &'static str },
    /// The content is a picture of another type than its `Content-Type` says.
    #[error("the body is {found}, not {declared}")]
    ImageTypeMismatch {
        declared: &'static str,
        found: &'static str,
    },
    #[error("the {kind} picture could not be decoded")]
    ImageUnreadable { kind: &'static str },
    #[error("the picture has too many pixels")]
    ImageTooLarge,
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<CatalogError>;

impl Catalog {
    /// The catalogue over its database, publishing through `outbox` and telling other
    /// processes of its changes through `echoes`.
    #[must_use]
    pub fn new(db: Db, outbox: Outbox, echoes: Echoes) -> Self {
        Catalog { db, outbox, echoes }
    }

    /// Tells other processes that the merchant or product `id` changed, once committed.
    fn changed(&self, id: Uuid) {
        self.echoes.send(crate::CHANGED, &[id]);
    }

    /// Whether `caller` may act for the merchant: one of its staff, or an administrator.
    /// Another merchant's staff get `NotFound`: what is not theirs does not exist for them.
    async fn check_staff(
        &self,
        db: impl Executor,
        caller: &Caller,
        merchant_id: Uuid,
    ) -> Result<(), AppError> {
        require_staff_role(caller)?;
        if caller.role == Role::Admin
            || crate::store::merchants::is_staff(db, merchant_id, caller.user_id).await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// Only merchant accounts and administrators ever act for a merchant: any other role is
/// `Forbidden` whatever the merchant, before anything is looked up.
fn require_staff_role(caller: &Caller) -> Result<(), AppError> {
    if matches!(caller.role, Role::Merchant | Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only a merchant's staff may do this"))
    }
}
