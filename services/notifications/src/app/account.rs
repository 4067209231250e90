//! A password-reset link, mailed whatever the person chose for other messages: it is how
//! they get back in. It is never filed in the inbox, which they cannot read without it.

use super::{AppError, Notifications, NotificationsError};
use crate::domain;
use ordo_contracts::identity::PasswordResetRequested;
use tracing::instrument;

impl Notifications {
    /// Mails the link to the user's address.
    #[instrument(skip_all, fields(user.id = %requested.user_id))]
    pub(crate) async fn password_reset(
        &self,
        requested: &PasswordResetRequested,
    ) -> Result<(), AppError> {
        let Some(mailer) = &self.mailer else {
            tracing::warn!("no mail server (smtp_url): a password-reset link cannot be sent");
            return Ok(());
        };
        let left = requested.expires_at - ordo_kernel::time::now();
        // Retried past its life, the link would be useless to send.
        if !left.is_positive() {
            return Ok(());
        }
        let Some(contact) = self.identity.contact(requested.user_id).await? else {
            return Ok(());
        };
        let link = format!("{}/#/reset?token={}", self.public_url, requested.token);
        let minutes = (left.whole_seconds() + 59) / 60;
        let (subject, body) = domain::password_reset_email(&contact.name, &link, minutes);
        mailer
            .send(&contact, &subject, &body)
            .await
            .map_err(|error| NotificationsError::EmailFailed(error).into())
    }
}
