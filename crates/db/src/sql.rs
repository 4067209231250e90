//! Statements whose size follows the data: numbered placeholders for `IN` lists and
//! multi-row inserts, so that many rows cost one round trip instead of one each; and
//! patterns that search for text as given.

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

/// A `LIKE` pattern matching any text that contains `text` lowercased, its `%`, `_` and
/// `\` taken literally; compare it with `LOWER(column) LIKE $n ESCAPE '\'`.
#[must_use]
pub fn contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
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

    #[test]
    fn a_contains_pattern_takes_wildcards_literally() {
        assert_eq!(contains("Ada L"), "%ada l%");
        assert_eq!(contains(r"50%_off\"), r"%50\%\_off\\%");
    }
}
