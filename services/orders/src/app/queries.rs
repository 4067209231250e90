//! Reading orders. An order is visible to its customer, its merchant's staff, the courier
//! carrying it and administrators; to anyone else it does not exist (404, never 403).

use super::{AppError, Orders};
use crate::domain::{HistoryEntry, Order, Status};
use crate::store::orders;
use ordo_kernel::Caller;
use ordo_kernel::{Page, PageRequest, Role};
use time::OffsetDateTime;
use uuid::Uuid;

/// How many orders wait in one status, and since when the longest-waiting one has.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenCount {
    pub status: Status,
    pub count: i64,
    pub oldest_since: OffsetDateTime,
}

impl Orders {
    /// The orders not yet at an end, counted by status in the order of the lifecycle
    /// (administrators).
    ///
    /// # Errors
    /// `Forbidden` for anyone but an administrator.
    pub async fn open_counts(&self, caller: &Caller) -> Result<Vec<OpenCount>, AppError> {
        if caller.role != Role::Admin {
            return Err(AppError::Forbidden("only administrators count every order"));
        }
        let mut counts: Vec<OpenCount> = orders::open_counts(&self.db)
            .await?
            .into_iter()
            .map(|(status, count, oldest_since)| OpenCount {
                status,
                count,
                oldest_since,
            })
            .collect();
        counts.sort_by_key(|c| Status::ALL.iter().position(|s| *s == c.status));
        Ok(counts)
    }

    /// Whether `caller` may see `order`.
    pub(crate) async fn may_see(&self, caller: &Caller, order: &Order) -> Result<bool, AppError> {
        Ok(match caller.role {
            Role::Admin => true,
            Role::Customer => order.customer_id == caller.user_id,
            Role::Merchant => self
                .clients
                .catalog
                .merchant(order.merchant_id)
                .await?
                .is_some_and(|m| m.staff.contains(&caller.user_id)),
            Role::Courier => order.courier_id == Some(caller.user_id),
        })
    }

    /// # Errors
    /// `NotFound` when there is no such order or the caller may not see it.
    pub async fn order(&self, caller: &Caller, id: Uuid) -> Result<Order, AppError> {
        let order = orders::find(&self.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if self.may_see(caller, &order).await? {
            Ok(order)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// A customer's own orders, or everyone's for an administrator; newest first.
    ///
    /// # Errors
    /// `Forbidden` for other roles (merchants have their queue).
    pub async fn orders(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<Order>, AppError> {
        let customer = match caller.role {
            Role::Admin => None,
            Role::Customer => Some(caller.user_id),
            Role::Merchant | Role::Courier => {
                return Err(AppError::Forbidden(
                    "orders are listed for customers and administrators",
                ));
            }
        };
        let rows = orders::page(
            &self.db,
            customer,
            page.after.map(|c| c.0),
            page.fetch_limit(),
        )
        .await?;
        Ok(Page::from_rows(rows, page, |o| o.id))
    }

    /// Every transition of the order, oldest first.
    ///
    /// # Errors
    /// `NotFound` as for `order`.
    pub async fn history(&self, caller: &Caller, id: Uuid) -> Result<Vec<HistoryEntry>, AppError> {
        self.order(caller, id).await?;
        Ok(orders::history(&self.db, id).await?)
    }
}
