//! Ids are UUIDv7: unique without coordination and ordered by creation time, which is what
//! lets lists page by id alone.

use uuid::Uuid;

/// A fresh UUIDv7.
#[must_use]
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
