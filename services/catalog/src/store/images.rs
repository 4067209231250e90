use crate::domain::picture::{Owner, Size};
use ordo_db::{Db, Error, Tx, params};
use time::OffsetDateTime;
use uuid::Uuid;

pub async fn insert(
    tx: &mut Tx,
    id: Uuid,
    owner: Uuid,
    full: &[u8],
    thumb: &[u8],
    at: OffsetDateTime,
) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO images (id, owner_id, full_size, thumb, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        params![id, owner, full, thumb, at],
    )
    .await
    .map(drop)
}

/// Shows `image` as the picture of the merchant or product `id`; false when there is no
/// such owner (any longer).
pub async fn show(
    tx: &mut Tx,
    owner: Owner,
    id: Uuid,
    image: Uuid,
    at: OffsetDateTime,
) -> Result<bool, Error> {
    let sql = match owner {
        Owner::Merchant => "UPDATE merchants SET image_id = $2, updated_at = $3 WHERE id = $1",
        Owner::Product => {
            "UPDATE products SET image_id = $2, updated_at = $3
             WHERE id = $1 AND deleted_at IS NULL"
        }
    };
    let changed = tx.execute(sql, params![id, image, at]).await?;
    Ok(changed == 1)
}

/// Removes the owner's pictures other than `kept`: those it showed before.
pub async fn delete_others(tx: &mut Tx, owner: Uuid, kept: Uuid) -> Result<(), Error> {
    tx.execute(
        "DELETE FROM images WHERE owner_id = $1 AND id <> $2",
        params![owner, kept],
    )
    .await
    .map(drop)
}

/// The picture's bytes in `size`.
pub async fn find(db: &Db, id: Uuid, size: Size) -> Result<Option<Vec<u8>>, Error> {
    let sql = match size {
        Size::Full => "SELECT full_size FROM images WHERE id = $1",
        Size::Thumb => "SELECT thumb FROM images WHERE id = $1",
    };
    let found: Option<(Vec<u8>,)> = db.fetch_optional(sql, params![id]).await?;
    Ok(found.map(|(bytes,)| bytes))
}
