//! A user's delivery addresses. Another user's address is `NotFound`, never `Forbidden`:
//! its existence is not the caller's business.

use super::{AppError, Identity, IdentityError};
use crate::domain::{Address, AddressChange, NewAddress};
use crate::store::addresses;
use tracing::instrument;
use uuid::Uuid;

impl Identity {
    /// # Errors
    /// Only when the database fails.
    pub async fn addresses(&self, user_id: Uuid) -> Result<Vec<Address>, AppError> {
        Ok(addresses::list(&self.db, user_id).await?)
    }

    /// # Errors
    /// `Invalid` for bad fields, `Conflict` past the per-user limit.
    #[instrument(skip_all, fields(user.id = %user_id))]
    pub async fn add_address(&self, user_id: Uuid, new: NewAddress) -> Result<Address, AppError> {
        let new = new.validate()?;
        let now = ordo_kernel::time::now();
        let address = Address {
            id: ordo_kernel::new_id(),
            user_id,
            label: new.label,
            postal: new.postal,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        if addresses::count(&mut tx, user_id).await? >= addresses::MAX_PER_USER {
            return Err(IdentityError::Conflict("address limit reached; delete one first").into());
        }
        addresses::insert(&mut tx, &address).await?;
        tx.commit().await?;
        Ok(address)
    }

    /// # Errors
    /// `NotFound` when the address is not the user's, `Invalid` for bad fields.
    #[instrument(skip_all, fields(user.id = %user_id, address.id = %id))]
    pub async fn update_address(
        &self,
        user_id: Uuid,
        id: Uuid,
        change: AddressChange,
    ) -> Result<Address, AppError> {
        let mut tx = self.db.begin().await?;
        let mut address = addresses::find(&mut tx, user_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        ordo_kernel::patch::apply(&mut address, change)?;
        address.updated_at = ordo_kernel::time::now();
        addresses::update(&mut tx, &address).await?;
        tx.commit().await?;
        Ok(address)
    }

    /// # Errors
    /// `NotFound` when the address is not the user's.
    #[instrument(skip_all, fields(user.id = %user_id, address.id = %id))]
    pub async fn delete_address(&self, user_id: Uuid, id: Uuid) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        if !addresses::delete(&mut tx, user_id, id).await? {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
