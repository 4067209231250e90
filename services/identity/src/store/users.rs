use crate::domain::User;
use ordo_db::row::{self, millis};
use ordo_kernel::{PageRequest, Role};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str =
    "id, email, name, phone, role, email_verified_at, disabled_at, created_at, updated_at";

fn user(row: &AnyRow) -> Result<User, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row::uuid(row, "id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        role: role.parse().map_err(|e| sqlx::Error::ColumnDecode {
            index: "role".into(),
            source: Box::new(e),
        })?,
        email_verified: row::opt_instant(row, "email_verified_at")?.is_some(),
        disabled: row::opt_instant(row, "disabled_at")?.is_some(),
        created_at: row::instant(row, "created_at")?,
        updated_at: row::instant(row, "updated_at")?,
    })
}

/// Inserts a new user. A duplicate email is a unique violation.
pub async fn insert<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: &User,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, name, phone, role, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(user.id.to_string())
    .bind(&user.email)
    .bind(password_hash)
    .bind(&user.name)
    .bind(user.phone.as_deref())
    .bind(user.role.as_str())
    .bind(millis(user.created_at))
    .bind(millis(user.updated_at))
    .execute(executor)
    .await
    .map(|_| ())
}

pub async fn find<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(user)
        .transpose()
}

/// The user with this (normalised) email and their password hash.
pub async fn find_credentials<'c>(
    executor: impl Executor<'c, Database = Any>,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE email = $1"
    ))
    .bind(email)
    .fetch_optional(executor)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some((user(&row)?, row.try_get("password_hash")?)))
}

pub async fn update_profile<'c>(
    executor: impl Executor<'c, Database = Any>,
    user: &User,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = $1, phone = $2, updated_at = $3 WHERE id = $4")
        .bind(&user.name)
        .bind(user.phone.as_deref())
        .bind(millis(user.updated_at))
        .bind(user.id.to_string())
        .execute(executor)
        .await
        .map(|_| ())
}

pub async fn update_password<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    password_hash: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(millis(now))
        .bind(id.to_string())
        .execute(executor)
        .await
        .map(|_| ())
}

/// Sets role and disabled state; `disabled_at` keeps the first disabling instant.
pub async fn update_access<'c>(
    executor: impl Executor<'c, Database = Any>,
    id: Uuid,
    role: Role,
    disabled: bool,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET role = $1,
             disabled_at = CASE WHEN $2 = 1 THEN COALESCE(disabled_at, $3) ELSE NULL END,
             updated_at = $3
         WHERE id = $4",
    )
    .bind(role.as_str())
    .bind(i64::from(disabled))
    .bind(millis(now))
    .bind(id.to_string())
    .execute(executor)
    .await
    .map(|_| ())
}

/// Users newest first, optionally of one role.
pub async fn list<'c>(
    executor: impl Executor<'c, Database = Any>,
    role: Option<Role>,
    page: PageRequest,
) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM users
         WHERE ($1 IS NULL OR role = $1) AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(role.map(Role::as_str))
    .bind(page.after.map(|c| c.0.to_string()))
    .bind(page.fetch_limit())
    .fetch_all(executor)
    .await?
    .iter()
    .map(user)
    .collect()
}

/// The administrators who are not disabled.
pub async fn administrators<'c>(
    executor: impl Executor<'c, Database = Any>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query("SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id")
        .fetch_all(executor)
        .await?
        .iter()
        .map(|row| row::uuid(row, "id"))
        .collect()
}

/// The users whose email is `email` or whose lowercased name matches `name` (a `LIKE`
/// pattern), newest first.
pub async fn find_by_email_or_name<'c>(
    executor: impl Executor<'c, Database = Any>,
    email: &str,
    name: &str,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query(
        "SELECT id FROM users WHERE email = $1 OR LOWER(name) LIKE $2 ESCAPE '\\'
         ORDER BY id DESC LIMIT $3",
    )
    .bind(email)
    .bind(name)
    .bind(limit)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| row::uuid(row, "id"))
    .collect()
}
