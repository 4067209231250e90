//! Text messages: sent through the provider as each user chose, every attempt recorded,
//! read by operators.

use super::{AppError, Notifications, NotificationsError};
use crate::sms::Sms;
use crate::store::{self, Attempt, sms::SmsRecord};
use ordo_contracts::notifications::SmsRequested;
use ordo_db::Tx;
use ordo_kernel::{Caller, Page, PageRequest};
use uuid::Uuid;

impl Notifications {
    /// Sends a requested text message to the user's phone; a failure is recorded and
    /// retried by the bus. A user who removed their phone number meanwhile gets none.
    pub(crate) async fn text(&self, tx: &mut Tx, requested: &SmsRequested) -> Result<(), AppError> {
        let contact = self.identity.contact(requested.user_id).await?;
        let Some(phone) = contact.and_then(|c| c.phone) else {
            return Ok(());
        };
        let sms = Sms {
            id: requested.notification_id,
            to: phone,
            body: requested.body.clone(),
        };
        let sent = self.sms.send(&sms).await;
        let record = SmsRecord {
            id: ordo_kernel::new_id(),
            notification_id: requested.notification_id,
            user_id: requested.user_id,
            phone: sms.to,
            body: sms.body,
            provider: self.sms.name().to_owned(),
            error: sent.as_ref().err().cloned(),
            at: ordo_kernel::time::now(),
        };
        match sent {
            Ok(()) => {
                store::sms::insert(tx, &record).await?;
                Ok(())
            }
            Err(error) => {
                self.record_failure(Attempt::Sms(record));
                Err(NotificationsError::SmsFailed(error).into())
            }
        }
    }

    /// The text messages sent or tried, newest first, of one user or of everyone.
    ///
    /// # Errors
    /// `Forbidden` for anyone but an administrator; the database failing.
    pub async fn text_messages(
        &self,
        caller: &Caller,
        user: Option<Uuid>,
        page: PageRequest,
    ) -> Result<Page<SmsRecord>, AppError> {
        if !caller.is_admin() {
            return Err(AppError::Forbidden(
                "only administrators read the text messages sent",
            ));
        }
        let rows =
            store::sms::page(&self.db, user, page.after.map(|c| c.0), page.fetch_limit()).await?;
        Ok(Page::from_rows(rows, page, |record| record.id))
    }
}
