//! Cursor pagination. Ids are UUIDv7, so "newest first" is "id descending" and the cursor
//! is the last id seen, encoded so that clients treat it as opaque.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// An opaque position in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub Uuid);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid cursor")]
pub struct InvalidCursor;

impl Cursor {
    #[must_use]
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    /// # Errors
    /// `InvalidCursor` when the text is not a cursor this module produced.
    pub fn decode(text: &str) -> Result<Self, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| InvalidCursor)?;
        Uuid::from_slice(&bytes)
            .map(Cursor)
            .map_err(|_| InvalidCursor)
    }
}

/// What a caller asked for: at most `limit` items after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PageRequestError {
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    Limit,
    #[error("invalid cursor")]
    Cursor,
}

impl PageRequest {
    /// # Errors
    /// When the limit is out of range or the cursor is not one of ours.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, PageRequestError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(PageRequestError::Limit);
        }
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(Cursor::decode)
            .transpose()
            .map_err(|_| PageRequestError::Cursor)?;
        Ok(PageRequest { limit, after })
    }

    /// How many rows to fetch: one more than the page, to learn whether another page exists.
    #[must_use]
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of a list and the cursor of the next, if any.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `fetch_limit`, newest first.
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, id_of: impl Fn(&T) -> Uuid) -> Self {
        let limit = request.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| Cursor(id_of(last)).encode())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor(Uuid::now_v7());
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        assert_eq!(Cursor::decode("not a cursor"), Err(InvalidCursor));
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(
            PageRequest::parse(Some(0), None),
            Err(PageRequestError::Limit)
        );
        assert_eq!(
            PageRequest::parse(Some(101), None),
            Err(PageRequestError::Limit)
        );
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn a_full_fetch_yields_a_next_cursor() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let request = PageRequest::parse(Some(2), None).unwrap();
        let page = Page::from_rows(ids.clone(), request, |id| *id);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_cursor, Some(Cursor(ids[1]).encode()));
        let last = Page::from_rows(ids[..2].to_vec(), request, |id| *id);
        assert_eq!(last.next_cursor, None);
    }
}
