//! Signing up, the admin bootstrap, and one's own profile.

use super::{AppError, Identity, IdentityError};
use crate::domain::{Email, Password, ProfileChange, Registration, User};
use crate::store::users;
use ordo_kernel::Role;
use tracing::instrument;
use uuid::Uuid;

impl Identity {
    /// Creates a customer, merchant or courier account.
    ///
    /// # Errors
    /// `Invalid` for bad fields, `EmailTaken` when the address is registered.
    #[instrument(skip_all)]
    pub async fn register(&self, registration: Registration) -> Result<User, AppError> {
        let Registration {
            email,
            password,
            name,
            role,
        } = registration;
        self.create_user(email, password, name, role).await
    }

    /// Creates an administrator; only the command line calls this.
    ///
    /// # Errors
    /// `Invalid` for a bad email or password, `EmailTaken` when the address is registered.
    #[instrument(skip_all)]
    pub async fn create_admin(&self, email: &str, password: &str) -> Result<User, AppError> {
        let mut violations = ordo_kernel::Violations::new();
        let email = violations.check("email", Email::parse(email));
        let password = violations.check("password", Password::parse(password));
        let (Some(email), Some(password)) = (email, password) else {
            return Err(AppError::Invalid(violations));
        };
        self.create_user(email, password, "Administrator".into(), Role::Admin)
            .await
    }

    async fn create_user(
        &self,
        email: Email,
        password: Password,
        name: String,
        role: Role,
    ) -> Result<User, AppError> {
        let hash = self.passwords.hash(password.expose().to_owned()).await?;
        let now = ordo_kernel::time::now();
        let user = User {
            id: ordo_kernel::new_id(),
            email: email.as_str().to_owned(),
            name,
            phone: None,
            role,
            email_verified: false,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        match users::insert(&mut tx, &user, &hash).await {
            Ok(()) => {}
            Err(error) if error.is_unique_violation() => {
                return Err(IdentityError::EmailTaken.into());
            }
            Err(error) => return Err(error.into()),
        }
        tx.commit().await?;
        tracing::info!(user.id = %user.id, role = %user.role, "user created");
        Ok(user)
    }

    /// The caller's own profile. A disabled or deleted account is `NotFound`.
    ///
    /// # Errors
    /// `NotFound` when the user does not exist.
    pub async fn profile(&self, user_id: Uuid) -> Result<User, AppError> {
        users::find(&self.db, user_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Changes the caller's own name or phone.
    ///
    /// # Errors
    /// `NotFound` when the user does not exist.
    #[instrument(skip_all, fields(user.id = %user_id))]
    pub async fn update_profile(
        &self,
        user_id: Uuid,
        change: ProfileChange,
    ) -> Result<User, AppError> {
        let mut tx = self.db.begin().await?;
        let mut user = users::find(&mut tx, user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        change.apply_to(&mut user);
        user.updated_at = ordo_kernel::time::now();
        users::update_profile(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(user)
    }
}
