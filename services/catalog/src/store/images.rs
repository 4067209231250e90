use crate::domain::picture::{Owner, Size};
use ordo_db::row::millis;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    owner: Uuid,
    full: &[u8],
    thumb: &[u8],
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO images (id, owner_id, full_size, thumb, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.to_string())
    .bind(owner.to_string())
    .bind(full.to_vec())
    .bind(thumb.to_vec())
    .bind(millis(at))
    .execute(executor)
    .await
    .map(|_| ())
}

/// Shows `image` as the picture of the merchant or product `id`; false when there is no
/// such owner (any longer).
pub async fn show<'c>(
    executor: impl Executor<'c, Database = Any>,
    owner: Owner,
    id: Uuid,
    image: Uuid,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let sql = match owner {
        Owner::Merchant => "UPDATE merchants SET image_id = $2, updated_at = $3 WHERE id = $1",
        Owner::Product => {
            "UPDATE products SET image_id = $2, updated_at = $3
             WHERE id = $1 AND deleted_at IS NULL"
        }
    };
    let done = sqlx::query(sql)
        .bind(id.to_string())
        .bind(image.to_string())
        .bind(millis(at))
        .execute(executor)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the owner's pictures other than `kept`: those it showed before.
pub async fn delete_others<'c>(
    executor: impl Executor<'c, Database = Any>,
    owner: Uuid,
    kept: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM images WHERE owner_id = $1 AND id <> $2")
        .bind(owner.to_string())
        .bind(kept.to_string())
        .execute(executor)
        .await
        .map(|_| ())
}

/// The picture's bytes in `size`.
pub async fn find<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    size: Size,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let sql = match size {
        Size::Full => "SELECT full_size FROM images WHERE id = $1",
        Size::Thumb => "SELECT thumb FROM images WHERE id = $1",
    };
    sqlx::query(sql)
        .bind(id.to_string())
        .fetch_optional(executor)
        .await?
        .map(|row| row.try_get(0))
        .transpose()
}
