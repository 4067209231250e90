//! Extractors whose every rejection is a problem+json: malformed JSON 400, wrong content
//! type 415, body over the limit 413, unknown or invalid fields 422 naming the field.

use crate::problem::{FieldError, Problem};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, OptionalFromRequest, Request};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use ordo_kernel::PageRequest;
use ordo_kernel::paging::PageRequestError;
use ordo_kernel::trace::TraceContext;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// A JSON body in, or a JSON body out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse(&json_body(req, state).await?).map(Json)
    }
}

/// An optional body: a request without a `Content-Type` has none, nor has a `null` one; any
/// other must be valid like a required body.
impl<S, T> OptionalFromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if !req.headers().contains_key(header::CONTENT_TYPE) {
            return Ok(None);
        }
        let bytes = json_body(req, state).await?;
        if let Some(body) = well_formed(&bytes) {
            return Ok(Some(Json(body)));
        }
        match document(&bytes)? {
            serde_json::Value::Null => Ok(None),
            value => fields(value).map(|body| Some(Json(body))),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The body of a request that says it is JSON.
async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    if !has_json_content_type(&req) {
        return Err(Problem::unsupported_media_type(
            "send the body as application/json",
        ));
    }
    Bytes::from_request(req, state)
        .await
        .map_err(body_rejection)
}

fn has_json_content_type(req: &Request) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_rejection(rejection: BytesRejection) -> Problem {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::payload_too_large("the request body is larger than this server accepts")
    } else {
        Problem::malformed("the request body could not be read")
    }
}

/// Deserialises a JSON object, telling syntax errors (400) from field errors (422).
///
/// # Errors
/// A problem naming what is wrong with the document.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    match well_formed(bytes) {
        Some(body) => Ok(body),
        None => fields(document(bytes)?),
    }
}

/// `T` read straight from an object that needs nothing normalised: the common case, without
/// the detour through a `Value`. Anything else (not an object, `3.0` for an integer, an
/// error to name) takes the slower path, which gives the same answer or says what is wrong.
fn well_formed<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    (first == Some(&b'{'))
        .then(|| serde_json::from_slice(bytes).ok())
        .flatten()
}

/// The JSON document in `bytes`, its integral numbers as integers: JSON Schema counts `3.0`
/// an integer, as the OpenAPI document's clients do, and serde would refuse it for an `i64`.
fn document(bytes: &[u8]) -> Result<serde_json::Value, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut value = serde_json::Value::deserialize(&mut deserializer)
        .map_err(|error| Problem::malformed(format!("the body is not valid JSON: {error}")))?;
    deserializer.end().map_err(|_| {
        Problem::malformed("the body has trailing characters after the JSON document")
    })?;
    integral_numbers_as_integers(&mut value);
    Ok(value)
}

fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    /// Beyond 2^53 a float no longer holds every integer: leave such numbers alone.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
                && float.abs() <= EXACT
            {
                #[expect(clippy::cast_possible_truncation, reason = "integral and within 2^53")]
                let integer = float as i64;
                *number = integer.into();
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        serde_json::Value::Object(members) => {
            members.values_mut().for_each(integral_numbers_as_integers)
        }
        _ => {}
    }
}

/// `value`'s fields as `T`. A body is an object: serde would also read a struct from an
/// array of its fields in order, which no client means.
fn fields<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Problem> {
    if !value.is_object() {
        return Err(Problem::validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        Problem::validation(vec![field_error(&path, &message, "body")])
    })
}

/// Names the field an error is about (`whole` when it is about no field). The path already
/// ends at an unknown field; for a missing field it ends at the object that lacks it, and
/// serde gives the name in backticks.
fn field_error(path: &str, message: &str, whole: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(name) = quoted("unknown field `") {
        let field = if path.is_empty() {
            name
        } else {
            path.to_owned()
        };
        return FieldError::new(field, "unknown field");
    }
    if let Some(name) = quoted("missing field `") {
        let field = if path.is_empty() {
            name
        } else {
            format!("{path}.{name}")
        };
        return FieldError::new(field, "is required");
    }
    FieldError::new(if path.is_empty() { whole } else { path }, message)
}

/// The members of a JSON object that the type read from it does not name, gathered by a
/// `#[serde(flatten)]` field placed after the type's others: beside a flattened field serde
/// cannot refuse them itself (`deny_unknown_fields` does not combine with `flatten`).
#[derive(Debug, Default, Deserialize)]
pub struct Unknown(BTreeMap<String, IgnoredAny>);

impl Unknown {
    /// # Errors
    /// A 422 naming each unknown field, as `deny_unknown_fields` would.
    pub fn refuse(&self) -> Result<(), Problem> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(Problem::validation(
            self.0
                .keys()
                .map(|name| FieldError::new(name.clone(), "unknown field"))
                .collect(),
        ))
    }
}

/// A JSON object read as `T`, refusing the fields `T` does not name. For value types that
/// events carry too (a postal address): their readers ignore what they do not know, while a
/// request naming a field the server does not know is refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Strict<T>(pub T);

#[derive(Deserialize)]
struct Exact<T> {
    #[serde(flatten)]
    value: T,
    #[serde(flatten)]
    unknown: Unknown,
}

impl<T: Serialize> Serialize for Strict<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Strict<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let exact = Exact::<T>::deserialize(deserializer)?;
        match exact.unknown.0.keys().next() {
            None => Ok(Strict(exact.value)),
            Some(name) => Err(serde::de::Error::custom(format_args!(
                "unknown field `{name}`"
            ))),
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed: a gateway in front of a service's
/// processes, a load balancer in front of the gateways.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);

/// The client's address: as seen on the connection, or, when that is a trusted proxy, the
/// last address in `X-Forwarded-For` that is not one (what the proxies nearest to this
/// server said, which a client cannot forge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    fn resolve(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
        if !trusted.contains(&peer) {
            return peer;
        }
        let Some(chain) = forwarded_for else {
            return peer;
        };
        let hops: Vec<IpAddr> = chain
            .split(',')
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        hops.iter()
            .rev()
            .find(|hop| !trusted.contains(hop))
            .or_else(|| hops.first())
            .copied()
            .unwrap_or(peer)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let trusted = parts.extensions.get::<TrustedProxies>();
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok());
        Ok(ClientIp(match trusted {
            Some(trusted) => ClientIp::resolve(peer, forwarded, &trusted.0),
            None => peer,
        }))
    }
}

/// The request's trace (W3C trace context, continued from `traceparent` or new): what the
/// events its use case publishes carry on, so one order's journey is one trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trace(pub TraceContext);

impl<S: Send + Sync> FromRequestParts<S> for Trace {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Trace(
            parts
                .extensions
                .get::<TraceContext>()
                .copied()
                .unwrap_or_else(TraceContext::new_root),
        ))
    }
}

/// Path parameters; an id that does not parse names no resource, so it is a 404.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection: PathRejection| {
                tracing::debug!(%rejection, "path rejected");
                Problem::not_found("no such resource")
            })
    }
}

/// Query parameters; invalid ones are 422 naming the parameter.
#[derive(Debug, Clone, Copy)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

/// The query of a list that takes nothing but a page: `?limit=&cursor=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// # Errors
    /// As [`page_request`].
    pub fn page(&self) -> Result<PageRequest, Problem> {
        page_request(self.limit, self.cursor.as_deref())
    }
}

/// The page a list request asks for; a bad `limit` or `cursor` is a 422 naming it.
///
/// # Errors
/// The problem to answer.
pub fn page_request(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, Problem> {
    PageRequest::parse(limit, cursor).map_err(|error| {
        let field = match error {
            PageRequestError::Limit => "limit",
            PageRequestError::Cursor => "cursor",
        };
        Problem::validation(vec![FieldError::new(field, error.to_string())])
    })
}

/// Where a server-sent event stream resumes: the `Last-Event-ID` header, which must be the
/// id (a UUID) of one of the stream's events; `what` names them in the 422 otherwise.
///
/// # Errors
/// The problem to answer.
pub fn last_event_id(
    headers: &axum::http::HeaderMap,
    what: &str,
) -> Result<Option<uuid::Uuid>, Problem> {
    headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<uuid::Uuid>().ok())
                .ok_or_else(|| {
                    Problem::validation(vec![FieldError::new(
                        "Last-Event-ID",
                        format!("must be the id of {what}"),
                    )])
                })
        })
        .transpose()
}

/// Reads a query string into `T`; an invalid, unknown or missing parameter is a 422 that
/// names it.
///
/// # Errors
/// The problem to answer.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Problem> {
    if let Some(name) = not_utf8(query) {
        return Err(Problem::validation(vec![FieldError::new(
            name,
            "must be UTF-8 text, percent-encoded",
        )]));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        Problem::validation(vec![field_error(&path, &message, "query")])
    })
}

/// The name of the first parameter whose name or value is not UTF-8 once percent-decoded:
/// form decoding would put U+FFFD in place of its bytes, and the route would take text
/// nobody sent.
fn not_utf8(query: &str) -> Option<String> {
    let utf8 = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .is_ok()
    };
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (!(utf8(name) && utf8(value))).then(|| {
            form_urlencoded::parse(pair.as_bytes())
                .next()
                .map_or_else(String::new, |(name, _)| name.into_owned())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_last_address_a_trusted_proxy_did_not_add() {
        let gateway: IpAddr = "10.0.0.2".parse().unwrap();
        let balancer: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let trusted = [gateway, balancer];
        let forged = "198.51.100.1, 203.0.113.7, 10.0.0.1";
        assert_eq!(ClientIp::resolve(gateway, Some(forged), &trusted), client);
        assert_eq!(ClientIp::resolve(gateway, None, &trusted), gateway);
        assert_eq!(
            ClientIp::resolve(client, Some("198.51.100.1"), &trusted),
            client,
            "nobody else's word is taken"
        );
        assert_eq!(
            ClientIp::resolve(gateway, Some("10.0.0.1"), &trusted),
            balancer,
            "only proxies: the farthest"
        );
    }
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Profile {
        #[expect(dead_code, reason = "only deserialised")]
        name: String,
        age: u8,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Listing {
        limit: Option<u32>,
        unread: Option<bool>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let field = |query: &str| {
            parse_query::<Listing>(query).unwrap_err().errors[0]
                .field
                .clone()
        };
        assert_eq!(field("limit=abc"), "limit");
        assert_eq!(field("limit=5000000000"), "limit");
        assert_eq!(field("unread=abc"), "unread");
        assert_eq!(field("colour=red"), "colour");
        assert!(parse_query::<Listing>("limit=3&unread=true").is_ok());
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Search {
        q: Option<String>,
    }

    #[test]
    fn query_text_that_is_not_utf8_is_refused() {
        let refused = parse_query::<Search>("q=%ff%fe").unwrap_err();
        assert_eq!(refused.status, 422);
        assert_eq!(refused.errors[0].field, "q");
        assert_eq!(parse_query::<Search>("%ff=1").unwrap_err().status, 422);
        let pizza = parse_query::<Search>("q=%F0%9F%8D%95+pizza").unwrap();
        assert_eq!(pizza.q.as_deref(), Some("\u{1f355} pizza"));
        // U+FFFD itself, sent as UTF-8, is text like any other.
        let replacement = parse_query::<Search>("q=%EF%BF%BD").unwrap();
        assert_eq!(replacement.q.as_deref(), Some("\u{fffd}"));
    }

    #[test]
    fn syntax_errors_are_400_and_field_errors_422_with_the_field() {
        let malformed = parse::<Profile>(b"{\"name\": ").unwrap_err();
        assert_eq!(malformed.status, 400);

        let unknown = parse::<Profile>(br#"{"name":"a","age":3,"role":"admin"}"#).unwrap_err();
        assert_eq!(unknown.status, 422);
        assert_eq!(unknown.errors[0].field, "role");

        let invalid = parse::<Profile>(br#"{"name":"a","age":-1}"#).unwrap_err();
        assert_eq!(invalid.errors[0].field, "age");

        let missing = parse::<Profile>(br#"{"name":"a"}"#).unwrap_err();
        assert_eq!(missing.errors[0].field, "age");

        let trailing = parse::<Profile>(br#"{"name":"a","age":1} x"#).unwrap_err();
        assert_eq!(trailing.status, 400);
    }

    #[test]
    fn a_body_is_an_object_whose_integral_numbers_are_integers() {
        let whole: Profile = parse(br#"{"name":"a","age":30.0}"#).unwrap();
        assert_eq!(whole.age, 30);
        let fraction = parse::<Profile>(br#"{"name":"a","age":30.5}"#).unwrap_err();
        assert_eq!(fraction.errors[0].field, "age");
        let huge = parse::<Count>(br#"{"n":1e300}"#).unwrap_err();
        assert_eq!(huge.errors[0].field, "n");
        let array = parse::<Profile>(br#"["a", 30]"#).unwrap_err();
        assert_eq!(
            (array.status, array.errors[0].field.as_str()),
            (422, "body")
        );
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Count {
        n: i64,
    }

    /// A value type as events carry it: tolerant of what it does not know.
    #[derive(Debug, Deserialize, PartialEq)]
    struct Point {
        lat: f64,
        lon: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Visit {
        at: Option<Strict<Point>>,
    }

    #[test]
    fn a_strict_value_refuses_what_its_type_would_ignore() {
        let visit: Visit = parse(br#"{"at": {"lat": 52, "lon": 13.4}}"#).unwrap();
        assert_eq!(
            visit.at,
            Some(Strict(Point {
                lat: 52.0,
                lon: 13.4
            }))
        );
        let problem =
            parse::<Visit>(br#"{"at": {"lat": 52, "lon": 13.4, "alt": 40}}"#).unwrap_err();
        assert_eq!(problem.errors[0].field, "at");
        assert_eq!(problem.errors[0].detail, "unknown field");
        let missing = parse::<Visit>(br#"{"at": {"lat": 52}}"#).unwrap_err();
        assert_eq!(missing.errors[0].field, "at.lon");
    }

    #[derive(Debug, Deserialize)]
    struct Labelled {
        label: Option<String>,
        #[serde(flatten)]
        point: Point,
        #[serde(flatten)]
        unknown: Unknown,
    }

    #[test]
    fn unknown_members_beside_a_flattened_type_are_named() {
        let known: Labelled = parse(br#"{"label": "home", "lat": 1, "lon": 2}"#).unwrap();
        assert_eq!(known.label.as_deref(), Some("home"));
        assert_eq!(known.point, Point { lat: 1.0, lon: 2.0 });
        known.unknown.refuse().unwrap();
        let extra: Labelled = parse(br#"{"lat": 1, "lon": 2, "floor": 3, "door": "b"}"#).unwrap();
        let fields: Vec<String> = extra
            .unknown
            .refuse()
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["door", "floor"]);
    }
}
