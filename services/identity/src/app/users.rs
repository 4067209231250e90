//! Reading users and administering their access.

use super::{AppError, Identity, IdentityError};
use crate::domain::User;
use crate::store::{refresh_tokens, users};
use ordo_kernel::Caller;
use ordo_kernel::{Page, PageRequest, Role};
use tracing::instrument;
use uuid::Uuid;

/// An administrator's change to a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

impl Identity {
    /// A user's profile, for that user or an administrator; anyone else gets `NotFound`.
    ///
    /// # Errors
    /// `NotFound` when absent or not the caller's to see.
    pub async fn user(&self, caller: &Caller, id: Uuid) -> Result<User, AppError> {
        if caller.user_id != id && !caller.is_admin() {
            return Err(AppError::NotFound);
        }
        self.profile(id).await
    }

    /// Users newest first.
    ///
    /// # Errors
    /// Only when the database fails.
    pub async fn list_users(
        &self,
        role: Option<Role>,
        page: PageRequest,
    ) -> Result<Page<User>, AppError> {
        let rows = users::list(&self.db, role, page).await?;
        Ok(Page::from_rows(rows, page, |user| user.id))
    }

    /// Changes a user's role or disables them. Either ends their sessions at once: refresh
    /// tokens revoked, live streams ended and refused to the access tokens already issued,
    /// which otherwise lapse within their lifetime.
    ///
    /// # Errors
    /// `NotFound` for an unknown user, `Conflict` when an administrator would lock
    /// themselves out.
    #[instrument(skip_all, fields(admin.id = %admin.user_id, user.id = %id))]
    pub async fn change_access(
        &self,
        admin: &Caller,
        id: Uuid,
        change: AccessChange,
    ) -> Result<User, AppError> {
        if admin.user_id == id
            && (change.disabled == Some(true) || change.role.is_some_and(|r| r != Role::Admin))
        {
            return Err(IdentityError::Conflict(
                "administrators cannot disable or demote themselves",
            )
            .into());
        }
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        let user = users::find(&mut tx, id).await?.ok_or(AppError::NotFound)?;
        let role = change.role.unwrap_or(user.role);
        let disabled = change.disabled.unwrap_or(user.disabled);
        users::update_access(&mut tx, id, role, disabled, now).await?;
        if disabled || role != user.role {
            refresh_tokens::revoke_user(&mut tx, id, now).await?;
        }
        let updated = users::find(&mut tx, id).await?.ok_or(AppError::NotFound)?;
        tx.commit().await?;
        if disabled || role != user.role {
            let ttl = std::time::Duration::from_secs(self.config.access_token_ttl_secs);
            self.streams.end_sessions(id, ttl);
        }
        tracing::info!(role = %role, disabled, "user access changed");
        Ok(updated)
    }
}
