//! Operators' view of the dead letters of every consumer, across the services' databases:
//! list, replay (the consumer handles the event once more), discard.

use crate::store::{self, DeadLetter};
use ordo_db::Db;
use ordo_kernel::paging::{Page, PageRequest};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct DeadLetters {
    dbs: Vec<Db>,
}

impl DeadLetters {
    /// Over the databases of every service that runs consumers.
    #[must_use]
    pub fn new(dbs: Vec<Db>) -> Self {
        Self { dbs }
    }

    /// Newest first, optionally of one consumer.
    ///
    /// # Errors
    /// A database failing.
    pub async fn list(
        &self,
        consumer: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<DeadLetter>, ordo_db::Error> {
        let before = page.after.map(|cursor| cursor.0);
        let mut rows = Vec::new();
        for db in &self.dbs {
            rows.extend(store::dead_letters(db, consumer, before, page.fetch_limit()).await?);
        }
        rows.sort_by_key(|letter| std::cmp::Reverse(letter.id));
        Ok(Page::from_rows(rows, page, |letter| letter.id))
    }

    /// # Errors
    /// A database failing.
    pub async fn get(&self, id: Uuid) -> Result<Option<DeadLetter>, ordo_db::Error> {
        for db in &self.dbs {
            if let Some(letter) = store::dead_letter_by_id(db, id).await? {
                return Ok(Some(letter));
            }
        }
        Ok(None)
    }

    /// Asks the letter's consumer to handle it once more (within its poll interval, by a
    /// running instance). False when there is no such letter.
    ///
    /// # Errors
    /// A database failing.
    pub async fn replay(&self, id: Uuid) -> Result<bool, ordo_db::Error> {
        for db in &self.dbs {
            if store::request_replay(db, id).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Drops the letter for good. False when there is no such letter.
    ///
    /// # Errors
    /// A database failing.
    pub async fn discard(&self, id: Uuid) -> Result<bool, ordo_db::Error> {
        for db in &self.dbs {
            if store::discard(db, id).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Marks the events `outbox_db` published since `since` as unpublished, so the relay sends
/// them again (after a broker lost them); consumers' inboxes drop what they already handled.
/// Returns how many.
///
/// # Errors
/// A database failing.
pub async fn republish(outbox_db: &Db, since: OffsetDateTime) -> Result<u64, ordo_db::Error> {
    store::republish(outbox_db, since).await
}
