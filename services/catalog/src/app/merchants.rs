//! Merchants: created by a merchant user, who becomes its staff; public to read.

use super::{AppError, Catalog};
use crate::domain::{Merchant, MerchantChange, NewMerchant};
use crate::events;
use crate::store::merchants;
use ordo_bus::EventMeta;
use ordo_kernel::Caller;
use ordo_kernel::{Page, PageRequest, Role};
use tracing::instrument;
use uuid::Uuid;

/// Most merchants one person is listed as working for.
const MAX_STAFFED: i64 = 100;

/// Merchants within `radius_km` of a point, nearest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

/// Most merchants a near-me query returns: it is one page, nearest first.
const MAX_NEAR: i64 = 500;

impl Catalog {
    /// # Errors
    /// `Forbidden` unless the caller is a merchant user, `Invalid` for bad fields.
    #[instrument(skip_all, fields(user.id = %caller.user_id))]
    pub async fn create_merchant(
        &self,
        caller: &Caller,
        new: NewMerchant,
        meta: &EventMeta,
    ) -> Result<Merchant, AppError> {
        if caller.role != Role::Merchant {
            return Err(AppError::Forbidden(
                "only merchant accounts create merchants",
            ));
        }
        let fields = new.validate()?;
        let now = ordo_kernel::time::now();
        let merchant = Merchant {
            id: ordo_kernel::new_id(),
            name: fields.name,
            kind: fields.kind,
            address: fields.address,
            lat: fields.lat,
            lon: fields.lon,
            opening_hours: fields.opening_hours,
            staff: vec![caller.user_id],
            image: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        merchants::insert(&mut tx, &merchant).await?;
        events::merchant_created(&self.outbox, &mut tx, &merchant, meta).await?;
        self.outbox.commit(tx).await?;
        self.changed(merchant.id);
        Ok(merchant)
    }

    /// # Errors
    /// `NotFound`.
    pub async fn merchant(&self, id: Uuid) -> Result<Merchant, AppError> {
        merchants::find(&self.db, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The merchants the caller works for, by name (at most `MAX_STAFFED`); none for a
    /// caller who staffs none.
    ///
    /// # Errors
    /// Only when the database fails.
    pub async fn staffed(&self, caller: &Caller) -> Result<Vec<Merchant>, AppError> {
        Ok(merchants::staffed_by(&self.db, caller.user_id, MAX_STAFFED).await?)
    }

    /// Newest first; or, with `near`, those within the radius, nearest first (one page).
    ///
    /// # Errors
    /// Only when the database fails.
    pub async fn merchants(
        &self,
        near: Option<Near>,
        page: PageRequest,
    ) -> Result<Page<Merchant>, AppError> {
        match near {
            None => {
                let rows =
                    merchants::page(&self.db, page.after.map(|c| c.0), page.fetch_limit()).await?;
                Ok(Page::from_rows(rows, page, |m| m.id))
            }
            Some(near) => {
                let center = (near.lat, near.lon);
                let (south_west, north_east) =
                    ordo_kernel::geo::bounding_box(center, near.radius_km);
                let mut found: Vec<(f64, Merchant)> =
                    merchants::in_box(&self.db, south_west, north_east, MAX_NEAR)
                        .await?
                        .into_iter()
                        .map(|m| (ordo_kernel::geo::distance_km(center, (m.lat, m.lon)), m))
                        .filter(|(distance, _)| *distance <= near.radius_km)
                        .collect();
                found.sort_by(|a, b| a.0.total_cmp(&b.0));
                Ok(Page {
                    items: found
                        .into_iter()
                        .take(page.limit as usize)
                        .map(|(_, m)| m)
                        .collect(),
                    next_cursor: None,
                })
            }
        }
    }

    /// # Errors
    /// `Forbidden` unless a merchant account or an administrator, `NotFound` for no such
    /// merchant or not the caller's, `Invalid` for bad fields.
    #[instrument(skip_all, fields(user.id = %caller.user_id, merchant.id = %id))]
    pub async fn update_merchant(
        &self,
        caller: &Caller,
        id: Uuid,
        change: MerchantChange,
        meta: &EventMeta,
    ) -> Result<Merchant, AppError> {
        super::require_staff_role(caller)?;
        let mut tx = self.db.begin().await?;
        let mut merchant = merchants::find(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.check_staff(&mut tx, caller, id).await?;
        ordo_kernel::patch::apply(&mut merchant, change)?;
        merchant.updated_at = ordo_kernel::time::now();
        merchants::update(&mut tx, &merchant).await?;
        events::merchant_updated(&self.outbox, &mut tx, &merchant, meta).await?;
        self.outbox.commit(tx).await?;
        self.changed(merchant.id);
        Ok(merchant)
    }
}
