//! Write statements sent together: a use case's writes that do not depend on each other (an
//! order, its lines, its first history entry and its event) cost one round trip on
//! PostgreSQL instead of one each, and the rows they lock stay locked for one round trip
//! less each. On PostgreSQL a batch runs as one statement, each of its statements a
//! data-modifying `WITH` part; on SQLite its statements run one after another on the
//! writer's thread, where a statement costs no round trip.

use crate::value::Value;
use crate::{Dialect, Error, Tx, TxInner, exec, sql, sqlite};
use std::collections::HashSet;

/// PostgreSQL's limit on the parameters of one statement.
const MAX_PARAMETERS: usize = 65_535;

/// Write statements to run together in a transaction ([`Tx::run`]), each written and bound
/// as it would be alone (`$1` is its own first parameter).
///
/// On PostgreSQL they all see the database as it was before the batch: a statement must not
/// depend on another's writes, nor change a row another changes, except by reading the rows
/// of a step added with [`Batch::returning`]. Foreign keys are checked at the end there, so
/// a row may refer to one inserted by another statement of the batch; on SQLite, which runs
/// them in turn and checks at once, the row referred to must be added first. A statement has
/// no comments nor dollar-quoted text, and names no parameter beyond its own.
#[derive(Debug)]
pub struct Batch {
    dialect: Dialect,
    statements: Vec<Statement>,
    names: HashSet<String>,
}

#[derive(Debug)]
struct Statement {
    sql: String,
    params: Vec<Value>,
    /// The name later statements read its `RETURNING` rows by; `None` when it is counted.
    name: Option<String>,
}

/// A statement of a batch, whose changed rows can be read once the batch has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted(usize);

/// How many rows each counted statement of a batch changed.
#[derive(Debug)]
pub struct Changed {
    rows: Vec<u64>,
}

impl Changed {
    /// How many rows `statement` changed.
    #[must_use]
    pub fn rows(&self, statement: Counted) -> u64 {
        self.rows.get(statement.0).copied().unwrap_or(0)
    }
}

impl Batch {
    /// An empty batch for a transaction on `dialect` (see [`Tx::batch`]).
    #[must_use]
    pub fn new(dialect: Dialect) -> Self {
        Batch {
            dialect,
            statements: Vec::new(),
            names: HashSet::new(),
        }
    }

    /// The database the batch is for: a store whose statements differ writes for it.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Adds an `INSERT`, `UPDATE` or `DELETE` without `RETURNING` (nor a `WITH` of its own);
    /// how many rows it changed is read from the batch's [`Changed`].
    pub fn execute(&mut self, sql: impl Into<String>, params: &[Value]) -> Counted {
        self.statements.push(Statement {
            sql: sql.into(),
            params: params.to_vec(),
            name: None,
        });
        Counted(self.statements.len() - 1)
    }

    /// Adds a write whose `RETURNING` rows the later statements of the batch read as the
    /// table `name` (see [`Batch::once`]). PostgreSQL only: SQLite cannot return rows from
    /// the middle of a statement, so a store that needs this writes another way there.
    ///
    /// # Errors
    /// As [`Batch::once`].
    pub fn returning(
        &mut self,
        name: &str,
        sql: impl Into<String>,
        params: &[Value],
    ) -> Result<(), Error> {
        self.once(name)?;
        self.statements.push(Statement {
            sql: sql.into(),
            params: params.to_vec(),
            name: Some(name.to_owned()),
        });
        Ok(())
    }

    /// Claims `name`, a lowercase identifier, for a part of the batch that may appear in it
    /// only once (a step whose rows others read by that name), on either database.
    ///
    /// # Errors
    /// `name` is not a lowercase identifier, or was claimed before in this batch.
    pub fn once(&mut self, name: &str) -> Result<(), Error> {
        let mut chars = name.chars();
        let identifier = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !identifier || !self.names.insert(name.to_owned()) {
            return Err(Error::Batch(format!(
                "`{name}` is not a fresh lowercase name in the batch"
            )));
        }
        Ok(())
    }

    /// The batch as one PostgreSQL statement and its parameters: each statement a `WITH`
    /// part, its placeholders moved past the parameters of those before it; the statement
    /// answers a row `(step, n)` for each counted one.
    fn folded(self) -> Result<(String, Vec<Value>), Error> {
        let total: usize = self.statements.iter().map(|s| s.params.len()).sum();
        if total > MAX_PARAMETERS {
            return Err(Error::Batch(format!(
                "{total} parameters, more than PostgreSQL's {MAX_PARAMETERS} in one statement"
            )));
        }
        let mut parts = Vec::with_capacity(self.statements.len());
        let mut counts = Vec::new();
        let mut params = Vec::with_capacity(total);
        for (index, statement) in self.statements.into_iter().enumerate() {
            let opening = statement.sql.trim_start().get(..4);
            if opening.is_some_and(|word| word.eq_ignore_ascii_case("with")) {
                return Err(Error::Batch(
                    "a statement of a batch cannot have a WITH of its own".into(),
                ));
            }
            let highest = sql::highest_placeholder(&statement.sql);
            if highest > statement.params.len() {
                return Err(Error::Parameters {
                    expected: highest,
                    given: statement.params.len(),
                });
            }
            if ["--", "/*", "$$"]
                .iter()
                .any(|mark| statement.sql.contains(mark))
            {
                return Err(Error::Batch(
                    "a statement of a batch cannot have comments or dollar quotes".into(),
                ));
            }
            let body = sql::renumber(&statement.sql, params.len());
            match statement.name {
                Some(name) => parts.push(format!("{name} AS ({body})")),
                None => {
                    parts.push(format!("_{index} AS ({body} RETURNING 1)"));
                    counts.push(format!(
                        "SELECT {index} AS step, COUNT(*) AS n FROM _{index}"
                    ));
                }
            }
            params.extend(statement.params);
        }
        let answer = if counts.is_empty() {
            "SELECT 0 AS step, 0 AS n WHERE FALSE".to_owned()
        } else {
            counts.join(" UNION ALL ")
        };
        Ok((format!("WITH {} {answer}", parts.join(", ")), params))
    }
}

impl Tx {
    /// An empty batch for this transaction.
    #[must_use]
    pub fn batch(&self) -> Batch {
        Batch::new(self.dialect())
    }

    /// Runs `batch` in this transaction: on PostgreSQL as one statement, on SQLite one
    /// statement after another. When it fails, the transaction must be rolled back (on
    /// SQLite the statements before the failing one have run).
    ///
    /// # Errors
    /// A statement failed, or the batch cannot run on this backend (see [`Batch`]).
    pub async fn run(&mut self, batch: Batch) -> Result<Changed, Error> {
        if batch.dialect != self.dialect() {
            return Err(Error::Batch(
                "built for the other database than the transaction's".into(),
            ));
        }
        let size = batch.statements.len();
        let conn = match &mut self.inner {
            TxInner::Own(tx) => &mut **tx,
            TxInner::Read(conn) => &mut **conn,
            TxInner::Grouped(member) => return run_in_turn(member.conn(), batch),
            TxInner::SqliteRead(reader) => return run_in_turn(reader.conn(), batch),
        };
        let mut rows = vec![0; size];
        match batch.statements.as_slice() {
            [] => {}
            // Alone, it needs no folding.
            [
                Statement {
                    sql,
                    params,
                    name: None,
                },
            ] => {
                rows[0] = exec::pg_execute(conn, sql, params).await?;
            }
            _ => {
                let (sql, params) = batch.folded()?;
                let counted: Vec<(i64, i64)> = exec::pg_fetch_all(conn, &sql, &params).await?;
                for (step, n) in counted {
                    let (Ok(step), Ok(n)) = (usize::try_from(step), u64::try_from(n)) else {
                        continue;
                    };
                    if let Some(slot) = rows.get_mut(step) {
                        *slot = n;
                    }
                }
            }
        }
        Ok(Changed { rows })
    }
}

fn run_in_turn(conn: &rusqlite::Connection, batch: Batch) -> Result<Changed, Error> {
    let mut rows = Vec::with_capacity(batch.statements.len());
    for statement in batch.statements {
        if let Some(name) = statement.name {
            return Err(Error::Batch(format!(
                "the step `{name}` returns rows to the batch, which only PostgreSQL can run"
            )));
        }
        rows.push(sqlite::execute(conn, &statement.sql, &statement.params)?);
    }
    Ok(Changed { rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Encode;

    #[test]
    fn a_batch_folds_into_one_statement_with_its_placeholders_moved_along() {
        let mut batch = Batch::new(Dialect::Postgres);
        batch.execute(
            "INSERT INTO a (x, y) VALUES ($1, $2)",
            &[1.encode(), 2.encode()],
        );
        batch
            .returning(
                "raised",
                "UPDATE b SET n = n + $1 WHERE k = '$1' RETURNING k",
                &[3.encode()],
            )
            .unwrap();
        batch.execute("INSERT INTO c SELECT k, $1 FROM raised", &[4.encode()]);
        let (sql, params) = batch.folded().unwrap();
        assert_eq!(
            sql,
            "WITH _0 AS (INSERT INTO a (x, y) VALUES ($1, $2) RETURNING 1), \
             raised AS (UPDATE b SET n = n + $3 WHERE k = '$1' RETURNING k), \
             _2 AS (INSERT INTO c SELECT k, $4 FROM raised RETURNING 1) \
             SELECT 0 AS step, COUNT(*) AS n FROM _0 UNION ALL SELECT 2 AS step, COUNT(*) AS n FROM _2"
        );
        assert_eq!(params.len(), 4);
    }

    #[test]
    fn a_step_needs_a_fresh_lowercase_name() {
        let mut batch = Batch::new(Dialect::Postgres);
        batch
            .returning("raised", "UPDATE b SET n = 1 RETURNING k", &[])
            .unwrap();
        for name in ["raised", "Raised", "_0", "", "a-b"] {
            assert!(
                batch
                    .returning(name, "UPDATE b SET n = 1 RETURNING k", &[])
                    .is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn a_statement_naming_another_ones_parameter_is_refused() {
        let mut batch = Batch::new(Dialect::Postgres);
        batch.execute("INSERT INTO a (x, y) VALUES ($1, $2)", &[1.encode()]);
        batch.execute("INSERT INTO a (x) VALUES ($1)", &[2.encode()]);
        assert!(matches!(
            batch.folded(),
            Err(Error::Parameters {
                expected: 2,
                given: 1
            })
        ));
    }

    #[test]
    fn a_statement_with_its_own_with_is_refused() {
        let mut batch = Batch::new(Dialect::Postgres);
        batch.execute("with x AS (SELECT 1) INSERT INTO a SELECT * FROM x", &[]);
        batch.execute("INSERT INTO a VALUES (1)", &[]);
        assert!(matches!(batch.folded(), Err(Error::Batch(_))));
    }
}
