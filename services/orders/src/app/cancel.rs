//! Cancelling: the customer until the merchant accepts, an administrator later.

use super::transitions::Move;
use super::{AppError, Orders, OrdersError};
use crate::domain::{Actor, Order, Trigger};
use ordo_bus::EventMeta;
use ordo_kernel::Caller;
use ordo_kernel::Role;
use tracing::instrument;
use uuid::Uuid;

impl Orders {
    /// # Errors
    /// `NotFound` (not the caller's to see), `Forbidden` (merchants reject instead),
    /// `IllegalTransition` (too late to cancel).
    #[instrument(skip_all, fields(user.id = %caller.user_id, order.id = %id))]
    pub async fn cancel(
        &self,
        caller: &Caller,
        id: Uuid,
        meta: &EventMeta,
    ) -> Result<Order, AppError> {
        let order = self.order(caller, id).await?;
        let (trigger, actor) = match caller.role {
            Role::Customer => (Trigger::CustomerCancels, Actor::Customer),
            Role::Admin => (Trigger::AdminCancels, Actor::Admin),
            Role::Merchant | Role::Courier => {
                return Err(AppError::Forbidden("a merchant rejects an order instead"));
            }
        };
        let change = Move {
            trigger,
            actor,
            actor_id: Some(caller.user_id),
            cause: if actor == Actor::Admin {
                "cancelled by an operator"
            } else {
                "cancelled by the customer"
            },
        };
        let mut tx = self.db.begin().await?;
        if self.apply(&mut tx, id, &change, meta).await?.is_none() {
            return Err(OrdersError::IllegalTransition(order.status.as_str(), "cancelled").into());
        }
        self.outbox.commit(tx).await?;
        self.moved(id);
        self.order(caller, id).await
    }
}
