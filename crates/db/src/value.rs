//! What goes into a statement and comes out of a row, typed: each Rust type says once how
//! it is stored ([`Encode`]) and read back ([`Decode`]), so stores bind ids, instants and
//! JSON as themselves instead of converting them to strings by hand.
//!
//! How a [`Value`] lands in a column is the backend's business: in SQLite ids are text,
//! instants epoch milliseconds, JSON text and booleans the integers 0 and 1; PostgreSQL has
//! a type for each (`uuid`, `timestamptz`, `jsonb`, `boolean`).

use crate::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use uuid::Uuid;

/// A statement's parameter, or a column's content, before it is typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL of a column of this kind: PostgreSQL types every parameter, NULL included.
    Null(Kind),
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    Uuid(Uuid),
    Instant(OffsetDateTime),
    /// A JSON document, serialised.
    Json(String),
}

/// What kind of value a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Real,
    Text,
    Bytes,
    Uuid,
    Instant,
    Json,
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null(_) => "NULL",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a real number",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Uuid(_) => "a UUID",
            Value::Instant(_) => "an instant",
            Value::Json(_) => "JSON",
        }
    }

    /// The error of a column that holds `self` where `wanted` was expected.
    #[must_use]
    pub fn unexpected(&self, wanted: &str) -> String {
        format!("expected {wanted}, found {}", self.kind())
    }
}

/// How a Rust value is bound as a parameter.
pub trait Encode {
    /// The kind of its column, which a NULL of the type is bound as.
    const KIND: Kind;

    fn encode(&self) -> Value;
}

/// How a Rust value is read from a column; the message of an `Err` says what was wrong
/// (the column's name is added by the row).
pub trait Decode: Sized {
    /// # Errors
    /// When the column holds something that is not a `Self`.
    fn decode(value: Value) -> Result<Self, String>;
}

/// The parameters of a statement, each encoded: `params![id, name, at]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::Value] };
    ($($value:expr),+ $(,)?) => {
        &[$($crate::Encode::encode(&$value)),+] as &[$crate::Value]
    };
}

impl<T: Encode + ?Sized> Encode for &T {
    const KIND: Kind = T::KIND;

    fn encode(&self) -> Value {
        (**self).encode()
    }
}

impl<T: Encode> Encode for Option<T> {
    const KIND: Kind = T::KIND;

    fn encode(&self) -> Value {
        self.as_ref().map_or(Value::Null(T::KIND), Encode::encode)
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: Value) -> Result<Self, String> {
        match value {
            Value::Null(_) => Ok(None),
            value => T::decode(value).map(Some),
        }
    }
}

impl Encode for bool {
    const KIND: Kind = Kind::Bool;

    fn encode(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Decode for bool {
    fn decode(value: Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(b),
            Value::Int(n) => Ok(n != 0),
            other => Err(other.unexpected("a boolean")),
        }
    }
}

macro_rules! integer {
    ($($int:ty),+) => {$(
        impl Encode for $int {
            const KIND: Kind = Kind::Int;

            fn encode(&self) -> Value {
                Value::Int(i64::from(*self))
            }
        }

        impl Decode for $int {
            fn decode(value: Value) -> Result<Self, String> {
                match value {
                    Value::Int(n) => <$int>::try_from(n).map_err(|e| e.to_string()),
                    other => Err(other.unexpected("an integer")),
                }
            }
        }
    )+};
}

integer!(i64, i32, i16, u32, u16, u8);

impl Encode for u64 {
    const KIND: Kind = Kind::Int;

    fn encode(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Decode for u64 {
    fn decode(value: Value) -> Result<Self, String> {
        i64::decode(value).and_then(|n| u64::try_from(n).map_err(|e| e.to_string()))
    }
}

impl Encode for usize {
    const KIND: Kind = Kind::Int;

    fn encode(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Decode for usize {
    fn decode(value: Value) -> Result<Self, String> {
        i64::decode(value).and_then(|n| usize::try_from(n).map_err(|e| e.to_string()))
    }
}

impl Encode for f64 {
    const KIND: Kind = Kind::Real;

    fn encode(&self) -> Value {
        Value::Real(*self)
    }
}

impl Decode for f64 {
    fn decode(value: Value) -> Result<Self, String> {
        match value {
            Value::Real(x) => Ok(x),
            // Aggregates of whole numbers may come back as integers.
            #[allow(clippy::cast_precision_loss)]
            Value::Int(n) => Ok(n as f64),
            other => Err(other.unexpected("a real number")),
        }
    }
}

impl Encode for str {
    const KIND: Kind = Kind::Text;

    fn encode(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Encode for String {
    const KIND: Kind = Kind::Text;

    fn encode(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl Decode for String {
    fn decode(value: Value) -> Result<Self, String> {
        match value {
            Value::Text(text) | Value::Json(text) => Ok(text),
            Value::Uuid(id) => Ok(id.to_string()),
            other => Err(other.unexpected("text")),
        }
    }
}

impl Encode for [u8] {
    const KIND: Kind = Kind::Bytes;

    fn encode(&self) -> Value {
        Value::Bytes(self.to_vec())
    }
}

impl Encode for Vec<u8> {
    const KIND: Kind = Kind::Bytes;

    fn encode(&self) -> Value {
        Value::Bytes(self.clone())
    }
}

impl Decode for Vec<u8> {
    fn decode(value: Value) -> Result<Self, String> {
        match value {
            Value::Bytes(bytes) => Ok(bytes),
            other => Err(other.unexpected("bytes")),
        }
    }
}

impl Encode for Uuid {
    const KIND: Kind = Kind::Uuid;

    fn encode(&self) -> Value {
        Value::Uuid(*self)
    }
}

impl Decode for Uuid {
    fn decode(value: Value) -> Result<Self, String> {
        match value {
            Value::Uuid(id) => Ok(id),
            Value::Text(text) => Uuid::parse_str(&text).map_err(|e| e.to_string()),
            other => Err(other.unexpected("a UUID")),
        }
    }
}

impl Encode for OffsetDateTime {
    const KIND: Kind = Kind::Instant;

    fn encode(&self) -> Value {
        Value::Instant(*self)
    }
}

impl Decode for OffsetDateTime {
    fn decode(value: Value) -> Result<Self, String> {
        match value {
            Value::Instant(at) => Ok(at),
            Value::Int(millis) => Ok(ordo_kernel::time::from_millis(millis)),
            other => Err(other.unexpected("an instant")),
        }
    }
}

impl Decode for Value {
    fn decode(value: Value) -> Result<Self, String> {
        Ok(value)
    }
}

/// A column holding `T` as a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> Encode for Json<T> {
    const KIND: Kind = Kind::Json;

    fn encode(&self) -> Value {
        // Serialising plain data to a string cannot fail: maps have string keys and
        // numbers are finite where the types of this platform hold them.
        Value::Json(serde_json::to_string(&self.0).unwrap_or_else(|_| "null".to_owned()))
    }
}

impl<T: DeserializeOwned> Decode for Json<T> {
    fn decode(value: Value) -> Result<Self, String> {
        match value {
            Value::Json(text) | Value::Text(text) => serde_json::from_str(&text)
                .map(Json)
                .map_err(|e| e.to_string()),
            other => Err(other.unexpected("JSON")),
        }
    }
}

/// Stores a type as the text of its `as_str()` and reads it back with `FromStr`: the
/// statuses and kinds of a domain, which the database keeps readable.
#[macro_export]
macro_rules! text_value {
    ($($type:ty),+ $(,)?) => {$(
        impl $crate::Encode for $type {
            const KIND: $crate::Kind = $crate::Kind::Text;

            fn encode(&self) -> $crate::Value {
                $crate::Value::Text(self.as_str().to_owned())
            }
        }

        impl $crate::Decode for $type {
            fn decode(value: $crate::Value) -> Result<Self, String> {
                let text = <String as $crate::Decode>::decode(value)?;
                text.parse::<$type>().map_err(|e| e.to_string())
            }
        }
    )+};
}

/// One row of a result, read by column name.
pub struct Row {
    columns: std::sync::Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    pub(crate) fn new(columns: std::sync::Arc<[String]>, values: Vec<Value>) -> Self {
        Row { columns, values }
    }

    /// The column `name`, decoded.
    ///
    /// # Errors
    /// When there is no such column, or it does not hold a `T`.
    pub fn get<T: Decode>(&mut self, name: &str) -> Result<T, Error> {
        let index = self
            .columns
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| Error::decode(name, "no such column"))?;
        self.at(index)
    }

    /// The column at `index` (from 0), decoded.
    ///
    /// # Errors
    /// When there is no such column, or it does not hold a `T`.
    pub fn at<T: Decode>(&mut self, index: usize) -> Result<T, Error> {
        let name = || {
            self.columns
                .get(index)
                .cloned()
                .unwrap_or_else(|| index.to_string())
        };
        let value = self
            .values
            .get_mut(index)
            .map(|value| std::mem::replace(value, Value::Null(Kind::Int)))
            .ok_or_else(|| Error::decode(&name(), "no such column"))?;
        T::decode(value).map_err(|message| Error::decode(&name(), &message))
    }
}

/// A type built from a row: `#[derive(FromRow)]` reads each field from the column of the
/// same name; tuples read their columns in order.
pub trait FromRow: Sized {
    /// # Errors
    /// When a column is missing or holds the wrong type.
    fn from_row(row: Row) -> Result<Self, Error>;
}

/// A row's values as they came, for a caller that does not know its shape (a schema check).
impl FromRow for Vec<Value> {
    fn from_row(row: Row) -> Result<Self, Error> {
        Ok(row.values)
    }
}

macro_rules! tuple {
    ($(($($t:ident $n:tt),+)),+) => {$(
        impl<$($t: Decode),+> FromRow for ($($t,)+) {
            fn from_row(mut row: Row) -> Result<Self, Error> {
                Ok(($(row.at::<$t>($n)?,)+))
            }
        }
    )+};
}

tuple!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5)
);

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: Vec<Value>) -> Row {
        let columns: Vec<String> = (0..values.len()).map(|n| format!("c{n}")).collect();
        Row::new(columns.into(), values)
    }

    #[test]
    fn ids_and_instants_read_back_from_either_form() {
        let id = Uuid::now_v7();
        assert_eq!(Uuid::decode(Value::Text(id.to_string())), Ok(id));
        assert_eq!(Uuid::decode(Value::Uuid(id)), Ok(id));
        let at = time::macros::datetime!(2026-12-07 10:00:00.250 UTC);
        let millis = ordo_kernel::time::to_millis(at);
        assert_eq!(OffsetDateTime::decode(Value::Int(millis)), Ok(at));
        assert_eq!(OffsetDateTime::decode(Value::Instant(at)), Ok(at));
    }

    #[test]
    fn a_wrong_type_names_the_column_and_both_types() {
        let error = row(vec![Value::Text("x".into())])
            .get::<i64>("c0")
            .unwrap_err()
            .to_string();
        assert!(error.contains("c0") && error.contains("integer") && error.contains("text"));
        let missing = row(vec![]).get::<i64>("nope").unwrap_err().to_string();
        assert!(missing.contains("nope"), "{missing}");
    }

    #[test]
    fn null_reads_as_none_and_json_round_trips() {
        assert_eq!(Option::<i64>::decode(Value::Null(Kind::Int)), Ok(None));
        let doc = Json(vec![1, 2, 3]);
        assert_eq!(Json::<Vec<i32>>::decode(doc.encode()), Ok(doc));
        assert!(i64::decode(Value::Null(Kind::Int)).is_err());
    }

    #[test]
    fn tuples_read_columns_in_order() {
        let (a, b): (i64, Option<String>) =
            FromRow::from_row(row(vec![Value::Int(3), Value::Null(Kind::Text)])).unwrap();
        assert_eq!((a, b), (3, None));
    }

    #[test]
    fn params_encode_each_value() {
        let id = Uuid::nil();
        let values = params![id, "x", 3_i64, None::<i64>, true];
        assert_eq!(
            values,
            &[
                Value::Uuid(id),
                Value::Text("x".into()),
                Value::Int(3),
                Value::Null(Kind::Int),
                Value::Bool(true)
            ]
        );
    }
}
