//! Statements whose size follows the data: numbered placeholders for `IN` lists and
//! multi-row inserts, so that many rows cost one round trip instead of one each.

/// `$first, …` for `count` parameters.
#[must_use]
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, …, $columns), …` for `rows` rows, the values of a multi-row insert; bind row by
/// row, column by column.
#[must_use]
pub fn rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(row * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn rows_number_their_columns_in_turn() {
        assert_eq!(rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(rows(1, 1), "($1)");
    }
}
