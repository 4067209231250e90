use crate::app::Payments;
use crate::domain::CardDetails;
use crate::store::PaymentMethod;
use axum::extract::State;
use axum::http::StatusCode;
use ordo_http::{Caller, Json, Path, Problem};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A card as typed. Only the provider sees the number and CVC.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCard {
    number: String,
    exp_month: i64,
    exp_year: i64,
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
}

impl From<PaymentMethod> for PaymentMethodView {
    fn from(m: PaymentMethod) -> Self {
        PaymentMethodView {
            id: m.id,
            brand: m.brand,
            last4: m.last4,
            exp_month: m.exp_month,
            exp_year: m.exp_year,
            created_at: m.created_at,
        }
    }
}

/// Save a card (customers). The provider tokenises it; the number and CVC are not kept.
#[utoipa::path(post, path = "/me/payment-methods", tag = "payments", security(("bearer" = [])),
    request_body = AddCard,
    responses(
        (status = 201, description = "The saved card", body = PaymentMethodView),
        (status = 403, description = "Not a customer", body = Problem),
        (status = 422, description = "Invalid card details", body = Problem),
    ))]
pub async fn add(
    State(payments): State<Arc<Payments>>,
    caller: Caller,
    Json(body): Json<AddCard>,
) -> Result<(StatusCode, Json<PaymentMethodView>), Problem> {
    let card = CardDetails {
        number: body.number,
        exp_month: body.exp_month,
        exp_year: body.exp_year,
        cvc: body.cvc,
    };
    let method = payments.add_method(&caller, card).await?;
    Ok((StatusCode::CREATED, Json(method.into())))
}

/// The caller's saved cards, newest first.
#[utoipa::path(get, path = "/me/payment-methods", tag = "payments", security(("bearer" = [])),
    responses((status = 200, description = "The saved cards", body = [PaymentMethodView])))]
pub async fn list(
    State(payments): State<Arc<Payments>>,
    caller: Caller,
) -> Result<Json<Vec<PaymentMethodView>>, Problem> {
    Ok(Json(
        payments
            .methods(&caller)
            .await?
            .into_iter()
            .map(PaymentMethodView::from)
            .collect(),
    ))
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
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    payments.remove_method(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
