//! The conditional status update every state machine's store makes: a row moves to a new
//! status only if it is still in one it may leave, and whether it moved tells the caller
//! whether it won the race. The loser (a second consumer of a redelivered event, a customer
//! cancelling as the merchant accepts) changes nothing else, so no effect happens twice.

use crate::{Encode, Error, FromRow, Tx, Value};

/// `UPDATE {table} SET status = …, … WHERE {key} = … AND status IN (…)`.
#[derive(Debug, Clone)]
pub struct StatusMove {
    table: &'static str,
    key: &'static str,
    /// The key's value, the new status, then each value of `set` in turn.
    params: Vec<Value>,
    set: Vec<&'static str>,
    from: Vec<Value>,
}

impl StatusMove {
    /// Moves the row of `table` whose column `key` is `id` from `from` to `to`.
    pub fn new(
        table: &'static str,
        key: &'static str,
        id: impl Encode,
        from: impl Encode,
        to: impl Encode,
    ) -> Self {
        StatusMove {
            table,
            key,
            params: vec![id.encode(), to.encode()],
            set: Vec::new(),
            from: vec![from.encode()],
        }
    }

    /// Lets the row move from `status` too.
    #[must_use]
    pub fn or_from(mut self, status: impl Encode) -> Self {
        self.from.push(status.encode());
        self
    }

    /// Sets `column` to `value` as well, in the same statement.
    #[must_use]
    pub fn set(mut self, column: &'static str, value: impl Encode) -> Self {
        self.set.push(column);
        self.params.push(value.encode());
        self
    }

    fn sql(&self, returning: Option<&str>) -> (String, Vec<Value>) {
        let mut assignments = vec!["status = $2".to_owned()];
        for (i, column) in self.set.iter().enumerate() {
            assignments.push(format!("{column} = ${}", i + 3));
        }
        let first = self.params.len() + 1;
        let from: Vec<String> = (first..first + self.from.len())
            .map(|n| format!("${n}"))
            .collect();
        let mut sql = format!(
            "UPDATE {} SET {} WHERE {} = $1 AND status IN ({})",
            self.table,
            assignments.join(", "),
            self.key,
            from.join(", ")
        );
        if let Some(columns) = returning {
            sql.push_str(" RETURNING ");
            sql.push_str(columns);
        }
        let mut params = self.params.clone();
        params.extend(self.from.iter().cloned());
        (sql, params)
    }

    /// Whether the row moved: false when it was in none of the statuses it may leave (moved
    /// meanwhile, or never made).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn run(self, tx: &mut Tx) -> Result<bool, Error> {
        let (sql, params) = self.sql(None);
        Ok(tx.execute(&sql, &params).await? == 1)
    }

    /// The row as moved (its `columns`), or `None` when it did not move.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn returning<R: FromRow>(
        self,
        tx: &mut Tx,
        columns: &str,
    ) -> Result<Option<R>, Error> {
        let (sql, params) = self.sql(Some(columns));
        tx.fetch_optional(&sql, &params).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_sets_the_status_and_the_other_columns_where_the_row_may_move() {
        let (sql, params) = StatusMove::new("orders", "id", 7_i64, "placed", "ready")
            .or_from("paid")
            .set("updated_at", 9_i64)
            .sql(Some("id"));
        assert_eq!(
            sql,
            "UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1 AND status IN ($4, $5) RETURNING id"
        );
        assert_eq!(params.len(), 5);
    }
}
