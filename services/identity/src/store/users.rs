use crate::domain::User;
use ordo_db::{Db, Executor, FromRow, Tx, params};
use ordo_kernel::role::UnknownRole;
use ordo_kernel::{PageRequest, Role};
use time::OffsetDateTime;
use uuid::Uuid;

const COLUMNS: &str =
    "id, email, name, phone, role, email_verified_at, disabled_at, created_at, updated_at";

/// A role as stored: its name. `Role` is the kernel's, and `text_value!` can only be
/// invoked on a type of this crate, so the store binds and reads it through this wrapper.
#[derive(Debug, Clone, Copy)]
struct StoredRole(Role);

impl StoredRole {
    fn as_str(self) -> &'static str {
        self.0.as_str()
    }
}

impl std::str::FromStr for StoredRole {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, UnknownRole> {
        s.parse().map(StoredRole)
    }
}

ordo_db::text_value!(StoredRole);

#[derive(FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    phone: Option<String>,
    role: StoredRole,
    email_verified_at: Option<OffsetDateTime>,
    disabled_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            email: row.email,
            name: row.name,
            phone: row.phone,
            role: row.role.0,
            email_verified: row.email_verified_at.is_some(),
            disabled: row.disabled_at.is_some(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A user's row with their password hash.
#[derive(FromRow)]
struct CredentialsRow {
    id: Uuid,
    email: String,
    name: String,
    phone: Option<String>,
    role: StoredRole,
    email_verified_at: Option<OffsetDateTime>,
    disabled_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    password_hash: String,
}

impl From<CredentialsRow> for (User, String) {
    fn from(row: CredentialsRow) -> Self {
        let user = UserRow {
            id: row.id,
            email: row.email,
            name: row.name,
            phone: row.phone,
            role: row.role,
            email_verified_at: row.email_verified_at,
            disabled_at: row.disabled_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        };
        (user.into(), row.password_hash)
    }
}

/// Inserts a new user. A duplicate email is a unique violation.
pub async fn insert(tx: &mut Tx, user: &User, password_hash: &str) -> Result<(), ordo_db::Error> {
    tx.execute(
        "INSERT INTO users (id, email, password_hash, name, phone, role, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            user.id,
            user.email,
            password_hash,
            user.name,
            user.phone,
            StoredRole(user.role),
            user.created_at,
            user.updated_at,
        ],
    )
    .await
    .map(drop)
}

pub async fn find(mut db: impl Executor, id: Uuid) -> Result<Option<User>, ordo_db::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = db.fetch_optional(&sql, params![id]).await?;
    Ok(row.map(User::from))
}

/// The user with this (normalised) email and their password hash.
pub async fn find_credentials(
    db: &Db,
    email: &str,
) -> Result<Option<(User, String)>, ordo_db::Error> {
    let sql = format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = $1");
    let row: Option<CredentialsRow> = db.fetch_optional(&sql, params![email]).await?;
    Ok(row.map(<(User, String)>::from))
}

pub async fn update_profile(tx: &mut Tx, user: &User) -> Result<(), ordo_db::Error> {
    tx.execute(
        "UPDATE users SET name = $1, phone = $2, updated_at = $3 WHERE id = $4",
        params![user.name, user.phone, user.updated_at, user.id],
    )
    .await
    .map(drop)
}

pub async fn update_password(
    tx: &mut Tx,
    id: Uuid,
    password_hash: &str,
    now: OffsetDateTime,
) -> Result<(), ordo_db::Error> {
    tx.execute(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
        params![password_hash, now, id],
    )
    .await
    .map(drop)
}

/// Sets role and disabled state; `disabled_at` keeps the first disabling instant.
pub async fn update_access(
    tx: &mut Tx,
    id: Uuid,
    role: Role,
    disabled: bool,
    now: OffsetDateTime,
) -> Result<(), ordo_db::Error> {
    tx.execute(
        "UPDATE users SET role = $1,
             disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, $3) ELSE NULL END,
             updated_at = $3
         WHERE id = $4",
        params![StoredRole(role), disabled, now, id],
    )
    .await
    .map(drop)
}

/// Users newest first, optionally of one role.
pub async fn list(
    db: &Db,
    role: Option<Role>,
    page: PageRequest,
) -> Result<Vec<User>, ordo_db::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users
         WHERE ($1 IS NULL OR role = $1) AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    );
    let rows: Vec<UserRow> = db
        .fetch_all(
            &sql,
            params![
                role.map(StoredRole),
                page.after.map(|cursor| cursor.0),
                page.fetch_limit()
            ],
        )
        .await?;
    Ok(rows.into_iter().map(User::from).collect())
}

/// The administrators who are not disabled.
pub async fn administrators(db: &Db) -> Result<Vec<Uuid>, ordo_db::Error> {
    let rows: Vec<(Uuid,)> = db
        .fetch_all(
            "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id",
            params![],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The users whose email is `email` or whose lowercased name matches `name` (a `LIKE`
/// pattern), newest first.
pub async fn find_by_email_or_name(
    db: &Db,
    email: &str,
    name: &str,
    limit: i64,
) -> Result<Vec<Uuid>, ordo_db::Error> {
    let rows: Vec<(Uuid,)> = db
        .fetch_all(
            "SELECT id FROM users WHERE email = $1 OR LOWER(name) LIKE $2 ESCAPE '\\'
             ORDER BY id DESC LIMIT $3",
            params![email, name, limit],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
