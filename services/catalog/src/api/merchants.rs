use super::images::ImageView;
use crate::app::{Catalog, Near};
use crate::domain::{Merchant, MerchantChange, NewMerchant, Opening};
use axum::extract::State;
use axum::http::StatusCode;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, FieldError, Json, Path, Problem, Query, Trace};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningView {
    /// `mon` … `sun`.
    #[schema(
        pattern = r"^\s*([Mm][Oo][Nn]|[Tt][Uu][Ee]|[Ww][Ee][Dd]|[Tt][Hh][Uu]|[Ff][Rr][Ii]|[Ss][Aa][Tt]|[Ss][Uu][Nn])\s*$"
    )]
    day: String,
    /// Local time, `HH:MM`.
    #[schema(pattern = r"^\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*$")]
    open: String,
    /// Local time, `HH:MM`; earlier than `open` when it runs past midnight.
    #[schema(pattern = r"^\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*$")]
    close: String,
}

impl From<Opening> for OpeningView {
    fn from(o: Opening) -> Self {
        OpeningView {
            day: o.day,
            open: o.open,
            close: o.close,
        }
    }
}

impl From<OpeningView> for Opening {
    fn from(o: OpeningView) -> Self {
        Opening {
            day: o.day,
            open: o.open,
            close: o.close,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MerchantView {
    id: Uuid,
    name: String,
    /// `restaurant` or `shop`.
    kind: String,
    address: String,
    lat: f64,
    lon: f64,
    opening_hours: Vec<OpeningView>,
    /// Kilometres from `near`, when the list was asked for near a point.
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_km: Option<f64>,
    /// Its picture (`PUT /merchants/{id}/image`), or null.
    image: Option<ImageView>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<Merchant> for MerchantView {
    fn from(m: Merchant) -> Self {
        MerchantView {
            id: m.id,
            name: m.name,
            kind: m.kind.as_str().to_owned(),
            address: m.address,
            lat: m.lat,
            lon: m.lon,
            opening_hours: m.opening_hours.into_iter().map(OpeningView::from).collect(),
            distance_km: None,
            image: m.image.map(ImageView::of),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MerchantPage {
    items: Vec<MerchantView>,
    next_cursor: Option<String>,
}

const MERCHANT_KINDS: [&str; 2] = ["restaurant", "shop"];

fn merchant_kind() -> utoipa::openapi::schema::Object {
    ordo_kernel::schema::one_of(&MERCHANT_KINDS, false)
}

fn optional_merchant_kind() -> utoipa::openapi::schema::Object {
    ordo_kernel::schema::one_of(&MERCHANT_KINDS, true)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMerchant {
    #[schema(schema_with = ordo_kernel::schema::line::<120>)]
    name: String,
    /// `restaurant` or `shop`.
    #[schema(schema_with = merchant_kind)]
    kind: String,
    #[schema(schema_with = ordo_kernel::schema::line::<300>)]
    address: String,
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
    #[serde(default)]
    #[schema(max_items = 21)]
    opening_hours: Vec<OpeningView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMerchant {
    #[schema(schema_with = ordo_kernel::schema::optional_line::<120>)]
    name: Option<String>,
    #[schema(schema_with = optional_merchant_kind)]
    kind: Option<String>,
    #[schema(schema_with = ordo_kernel::schema::optional_line::<300>)]
    address: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    lat: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    lon: Option<f64>,
    #[schema(max_items = 21)]
    opening_hours: Option<Vec<OpeningView>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMerchants {
    /// `LAT,LON`: only merchants within `radius_km` of it, nearest first (one page).
    #[param(pattern = r"^\s*[-+]?\d{1,2}(\.\d+)?\s*,\s*[-+]?\d{1,3}(\.\d+)?\s*$")]
    near: Option<String>,
    /// Kilometres, 0.1 to 100; default 5.
    #[param(minimum = 0.1, maximum = 100)]
    radius_km: Option<f64>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page (not with `near`).
    cursor: Option<String>,
}

/// The merchants someone works for.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffedMerchants {
    items: Vec<MerchantView>,
}

fn near(query: &ListMerchants) -> Result<Option<Near>, Problem> {
    let invalid =
        |field: &str, message: &str| Problem::validation(vec![FieldError::new(field, message)]);
    let Some(text) = query.near.as_deref() else {
        return match query.radius_km {
            Some(_) => Err(invalid("radius_km", "only with near")),
            None => Ok(None),
        };
    };
    let Some((lat, lon)) = ordo_kernel::geo::point(text) else {
        return Err(invalid("near", "must be LAT,LON, e.g. 52.52,13.405"));
    };
    let radius_km = query.radius_km.unwrap_or(5.0);
    if !(0.1..=100.0).contains(&radius_km) {
        return Err(invalid("radius_km", "must be between 0.1 and 100"));
    }
    if query.cursor.is_some() {
        return Err(invalid(
            "cursor",
            "not with near: the nearest merchants are one page",
        ));
    }
    Ok(Some(Near {
        lat,
        lon,
        radius_km,
    }))
}

/// Create a merchant; the caller becomes its staff (merchant accounts).
#[utoipa::path(post, path = "/merchants", tag = "catalog", security(("bearer" = [])),
    request_body = CreateMerchant,
    responses(
        (status = 201, description = "The merchant", body = MerchantView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn create(
    State(catalog): State<Arc<Catalog>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Json(body): Json<CreateMerchant>,
) -> Result<(StatusCode, Json<MerchantView>), Problem> {
    let new = NewMerchant {
        name: body.name,
        kind: body.kind,
        address: body.address,
        lat: body.lat,
        lon: body.lon,
        opening_hours: body.opening_hours.into_iter().map(Opening::from).collect(),
    };
    let merchant = catalog
        .create_merchant(&caller, new, &EventMeta::from_trace(&trace))
        .await?;
    Ok((StatusCode::CREATED, Json(merchant.into())))
}

/// Merchants: newest first, or near a point, nearest first.
#[utoipa::path(get, path = "/merchants", tag = "catalog",
    params(ListMerchants),
    responses(
        (status = 200, description = "A page of merchants", body = MerchantPage),
        (status = 422, description = "Bad query", body = Problem),
    ))]
pub async fn list(
    State(catalog): State<Arc<Catalog>>,
    Query(query): Query<ListMerchants>,
) -> Result<Json<MerchantPage>, Problem> {
    let near = near(&query)?;
    let page = super::page(query.limit, query.cursor.as_deref())?;
    let merchants = catalog.merchants(near, page).await?;
    let items = merchants
        .items
        .into_iter()
        .map(|m| {
            let distance =
                near.map(|n| ordo_kernel::geo::distance_km((n.lat, n.lon), (m.lat, m.lon)));
            let mut view = MerchantView::from(m);
            view.distance_km = distance.map(|d| (d * 1000.0).round() / 1000.0);
            view
        })
        .collect();
    Ok(Json(MerchantPage {
        items,
        next_cursor: merchants.next_cursor,
    }))
}

/// The merchants the caller works for (their staff), by name: what a merchant's board
/// shows. Empty for anyone who staffs none.
#[utoipa::path(get, path = "/me/merchants", tag = "catalog", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's merchants", body = StaffedMerchants),
    ))]
pub async fn staffed(
    State(catalog): State<Arc<Catalog>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<StaffedMerchants>, Problem> {
    let items = catalog
        .staffed(&caller)
        .await?
        .into_iter()
        .map(MerchantView::from)
        .collect();
    Ok(Json(StaffedMerchants { items }))
}

/// One merchant.
#[utoipa::path(get, path = "/merchants/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Merchant id")),
    responses(
        (status = 200, description = "The merchant", body = MerchantView),
        (status = 404, description = "No such merchant", body = Problem),
    ))]
pub async fn get(
    State(catalog): State<Arc<Catalog>>,
    Path(id): Path<Uuid>,
) -> Result<Json<MerchantView>, Problem> {
    Ok(Json(catalog.merchant(id).await?.into()))
}

/// Change a merchant (its staff).
#[utoipa::path(patch, path = "/merchants/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Merchant id")),
    request_body = PatchMerchant,
    responses(
        (status = 200, description = "The merchant", body = MerchantView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "No such merchant, or not the caller's", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn patch(
    State(catalog): State<Arc<Catalog>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
    Json(body): Json<PatchMerchant>,
) -> Result<Json<MerchantView>, Problem> {
    let change = MerchantChange {
        name: body.name,
        kind: body.kind,
        address: body.address,
        lat: body.lat,
        lon: body.lon,
        opening_hours: body
            .opening_hours
            .map(|o| o.into_iter().map(Opening::from).collect()),
    };
    Ok(Json(
        catalog
            .update_merchant(&caller, id, change, &EventMeta::from_trace(&trace))
            .await?
            .into(),
    ))
}
