//! Products: written by their merchant's staff; public to read while active.

use super::{AppError, Catalog, CatalogError};
use crate::domain::{NewProduct, Product, ProductChange};
use crate::events;
use crate::store::{merchants, products};
use ordo_bus::EventMeta;
use ordo_kernel::Caller;
use ordo_kernel::{Page, PageRequest};
use tracing::instrument;
use uuid::Uuid;

fn sku_conflict(error: ordo_db::Error) -> AppError {
    if error.is_unique_violation() {
        CatalogError::SkuTaken.into()
    } else {
        error.into()
    }
}

impl Catalog {
    /// # Errors
    /// `Forbidden` unless a merchant account or an administrator, `NotFound` for no such
    /// merchant or not the caller's, `Invalid`, `SkuTaken`.
    #[instrument(skip_all, fields(user.id = %caller.user_id, merchant.id = %merchant_id))]
    pub async fn create_product(
        &self,
        caller: &Caller,
        merchant_id: Uuid,
        new: NewProduct,
        meta: &EventMeta,
    ) -> Result<Product, AppError> {
        super::require_staff_role(caller)?;
        let mut tx = self.db.begin().await?;
        merchants::find(&mut tx, merchant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.check_staff(&mut tx, caller, merchant_id).await?;
        let fields = new.validate()?;
        let now = ordo_kernel::time::now();
        let product = Product {
            id: ordo_kernel::new_id(),
            merchant_id,
            name: fields.name,
            description: fields.description,
            category: fields.category,
            price: fields.price,
            sku: fields.sku,
            tags: fields.tags,
            active: fields.active,
            image: None,
            created_at: now,
            updated_at: now,
        };
        products::insert(&mut tx, &product)
            .await
            .map_err(sku_conflict)?;
        events::product_created(&self.outbox, &mut tx, &product, meta).await?;
        self.outbox.commit(tx).await?;
        self.changed(product.id);
        Ok(product)
    }

    /// A product, active or not (clients show inactive ones as unavailable).
    ///
    /// # Errors
    /// `NotFound`, also for a deleted product.
    pub async fn product(&self, id: Uuid) -> Result<Product, AppError> {
        products::find(&self.db, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// A merchant's products, newest first: the active ones, or all for its staff.
    ///
    /// # Errors
    /// `NotFound` for no such merchant.
    pub async fn products(
        &self,
        caller: Option<&Caller>,
        merchant_id: Uuid,
        page: PageRequest,
    ) -> Result<Page<Product>, AppError> {
        merchants::find(&self.db, merchant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let staff = match caller {
            Some(caller) => self
                .check_staff(&self.db, caller, merchant_id)
                .await
                .is_ok(),
            None => false,
        };
        let rows = products::of_merchant(
            &self.db,
            merchant_id,
            staff,
            page.after.map(|c| c.0),
            page.fetch_limit(),
        )
        .await?;
        Ok(Page::from_rows(rows, page, |p| p.id))
    }

    /// The merchant's menu sections: categories of its active products, with their counts.
    ///
    /// # Errors
    /// `NotFound` for no such merchant.
    pub async fn categories(&self, merchant_id: Uuid) -> Result<Vec<(String, i64)>, AppError> {
        merchants::find(&self.db, merchant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(products::categories(&self.db, merchant_id).await?)
    }

    /// # Errors
    /// `Forbidden` unless a merchant account or an administrator, `NotFound` for no such
    /// product or not the caller's merchant's, `Invalid`, `SkuTaken`.
    #[instrument(skip_all, fields(user.id = %caller.user_id, product.id = %id))]
    pub async fn update_product(
        &self,
        caller: &Caller,
        id: Uuid,
        change: ProductChange,
        meta: &EventMeta,
    ) -> Result<Product, AppError> {
        super::require_staff_role(caller)?;
        let mut tx = self.db.begin().await?;
        let mut product = products::find(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.check_staff(&mut tx, caller, product.merchant_id)
            .await?;
        ordo_kernel::patch::apply(&mut product, change)?;
        product.updated_at = ordo_kernel::time::now();
        products::update(&mut tx, &product)
            .await
            .map_err(sku_conflict)?;
        events::product_updated(&self.outbox, &mut tx, &product, meta).await?;
        self.outbox.commit(tx).await?;
        self.changed(product.id);
        Ok(product)
    }

    /// # Errors
    /// `Forbidden` unless a merchant account or an administrator, `NotFound` for no such
    /// product or not the caller's merchant's.
    #[instrument(skip_all, fields(user.id = %caller.user_id, product.id = %id))]
    pub async fn delete_product(
        &self,
        caller: &Caller,
        id: Uuid,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        super::require_staff_role(caller)?;
        let mut tx = self.db.begin().await?;
        let product = products::find(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.check_staff(&mut tx, caller, product.merchant_id)
            .await?;
        if !products::delete(&mut tx, id, ordo_kernel::time::now()).await? {
            return Err(AppError::NotFound);
        }
        events::product_deleted(&self.outbox, &mut tx, &product, meta).await?;
        self.outbox.commit(tx).await?;
        self.changed(id);
        Ok(())
    }
}
