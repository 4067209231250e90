//! Notifications' use cases: each user reads their inbox, marks messages read, follows it
//! live, and chooses how else to be told; the consumers file a message for everyone an
//! order event concerns and send it on by email and text message as each chose.

mod account;
mod preferences;
mod texts;
mod timeline;

use crate::domain::Notification;
use crate::domain::stream::StreamCursor;
use crate::domain::{self, Message};
use crate::domain::{Step, To};
use crate::mailer::Mailer;
use crate::sms::SmsProvider;
use crate::store::{self, Parties};
use ordo_bus::{Envelope, EventMeta, Outbox};
use ordo_contracts::catalog::CatalogClient;
use ordo_contracts::delivery::{DeliveryAssigned, DeliveryOffered};
use ordo_contracts::identity::IdentityClient;
use ordo_contracts::notifications::{EmailRequested, SmsRequested};
use ordo_contracts::orders::{OrderCancelled, OrderPaymentFailed, OrderPlaced, OrderRejected};
use ordo_contracts::payments::{PaymentRefunded, PaymentVoided};
use ordo_db::{Db, Tx};
use ordo_kernel::Caller;
use ordo_kernel::trace::TraceContext;
use ordo_kernel::{Page, PageRequest, Violations};
use ordo_kit::Wakeups;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

/// The event a message answers: each event files its messages once, and the trace it
/// travelled in is kept with them for the order's timeline.
#[derive(Debug, Clone, Copy)]
pub struct Cause {
    pub event_id: Uuid,
    pub trace: Option<TraceContext>,
}

impl Cause {
    #[must_use]
    pub fn of(event: &Envelope) -> Self {
        Cause {
            event_id: event.id,
            trace: event.traceparent.as_deref().and_then(TraceContext::parse),
        }
    }
}

pub struct Notifications {
    db: Db,
    outbox: Outbox,
    catalog: Arc<dyn CatalogClient>,
    identity: Arc<dyn IdentityClient>,
    /// Emails go out when a mail server is configured.
    mailer: Option<Arc<Mailer>>,
    /// Text messages go out through it.
    sms: Arc<dyn SmsProvider>,
    /// Where the customer app is reached, for links in messages.
    public_url: String,
    /// Wakes a user's live streams once messages filed for them have committed.
    wakeups: Arc<Wakeups>,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// The service's own refusals; the shared ones are in [`ordo_kit::Error`].
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    /// The mail server did not take the email.
    #[error("email not sent: {0}")]
    EmailFailed(String),
    /// The text-message provider did not take the message.
    #[error("text message not sent: {0}")]
    SmsFailed(String),
    /// An event arrived before the order it concerns is known here.
    #[error("order {0} is not known yet")]
    UnknownOrder(Uuid),
}

/// What the use cases fail with.
pub type AppError = ordo_kit::Error<NotificationsError>;

impl Notifications {
    #[must_use]
    pub fn new(
        db: Db,
        outbox: Outbox,
        catalog: Arc<dyn CatalogClient>,
        identity: Arc<dyn IdentityClient>,
        mailer: Option<Arc<Mailer>>,
        sms: Arc<dyn SmsProvider>,
        public_url: &str,
    ) -> Self {
        Notifications {
            db,
            outbox,
            catalog,
            identity,
            mailer,
            sms,
            public_url: public_url.trim_end_matches('/').to_owned(),
            wakeups: Arc::default(),
        }
    }

    /// # Errors
    /// Only when the database fails.
    pub async fn inbox(
        &self,
        caller: &Caller,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<Notification>, AppError> {
        let rows = store::page(
            &self.db,
            caller.user_id,
            unread_only,
            page.after.map(|c| c.0),
            page.fetch_limit(),
        )
        .await?;
        Ok(Page::from_rows(rows, page, |n| n.id))
    }

    /// # Errors
    /// `NotFound` when it is not the caller's.
    pub async fn mark_read(&self, caller: &Caller, id: Uuid) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        if !store::mark_read(&mut tx, caller.user_id, id, ordo_kernel::time::now()).await? {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks every unread notification of the caller read.
    ///
    /// # Errors
    /// Only when the database fails.
    pub async fn mark_all_read(&self, caller: &Caller) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        store::mark_all_read(&mut tx, caller.user_id, ordo_kernel::time::now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where the caller's live stream starts: after `resume` (a notification it sent
    /// before), or after the newest notification so far.
    ///
    /// # Errors
    /// `Invalid` when `resume` is not one of the caller's notifications: one from the
    /// future would hold back every notification until a newer one came. The database
    /// failing.
    pub async fn stream_start(
        &self,
        caller: &Caller,
        resume: Option<Uuid>,
    ) -> Result<Option<Uuid>, AppError> {
        let Some(resume) = resume else {
            return Ok(store::latest(&self.db, caller.user_id).await?);
        };
        // The place a stream opened on a user with no notifications at all gives.
        if resume.is_nil() {
            return Ok(None);
        }
        if !store::is_theirs(&self.db, caller.user_id, resume).await? {
            let mut v = Violations::new();
            v.add(
                "Last-Event-ID",
                "must be the id of one of your notifications",
            );
            return Err(AppError::Invalid(v));
        }
        Ok(Some(resume))
    }

    /// The notifications a live stream at `cursor` has not sent yet, oldest first: read
    /// from the cursor's floor a page at a time, past pages it sent already.
    ///
    /// # Errors
    /// Only when the database fails.
    pub async fn unsent(
        &self,
        caller: &Caller,
        cursor: &mut StreamCursor,
    ) -> Result<Vec<Notification>, AppError> {
        let mut after = cursor.floor();
        loop {
            let page = store::newer(&self.db, caller.user_id, after).await?;
            let full = page.len() == store::PAGE;
            after = page.last().map(|n| n.id).or(after);
            let fresh: Vec<Notification> =
                page.into_iter().filter(|n| cursor.admit(n.id)).collect();
            if !fresh.is_empty() || !full {
                return Ok(fresh);
            }
        }
    }

    /// Notified when messages for `user` may have been filed (or spuriously; callers look
    /// again). A stream holds it while open and registers interest
    /// (`Notified::enable`) before it looks, so a filing in between still wakes it.
    #[must_use]
    pub fn filed_for(&self, user: Uuid) -> Arc<Notify> {
        self.wakeups.of(user)
    }

    /// Inbox streams in other processes of notifications are woken by what is filed here,
    /// and this process's by what they file.
    pub fn echo_streams(&self, echoes: &ordo_bus::Echoes) {
        self.wakeups.echo_through(crate::NAME, echoes);
    }

    /// What the consumer that files messages calls after each commit, with the events it
    /// handled.
    pub(crate) fn filings(&self) -> impl Fn(&[Uuid]) + Send + Sync + 'static {
        let wakeups = self.wakeups.clone();
        move |events| wakeups.committed(events)
    }

    async fn file(
        &self,
        tx: &mut Tx,
        users: &[Uuid],
        message: &Message,
        order_id: Uuid,
        cause: Cause,
    ) -> Result<(), AppError> {
        self.wakeups.touching(cause.event_id, users);
        let now = ordo_kernel::time::now();
        for user in users {
            let filed = store::insert(tx, *user, message, order_id, cause, now).await?;
            let Some(notification_id) = filed else {
                continue;
            };
            let channels = store::preferences::channels(tx, *user, message.topic).await?;
            let subject = user.to_string();
            if channels.email && self.mailer.is_some() {
                let email = EmailRequested {
                    notification_id,
                    user_id: *user,
                    subject: message.title.clone(),
                    body: message.body.clone(),
                };
                self.outbox
                    .append(tx, &subject, &email, &EventMeta::default())
                    .await?;
            }
            if channels.sms {
                let sms = SmsRequested {
                    notification_id,
                    user_id: *user,
                    body: domain::text_message(message),
                };
                self.outbox
                    .append(tx, &subject, &sms, &EventMeta::default())
                    .await?;
            }
        }
        Ok(())
    }

    /// Records a failed attempt apart, once the handler's transaction (rolled back for the
    /// retry) has let go of the database: SQLite has one writer.
    fn record_failure(&self, attempt: store::Attempt) {
        let db = self.db.clone();
        tokio::spawn(async move {
            let recorded = async {
                let mut tx = db.begin().await?;
                attempt.record(&mut tx).await?;
                tx.commit().await
            };
            if let Err(error) = recorded.await {
                tracing::warn!(%error, "cannot record a failed attempt to send");
            }
        });
    }

    /// Sends a requested email; a failure is recorded and retried by the bus.
    pub(crate) async fn email(
        &self,
        tx: &mut Tx,
        requested: &EmailRequested,
    ) -> Result<(), AppError> {
        let Some(mailer) = &self.mailer else {
            return Ok(());
        };
        let Some(contact) = self.identity.contact(requested.user_id).await? else {
            return Ok(());
        };
        let now = ordo_kernel::time::now();
        match mailer
            .send(&contact, &requested.subject, &requested.body)
            .await
        {
            Ok(()) => {
                store::email_attempt(tx, requested.notification_id, None, now).await?;
                Ok(())
            }
            Err(error) => {
                self.record_failure(store::Attempt::Email {
                    notification_id: requested.notification_id,
                    error: error.clone(),
                    at: now,
                });
                Err(NotificationsError::EmailFailed(error).into())
            }
        }
    }

    pub(crate) async fn order_placed(
        &self,
        tx: &mut Tx,
        placed: &OrderPlaced,
        cause: Cause,
    ) -> Result<(), AppError> {
        let staff = self
            .catalog
            .merchant(placed.merchant_id)
            .await?
            .map(|m| m.staff)
            .unwrap_or_default();
        let parties = Parties {
            customer_id: placed.customer_id,
            merchant_id: placed.merchant_id,
            staff,
            courier_id: None,
        };
        store::remember_parties(tx, placed.order_id, &parties).await?;
        let customer = domain::order_placed_customer(&placed.order_id, &placed.total);
        self.file(tx, &[placed.customer_id], &customer, placed.order_id, cause)
            .await?;
        let items = placed.lines.iter().map(|l| l.quantity).sum();
        let merchant = domain::order_placed_merchant(&placed.order_id, &placed.total, items);
        self.file(tx, &parties.staff, &merchant, placed.order_id, cause)
            .await
    }

    async fn parties(&self, tx: &mut Tx, order_id: Uuid) -> Result<Parties, AppError> {
        store::parties(tx, order_id)
            .await?
            .ok_or(NotificationsError::UnknownOrder(order_id).into())
    }

    pub(crate) async fn payment_failed(
        &self,
        tx: &mut Tx,
        failed: &OrderPaymentFailed,
        cause: Cause,
    ) -> Result<(), AppError> {
        let parties = self.parties(tx, failed.order_id).await?;
        let message = domain::payment_failed(&failed.order_id, &failed.reason, failed.retry_until);
        self.file(tx, &[parties.customer_id], &message, failed.order_id, cause)
            .await
    }

    pub(crate) async fn order_rejected(
        &self,
        tx: &mut Tx,
        rejected: &OrderRejected,
        cause: Cause,
    ) -> Result<(), AppError> {
        let parties = self.parties(tx, rejected.order_id).await?;
        let message = domain::order_rejected(&rejected.order_id, &rejected.reason);
        self.file(
            tx,
            &[parties.customer_id],
            &message,
            rejected.order_id,
            cause,
        )
        .await
    }

    pub(crate) async fn released(
        &self,
        tx: &mut Tx,
        voided: &PaymentVoided,
        cause: Cause,
    ) -> Result<(), AppError> {
        let parties = self.parties(tx, voided.order_id).await?;
        let message = domain::payment_released(&voided.order_id);
        self.file(tx, &[parties.customer_id], &message, voided.order_id, cause)
            .await
    }

    pub(crate) async fn refunded(
        &self,
        tx: &mut Tx,
        refunded: &PaymentRefunded,
        cause: Cause,
    ) -> Result<(), AppError> {
        let parties = self.parties(tx, refunded.order_id).await?;
        let message = domain::refund_issued(&refunded.order_id, &refunded.amount, refunded.full);
        self.file(
            tx,
            &[parties.customer_id],
            &message,
            refunded.order_id,
            cause,
        )
        .await
    }

    pub(crate) async fn order_cancelled(
        &self,
        tx: &mut Tx,
        cancelled: &OrderCancelled,
        cause: Cause,
    ) -> Result<(), AppError> {
        if cancelled.reason.starts_with("payment failed") {
            // The customer was told why by the payment's own notification.
            return Ok(());
        }
        let parties = self.parties(tx, cancelled.order_id).await?;
        let message = domain::order_cancelled(&cancelled.order_id, &cancelled.reason);
        let mut users = vec![parties.customer_id];
        users.extend(parties.staff);
        self.file(tx, &users, &message, cancelled.order_id, cause)
            .await
    }

    /// Tells each step to the people of the order it is for, in one look at who they are.
    pub(crate) async fn tell(
        &self,
        tx: &mut Tx,
        order_id: Uuid,
        cause: Cause,
        steps: &[(Step, To)],
    ) -> Result<(), AppError> {
        let parties = self.parties(tx, order_id).await?;
        let operators = if steps.iter().any(|(_, to)| *to == To::Operators) {
            self.identity.administrators().await?
        } else {
            Vec::new()
        };
        for (step, to) in steps {
            let users = match to {
                To::Customer => vec![parties.customer_id],
                To::Staff => parties.staff.clone(),
                To::Courier => parties.courier_id.into_iter().collect(),
                To::Operators => operators.clone(),
            };
            let message = domain::step(*step, &order_id);
            self.file(tx, &users, &message, order_id, cause).await?;
        }
        Ok(())
    }

    /// Each courier asked is told; no order party is needed.
    pub(crate) async fn delivery_offered(
        &self,
        tx: &mut Tx,
        offered: &DeliveryOffered,
        cause: Cause,
    ) -> Result<(), AppError> {
        let message = domain::step(Step::Offered, &offered.order_id);
        self.file(tx, &offered.courier_ids, &message, offered.order_id, cause)
            .await
    }

    /// The customer and the merchant's staff are told; the courier is remembered for
    /// the steps after.
    pub(crate) async fn delivery_assigned(
        &self,
        tx: &mut Tx,
        assigned: &DeliveryAssigned,
        cause: Cause,
    ) -> Result<(), AppError> {
        let steps = [
            (Step::CourierAssigned, To::Customer),
            (Step::CourierComing, To::Staff),
        ];
        self.tell(tx, assigned.order_id, cause, &steps).await?;
        store::remember_courier(tx, assigned.order_id, assigned.courier_id).await?;
        Ok(())
    }
}
