use crate::app::{Payments, SavedCard};
use crate::domain::CardDetails;
use axum::extract::State;
use axum::http::StatusCode;
use ordo_http::{Authenticated, Json, PageQuery, Path, Problem, Query};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

fn expiry_year() -> utoipa::openapi::schema::Object {
    let year = f64::from(ordo_kernel::time::now().year());
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .minimum(Some(year))
        .maximum(Some(year + 20.0))
        .build()
}

/// A card as typed. Only the provider sees the number and CVC.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCard {
    /// 12 to 19 digits, spaces and dashes ignored; the checksum must hold.
    #[schema(pattern = r"^[ -]*([0-9][ -]*){12,19}$")]
    card_number: String,
    #[schema(minimum = 1, maximum = 12)]
    exp_month: i64,
    /// This year to twenty years on; the card must not have expired.
    #[schema(schema_with = expiry_year)]
    exp_year: i64,
    #[schema(pattern = r"^[0-9]{3,4}$")]
    cvc: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodView {
    id: Uuid,
    brand: String,
    last4: String,
    exp_month: i64,
    exp_year: i64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// The customer's default card: the newest they keep (true for the first card of the
    /// first page only).
    default: bool,
}

impl From<SavedCard> for PaymentMethodView {
    fn from(card: SavedCard) -> Self {
        let m = card.method;
        PaymentMethodView {
            id: m.id,
            brand: m.brand,
            last4: m.last4,
            exp_month: m.exp_month,
            exp_year: m.exp_year,
            created_at: m.created_at,
            default: card.default,
        }
    }
}

/// Save a card (customers). The provider tokenises it; the number and CVC are not kept. The
/// newest card is the default.
#[utoipa::path(post, path = "/me/payment-methods", tag = "payments", security(("bearer" = [])),
    request_body = AddCard,
    responses(
        (status = 201, description = "The saved card", body = PaymentMethodView),
        (status = 403, description = "Not a customer", body = Problem),
        (status = 422, description = "Invalid card details", body = Problem),
    ))]
pub async fn add(
    State(payments): State<Arc<Payments>>,
    Authenticated(caller): Authenticated,
    Json(body): Json<AddCard>,
) -> Result<(StatusCode, Json<PaymentMethodView>), Problem> {
    let card = CardDetails {
        number: body.card_number,
        exp_month: body.exp_month,
        exp_year: body.exp_year,
        cvc: body.cvc,
    };
    let method = payments.add_method(&caller, card).await?;
    Ok((StatusCode::CREATED, Json(method.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodPage {
    items: Vec<PaymentMethodView>,
    next_cursor: Option<String>,
}

/// The caller's saved cards, newest first; the newest is the default.
#[utoipa::path(get, path = "/me/payment-methods", tag = "payments", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of saved cards", body = PaymentMethodPage),
        (status = 422, description = "A bad limit or cursor", body = Problem),
    ))]
pub async fn list(
    State(payments): State<Arc<Payments>>,
    Authenticated(caller): Authenticated,
    Query(query): Query<PageQuery>,
) -> Result<Json<PaymentMethodPage>, Problem> {
    let page = query.page()?;
    let page = payments.methods(&caller, page).await?;
    Ok(Json(PaymentMethodPage {
        items: page
            .items
            .into_iter()
            .map(PaymentMethodView::from)
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Remove a saved card.
#[utoipa::path(delete, path = "/me/payment-methods/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment method id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "Not the caller's card", body = Problem),
    ))]
pub async fn remove(
    State(payments): State<Arc<Payments>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    payments.remove_method(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
