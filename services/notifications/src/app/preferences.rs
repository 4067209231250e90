//! Each user's choice of channels per topic.

use super::{AppError, Notifications};
use crate::domain::preferences::{self, Requested};
use crate::domain::{Preferences, Topic};
use crate::store;
use ordo_kernel::Caller;
use tracing::instrument;

impl Notifications {
    /// The caller's channels for every topic.
    ///
    /// # Errors
    /// Only when the database fails.
    pub async fn preferences(&self, caller: &Caller) -> Result<Preferences, AppError> {
        let chosen = store::preferences::chosen(&self.db, caller.user_id).await?;
        Ok(Preferences::new(&chosen))
    }

    /// Keeps the caller's choice for the topics in `requested`; the others stay as they
    /// were.
    ///
    /// # Errors
    /// `Invalid` when the inbox would be turned off, or text messages chosen without a
    /// phone number on the profile; identity or the database failing.
    #[instrument(skip_all, fields(user.id = %caller.user_id))]
    pub async fn choose(
        &self,
        caller: &Caller,
        requested: &[(Topic, Requested)],
    ) -> Result<Preferences, AppError> {
        let has_phone = if requested.iter().any(|(_, asked)| asked.sms) {
            let contact = self.identity.contact(caller.user_id).await?;
            contact.and_then(|c| c.phone).is_some()
        } else {
            false
        };
        let chosen = preferences::change(requested, has_phone).map_err(AppError::Invalid)?;
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        for (topic, channels) in chosen {
            store::preferences::choose(&mut tx, caller.user_id, topic, channels, now).await?;
        }
        let all = store::preferences::chosen(&mut tx, caller.user_id).await?;
        tx.commit().await?;
        Ok(Preferences::new(&all))
    }
}
