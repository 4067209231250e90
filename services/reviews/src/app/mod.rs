//! The reviews' use cases: a customer reviews a completed order of theirs once; an
//! administrator approves or rejects what waits; the merchant's staff answer once; anyone
//! reads what is public with its average. Purchases and completions come from the bus.

use crate::domain::{self, NewReview, Purchase, Review, Status};
use crate::events;
use crate::store::{self, Filter, Subject};
use ordo_bus::{EventMeta, Outbox};
use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::orders::OrdersClient;
use ordo_contracts::reviews::RatingSummary;
use ordo_db::{Db, Tx};
use ordo_kernel::{Caller, Page, PageRequest, Role};
use std::sync::Arc;
use uuid::Uuid;

pub struct Reviews {
    db: Db,
    outbox: Outbox,
    catalog: Arc<dyn CatalogClient>,
    orders: Arc<dyn OrdersClient>,
}

impl std::fmt::Debug for Reviews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reviews")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum ReviewsError {
    #[error("the order has a review already")]
    AlreadyReviewed,
    #[error("the order is not completed yet: it can be reviewed once it is")]
    NotCompleted,
    #[error("the review was {0} already")]
    AlreadyDecided(&'static str),
    #[error("the review has an answer already")]
    AlreadyAnswered,
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<ReviewsError>;

/// Public reviews of one merchant or product, with its rating.
#[derive(Debug)]
pub struct Rated {
    pub rating: RatingSummary,
    pub reviews: Page<Review>,
}

fn admin_only(caller: &Caller) -> Result<(), AppError> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden("only administrators moderate reviews"))
    }
}

impl Reviews {
    #[must_use]
    pub fn new(
        db: Db,
        outbox: Outbox,
        catalog: Arc<dyn CatalogClient>,
        orders: Arc<dyn OrdersClient>,
    ) -> Self {
        Reviews {
            db,
            outbox,
            catalog,
            orders,
        }
    }

    /// The caller reviews their completed order `order_id`. A bare rating is public at
    /// once; a comment waits for moderation.
    ///
    /// # Errors
    /// `Forbidden` for non-customers, `NotFound` when the order is not the caller's,
    /// `Invalid` fields, `NotCompleted`, `AlreadyReviewed`.
    pub async fn review(
        &self,
        caller: &Caller,
        order_id: Uuid,
        rating: i64,
        comment: Option<String>,
        meta: &EventMeta,
    ) -> Result<Review, AppError> {
        if caller.role != Role::Customer {
            return Err(AppError::Forbidden("only the customer who ordered reviews"));
        }
        let purchase = match store::purchase(&self.db, order_id).await? {
            Some(purchase) if purchase.completed => Some(purchase),
            // The order's events may not have arrived yet while its customer, who saw it
            // completed, writes: the orders service knows.
            _ => self.orders.purchase(order_id).await?,
        };
        let purchase = purchase
            .filter(|p| p.customer_id == caller.user_id)
            .ok_or(AppError::NotFound)?;
        let new = NewReview::validate(rating, comment).map_err(AppError::Invalid)?;
        if !purchase.completed {
            return Err(ReviewsError::NotCompleted.into());
        }
        let review = Review {
            id: ordo_kernel::new_id(),
            order_id,
            customer_id: caller.user_id,
            merchant_id: purchase.merchant_id,
            product_ids: domain::products(&purchase),
            rating: new.rating,
            status: if new.comment.is_some() {
                Status::Pending
            } else {
                Status::Approved
            },
            comment: new.comment,
            answer: None,
            answered_at: None,
            created_at: ordo_kernel::time::now(),
        };
        let mut tx = self.db.begin().await?;
        if !store::insert(&mut tx, &review).await? {
            return Err(ReviewsError::AlreadyReviewed.into());
        }
        if review.status == Status::Approved {
            self.publish(&mut tx, &review, meta).await?;
        }
        self.outbox.commit(tx).await?;
        Ok(review)
    }

    /// Counts a review that became public and announces it, in its transaction.
    async fn publish(
        &self,
        tx: &mut Tx,
        review: &Review,
        meta: &EventMeta,
    ) -> Result<(), AppError> {
        store::count_rating(tx, Subject::Merchant(review.merchant_id), review.rating).await?;
        for product in &review.product_ids {
            store::count_rating(tx, Subject::Product(*product), review.rating).await?;
        }
        let merchant_rating =
            store::rating(&mut *tx, Subject::Merchant(review.merchant_id)).await?;
        events::review_published(&self.outbox, tx, review, merchant_rating, meta).await?;
        Ok(())
    }

    /// Reviews in `status`, newest first (administrators).
    ///
    /// # Errors
    /// `Forbidden` for others.
    pub async fn moderation_queue(
        &self,
        caller: &Caller,
        status: Status,
        page: PageRequest,
    ) -> Result<Page<Review>, AppError> {
        admin_only(caller)?;
        self.page(Filter::Status(status), page).await
    }

    async fn page(&self, filter: Filter, page: PageRequest) -> Result<Page<Review>, AppError> {
        let rows = store::page(
            &self.db,
            filter,
            page.after.map(|c| c.0),
            page.fetch_limit(),
        )
        .await?;
        Ok(Page::from_rows(rows, page, |r| r.id))
    }

    /// Makes a pending review public (administrators).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `AlreadyDecided`.
    pub async fn approve(
        &self,
        caller: &Caller,
        id: Uuid,
        meta: &EventMeta,
    ) -> Result<Review, AppError> {
        self.decide(caller, id, Status::Approved, meta).await
    }

    /// Keeps a pending review from ever being public (administrators).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `AlreadyDecided`.
    pub async fn reject(
        &self,
        caller: &Caller,
        id: Uuid,
        meta: &EventMeta,
    ) -> Result<Review, AppError> {
        self.decide(caller, id, Status::Rejected, meta).await
    }

    async fn decide(
        &self,
        caller: &Caller,
        id: Uuid,
        to: Status,
        meta: &EventMeta,
    ) -> Result<Review, AppError> {
        admin_only(caller)?;
        let mut tx = self.db.begin().await?;
        let mut review = store::find(&mut tx, id).await?.ok_or(AppError::NotFound)?;
        if !store::decide(&mut tx, id, to, ordo_kernel::time::now()).await? {
            return Err(ReviewsError::AlreadyDecided(review.status.as_str()).into());
        }
        review.status = to;
        if to == Status::Approved {
            self.publish(&mut tx, &review, meta).await?;
        }
        self.outbox.commit(tx).await?;
        Ok(review)
    }

    /// The merchant's staff answer a review of theirs, once.
    ///
    /// # Errors
    /// `NotFound` when the review is not one of the caller's merchant's, `Invalid` text,
    /// `AlreadyAnswered`.
    pub async fn answer(
        &self,
        caller: &Caller,
        id: Uuid,
        text: String,
    ) -> Result<Review, AppError> {
        let mut review = store::find(&self.db, id).await?.ok_or(AppError::NotFound)?;
        let staff = caller.role == Role::Merchant
            && self
                .catalog
                .merchant(review.merchant_id)
                .await?
                .is_some_and(|m| m.staff.contains(&caller.user_id));
        if !staff {
            return Err(AppError::NotFound);
        }
        let text = domain::answer(text).map_err(AppError::Invalid)?;
        let now = ordo_kernel::time::now();
        let mut tx = self.db.begin().await?;
        if !store::answer(&mut tx, id, &text, now).await? {
            return Err(ReviewsError::AlreadyAnswered.into());
        }
        tx.commit().await?;
        review.answer = Some(text);
        review.answered_at = Some(now);
        Ok(review)
    }

    /// A merchant's public reviews and rating.
    ///
    /// # Errors
    /// The database failing.
    pub async fn of_merchant(
        &self,
        merchant_id: Uuid,
        page: PageRequest,
    ) -> Result<Rated, AppError> {
        self.rated(
            Subject::Merchant(merchant_id),
            Filter::Merchant(merchant_id),
            page,
        )
        .await
    }

    /// A product's public reviews and rating.
    ///
    /// # Errors
    /// The database failing.
    pub async fn of_product(&self, product_id: Uuid, page: PageRequest) -> Result<Rated, AppError> {
        self.rated(
            Subject::Product(product_id),
            Filter::Product(product_id),
            page,
        )
        .await
    }

    async fn rated(
        &self,
        subject: Subject,
        filter: Filter,
        page: PageRequest,
    ) -> Result<Rated, AppError> {
        let rating = store::rating(&self.db, subject).await?;
        Ok(Rated {
            rating,
            reviews: self.page(filter, page).await?,
        })
    }

    /// An order was placed: remember who may review it, and for what.
    ///
    /// # Errors
    /// The database failing.
    pub async fn purchased(&self, tx: &mut Tx, purchase: &Purchase) -> Result<(), AppError> {
        Ok(store::record_purchase(tx, purchase).await?)
    }

    /// An order was completed: its customer may review it.
    ///
    /// # Errors
    /// The database failing.
    pub async fn completed(&self, tx: &mut Tx, order_id: Uuid) -> Result<(), AppError> {
        Ok(store::complete_purchase(tx, order_id, ordo_kernel::time::now()).await?)
    }
}
