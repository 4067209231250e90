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

/// `sql` with each `$n` placeholder made `$(n + by)`, outside quoted text and names: a
/// statement placed after others' parameters in one statement ([`crate::Batch`]).
#[must_use]
pub fn renumber(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    map_placeholders(sql, |n| n + by)
}

/// The highest `$n` placeholder of `sql` outside quoted text and names; 0 when it has none.
#[must_use]
pub fn highest_placeholder(sql: &str) -> usize {
    let mut highest = 0;
    map_placeholders(sql, |n| {
        highest = highest.max(n);
        n
    });
    highest
}

/// `sql` with each `$n` outside quoted text and names made `$m` for `m = each(n)`.
fn map_placeholders(sql: &str, mut each: impl FnMut(usize) -> usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '$') => {
                let mut digits = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    digits.push(d);
                }
                match digits.parse::<usize>() {
                    Ok(n) => out.push_str(&each(n).to_string()),
                    Err(_) => out.push_str(&digits),
                }
            }
            _ => {}
        }
    }
    out
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
    fn renumbering_moves_placeholders_but_not_quoted_text() {
        assert_eq!(
            renumber(
                "UPDATE t SET a = $2, b = '$1', \"$3\" = $10 WHERE c = $1",
                4
            ),
            "UPDATE t SET a = $6, b = '$1', \"$3\" = $14 WHERE c = $5"
        );
        assert_eq!(
            renumber("SELECT 'it''s $1', $1", 1),
            "SELECT 'it''s $1', $2"
        );
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn the_highest_placeholder_is_found_outside_quotes() {
        assert_eq!(highest_placeholder("SELECT $2, '$9', $1"), 2);
        assert_eq!(highest_placeholder("SELECT 1"), 0);
    }

    #[test]
    fn a_contains_pattern_takes_wildcards_literally() {
        assert_eq!(contains("Ada L"), "%ada l%");
        assert_eq!(contains(r"50%_off\"), r"%50\%\_off\\%");
    }
}
