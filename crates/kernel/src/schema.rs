//! Schemas of the text fields the domains check, for `#[schema(schema_with = …)]`: the
//! OpenAPI document says what the server enforces, so that a client generated from it or a
//! contract fuzzer sends what is accepted and nothing else.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// No control character (`char::is_control`: C0, DEL and C1).
const NO_CONTROL: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";
/// As [`NO_CONTROL`], with at least one character that is not white space (the domains
/// trim).
const ONE_LINE: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";
/// No control character but tabs and line breaks.
const FREE_TEXT: &str = r"^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$";

fn string(nullable: bool) -> ObjectBuilder {
    let kind = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new().schema_type(kind)
}

fn one_line(max: usize, nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(ONE_LINE))
        .build()
}

/// One line of 1 to `MAX` characters, as [`crate::validation::text`] takes.
#[must_use]
pub fn line<const MAX: usize>() -> Object {
    one_line(MAX, false)
}

/// [`line`], or `null`.
#[must_use]
pub fn optional_line<const MAX: usize>() -> Object {
    one_line(MAX, true)
}

fn free(max: usize, nullable: bool) -> Object {
    string(nullable)
        .max_length(Some(max))
        .pattern(Some(FREE_TEXT))
        .build()
}

/// Up to `MAX` characters with line breaks and tabs, as [`crate::validation::free_text`]
/// takes; may be empty.
#[must_use]
pub fn free_text<const MAX: usize>() -> Object {
    free(MAX, false)
}

/// [`free_text`], or `null`.
#[must_use]
pub fn optional_free_text<const MAX: usize>() -> Object {
    free(MAX, true)
}

/// A value taken as sent (a password, a token), as [`crate::validation::verbatim`]
/// takes: any length, no control character.
#[must_use]
pub fn verbatim() -> Object {
    string(false).pattern(Some(NO_CONTROL)).build()
}

/// [`verbatim`], or `null`.
#[must_use]
pub fn optional_verbatim() -> Object {
    string(true).pattern(Some(NO_CONTROL)).build()
}

/// [`verbatim`] of `MIN` to `MAX` characters.
#[must_use]
pub fn verbatim_between<const MIN: usize, const MAX: usize>() -> Object {
    string(false)
        .min_length(Some(MIN))
        .max_length(Some(MAX))
        .pattern(Some(NO_CONTROL))
        .build()
}

/// One of `values`, or `null` when `nullable`.
#[must_use]
pub fn one_of(values: &[&str], nullable: bool) -> Object {
    let mut members: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if nullable {
        members.push(serde_json::Value::Null);
    }
    string(nullable).enum_values(Some(members)).build()
}
