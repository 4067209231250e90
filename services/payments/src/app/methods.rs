//! Saved cards: tokenised by the provider; only the token, brand, last four digits and
//! expiry are kept. A customer keeps several; the newest is the default.

use super::{AppError, Payments, PaymentsError};
use crate::domain::CardDetails;
use crate::domain::PaymentMethod;
use crate::store;
use ordo_kernel::Caller;
use ordo_kernel::{Page, PageRequest, Role};
use tracing::instrument;
use uuid::Uuid;

/// A saved card, and whether it is its customer's default: the newest they keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCard {
    pub method: PaymentMethod,
    pub default: bool,
}

impl Payments {
    /// # Errors
    /// `Forbidden` for non-customers, `Invalid` card details, `Conflict` past the limit,
    /// `Provider` when the processor cannot be reached.
    #[instrument(skip_all, fields(user.id = %caller.user_id))]
    pub async fn add_method(
        &self,
        caller: &Caller,
        card: CardDetails,
    ) -> Result<SavedCard, AppError> {
        if caller.role != Role::Customer {
            return Err(AppError::Forbidden("only customers keep payment methods"));
        }
        let now = ordo_kernel::time::now();
        let card = card.validate(i64::from(now.year()), i64::from(u8::from(now.month())))?;
        if store::count_methods(&self.db, caller.user_id).await? >= store::MAX_METHODS {
            return Err(
                PaymentsError::Conflict("payment method limit reached; remove one first").into(),
            );
        }
        let token = self.provider.tokenize(&card).await?;
        let method = PaymentMethod {
            id: ordo_kernel::new_id(),
            user_id: caller.user_id,
            provider: self.provider.name().to_owned(),
            token: token.token,
            brand: token.brand,
            last4: token.last4,
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            created_at: now,
        };
        let mut tx = self.db.begin().await?;
        store::insert_method(&mut tx, &method).await?;
        tx.commit().await?;
        Ok(SavedCard {
            method,
            default: true,
        })
    }

    /// A page of the caller's cards, newest first: the first of the first page is the
    /// default.
    ///
    /// # Errors
    /// Only when the database fails.
    pub async fn methods(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<SavedCard>, AppError> {
        let first_page = page.after.is_none();
        let page = store::methods(&self.db, caller.user_id, page).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .enumerate()
                .map(|(n, method)| SavedCard {
                    method,
                    default: first_page && n == 0,
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// # Errors
    /// `NotFound` when the card is not the caller's.
    pub async fn remove_method(&self, caller: &Caller, id: Uuid) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        if !store::remove_method(&mut tx, caller.user_id, id, ordo_kernel::time::now()).await? {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
