//! Domain -> contract, appended in the use case's transaction.

use ordo_bus::{BusError, EventMeta, Outbox};
use ordo_contracts::identity::PasswordResetRequested;
use ordo_db::Tx;
use time::OffsetDateTime;
use uuid::Uuid;

/// A link to reset the password of `user_id`, carrying `token`, is to be mailed.
pub(crate) async fn password_reset_requested(
    outbox: &Outbox,
    tx: &mut Tx,
    user_id: Uuid,
    token: String,
    expires_at: OffsetDateTime,
    meta: &EventMeta,
) -> Result<(), BusError> {
    let event = PasswordResetRequested {
        user_id,
        token,
        expires_at,
    };
    outbox
        .append(tx, &user_id.to_string(), &event, meta)
        .await
        .map(|_| ())
}
