//! Words: how a text splits into them, how many typos a word forgives, and where a text
//! matches the words of a query.

use std::cell::RefCell;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, TextAnalyzer, TokenStream,
    Tokenizer,
};

/// How the index normalises the tokens `tokenizer` cuts: those over 40 bytes dropped, the
/// rest lower-cased and folded to ASCII (`Tiramisù` → `tiramisu`).
pub fn normalising<T: Tokenizer>(tokenizer: T) -> TextAnalyzer {
    TextAnalyzer::builder(tokenizer)
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The words of `text` as the index splits them: runs of letters and digits, lower-cased.
#[must_use]
pub fn words(text: &str) -> Vec<String> {
    spans(text)
        .map(|(start, end)| text[start..end].to_lowercase())
        .collect()
}

/// Byte ranges of the words of `text`.
fn spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = None;
    text.char_indices()
        .chain(std::iter::once((text.len(), ' ')))
        .filter_map(move |(i, c)| match (start, c.is_alphanumeric()) {
            (None, true) => {
                start = Some(i);
                None
            }
            (Some(s), false) => {
                start = None;
                Some((s, i))
            }
            _ => None,
        })
}

/// How many edits a query word may be from a word it matches: none for short words, where
/// one typo makes another word, more for long ones.
#[must_use]
pub fn fuzziness(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Levenshtein distance, or `None` once it is over `limit`.
fn within(a: &str, b: &str, limit: u8) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let limit = usize::from(limit);
    if a.len().abs_diff(b.len()) > limit {
        return false;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|&m| m > limit) {
            return false;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()] <= limit
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A word as the index keeps it ([`normalising`]).
fn folded(word: &str) -> String {
    thread_local! {
        static FOLD: RefCell<TextAnalyzer> = RefCell::new(normalising(RawTokenizer::default()));
    }
    FOLD.with_borrow_mut(|analyzer| {
        let mut tokens = analyzer.token_stream(word);
        let mut out = String::with_capacity(word.len());
        while let Some(token) = tokens.next() {
            out.push_str(&token.text);
        }
        out
    })
}

/// `text`, HTML-escaped, with each word matching one of `query` (exactly, or within its
/// typos, once folded as the index folds it) in `<mark>`; `None` when nothing matches.
#[must_use]
pub fn highlight(text: &str, query: &[String]) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 32);
    let mut written = 0;
    let mut matched = false;
    for (start, end) in spans(text) {
        let word = folded(&text[start..end]);
        if query
            .iter()
            .any(|q| *q == word || within(q, &word, fuzziness(q)))
        {
            escape(&text[written..start], &mut out);
            out.push_str("<mark>");
            escape(&text[start..end], &mut out);
            out.push_str("</mark>");
            written = end;
            matched = true;
        }
    }
    escape(&text[written..], &mut out);
    matched.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        assert_eq!(
            words("Pizza \"Margherita\"* 2x!"),
            ["pizza", "margherita", "2x"]
        );
        assert!(words("*  \"' ((").is_empty());
    }

    #[test]
    fn typos_are_forgiven_by_length() {
        assert!(within("margherita", "margarita", 2));
        assert!(within("piza", "pizza", 1));
        assert!(!within("pie", "pizza", 1));
    }

    #[test]
    fn highlights_escape_the_text_and_mark_matches() {
        let marked = highlight("Pizza <Margherita> & co", &["margarita".into()]).unwrap();
        assert_eq!(marked, "Pizza &lt;<mark>Margherita</mark>&gt; &amp; co");
        assert_eq!(highlight("Salad", &["pizza".into()]), None);
    }

    #[test]
    fn highlights_fold_accents_as_the_index_does() {
        let marked = highlight("Tiramisù & Thé", &["tiramisu".into(), "the".into()]).unwrap();
        assert_eq!(marked, "<mark>Tiramisù</mark> &amp; <mark>Thé</mark>");
        let marked = highlight("Straße", &["strasse".into()]).unwrap();
        assert_eq!(marked, "<mark>Straße</mark>");
    }
}
