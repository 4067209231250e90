//! Migrations: numbered SQL files, one per migration (per dialect only where they differ),
//! applied in order in one transaction (all or nothing), recorded with a checksum so that an edited migration is caught rather
//! than silently diverging between installations.

use crate::{Db, Dialect, params};

/// One migration: the SQL each dialect runs. Usually one portable file serves both
/// (`migrations/NNNN_name.sql`); where the dialects really differ, each has its own
/// (`migrations/{sqlite,postgres}/NNNN_name.sql`).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// `migration!(1, "0001_create_users")` embeds the calling crate's
/// `migrations/0001_create_users.sql` for both dialects;
/// `migration!(1, "0001_create_bus", per_dialect)` embeds one file per dialect.
#[macro_export]
macro_rules! migration {
    ($version:expr, $file:literal) => {{
        const SQL: &str = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/",
            $file,
            ".sql"
        ));
        $crate::Migration {
            version: $version,
            name: $file,
            sqlite: SQL,
            postgres: SQL,
        }
    }};
    ($version:expr, $file:literal, per_dialect) => {
        $crate::Migration {
            version: $version,
            name: $file,
            sqlite: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/sqlite/",
                $file,
                ".sql"
            )),
            postgres: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/postgres/",
                $file,
                ".sql"
            )),
        }
    };
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("migration {version} ({name}) of {service} failed: {source}")]
    Failed {
        service: String,
        version: i64,
        name: &'static str,
        source: crate::Error,
    },
    #[error(
        "migration {version} ({name}) of {service} was changed after it was applied; \
         add a new migration instead"
    )]
    Changed {
        service: String,
        version: i64,
        name: &'static str,
    },
    #[error("cannot read the migration history of {service}: {source}")]
    History {
        service: String,
        source: crate::Error,
    },
}

fn create_history(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )"
    )
}

fn checksum(sql: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, sql.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies `migrations`, recording them in `history` (a table name chosen by the caller,
/// never user input), so that a platform crate's tables can be versioned separately from
/// the service's own in the same database.
pub(crate) async fn run(
    db: &Db,
    history: &str,
    migrations: &[Migration],
) -> Result<(), MigrationError> {
    let service = db.service().to_owned();
    let history_error = |source| MigrationError::History {
        service: service.clone(),
        source,
    };
    let mut tx = db.begin().await.map_err(history_error)?;
    if db.dialect() == Dialect::Postgres {
        // Instances starting together take turns; the lock ends with the transaction.
        tx.execute("SELECT pg_advisory_xact_lock(7208459113)", params![])
            .await
            .map_err(history_error)?;
    }
    tx.execute(&create_history(history), params![])
        .await
        .map_err(history_error)?;
    let applied: Vec<(i64, String)> = tx
        .fetch_all(
            &format!("SELECT version, checksum FROM {history} ORDER BY version"),
            params![],
        )
        .await
        .map_err(history_error)?;

    for migration in migrations {
        let sql = match db.dialect() {
            Dialect::Sqlite => migration.sqlite,
            Dialect::Postgres => migration.postgres,
        };
        let sum = checksum(sql);
        if let Some((_, recorded)) = applied.iter().find(|(v, _)| *v == migration.version) {
            if *recorded != sum {
                return Err(MigrationError::Changed {
                    service,
                    version: migration.version,
                    name: migration.name,
                });
            }
            continue;
        }
        let failed = |source| MigrationError::Failed {
            service: service.clone(),
            version: migration.version,
            name: migration.name,
            source,
        };
        tx.execute_script(sql).await.map_err(failed)?;
        tx.execute(
            &format!(
                "INSERT INTO {history} (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)"
            ),
            // The history's own format, the same in every database since the first release.
            params![
                migration.version,
                migration.name,
                sum,
                ordo_kernel::time::to_millis(ordo_kernel::time::now())
            ],
        )
        .await
        .map_err(failed)?;
        tracing::info!(service = %service, history, version = migration.version, name = migration.name, "migration applied");
    }
    tx.commit().await.map_err(history_error)
}
