//! Leases on sweeps: with several instances of a service on one database, each shared sweep
//! runs in one of them at a time. The holder renews its lease every run; when it stops (a
//! crash, a stop), another instance takes the sweep over once the lease has run out.

use ordo_db::{Db, params};
use std::time::Duration;
use time::OffsetDateTime;

/// The component whose migrations (`migrations/`) every service's database gets.
pub const COMPONENT: &str = "kit";

/// The kit's migrations: the sweeps' leases.
#[must_use]
pub fn migrations() -> Vec<ordo_db::Migration> {
    vec![
        ordo_db::migration!(1, "0001_sweep_leases"),
        ordo_db::migration!(2, "0002_lease_instant", per_dialect),
    ]
}

/// This process's claim on the sweeps of one service's database.
#[derive(Debug, Clone)]
pub struct Lease {
    db: Db,
    holder: String,
}

impl Lease {
    /// Claims as `holder` (unique to the process) on `db`.
    #[must_use]
    pub fn new(db: Db, holder: &str) -> Self {
        Lease {
            db,
            holder: holder.to_owned(),
        }
    }

    /// Takes or renews the lease of sweep `name` until `now + lasting`; whether this
    /// process holds it. Free, run out, or already this process's: held.
    ///
    /// # Errors
    /// The database failing: the sweep is not run this time.
    pub async fn hold(
        &self,
        name: &str,
        now: OffsetDateTime,
        lasting: Duration,
    ) -> Result<bool, ordo_db::Error> {
        let changed = self
            .db
            .execute(
                "INSERT INTO sweep_leases (name, holder, held_until) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until
                 WHERE sweep_leases.holder = excluded.holder OR sweep_leases.held_until < $4",
                params![name, self.holder, now + lasting, now],
            )
            .await?;
        Ok(changed == 1)
    }
}
