use crate::app::{Payments, Refund, RefundOutcome};
use crate::domain::RefundStatus;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, Path, Problem, Trace};
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Minor units; everything not yet refunded when absent.
    #[schema(minimum = 1, maximum = 1000000000)]
    amount: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    id: Uuid,
    amount: Money,
    /// Refunded so far, this refund included.
    refunded_total: i64,
    /// `succeeded`, or `pending` while the provider cannot be reached: the amount is
    /// reserved and the provider is asked again until it confirms.
    status: &'static str,
}

/// An authorisation released instead of a refund: nothing was charged on an ended order.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoidView {
    payment_id: Uuid,
    /// The amount that was held and is released.
    amount: Money,
    /// Always `voided`.
    status: &'static str,
}

impl From<Refund> for RefundView {
    fn from(r: Refund) -> Self {
        RefundView {
            id: r.id,
            amount: r.amount,
            refunded_total: r.refunded_total,
            status: match r.status {
                RefundStatus::Pending => "pending",
                RefundStatus::Succeeded => "succeeded",
            },
        }
    }
}

/// Refund a charged order, fully or in part (administrators). Refunds never exceed the charge.
/// On an order that ended with nothing charged, an authorisation still standing is
/// released instead (200).
#[utoipa::path(post, path = "/admin/orders/{id}/refund", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = RefundRequest,
    responses(
        (status = 200, description = "Nothing was charged on this ended order: its standing authorisation was voided", body = VoidView),
        (status = 201, description = "The refund, made", body = RefundView),
        (status = 202, description = "The refund, reserved; the provider could not be reached and is asked again", body = RefundView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No payment for this order", body = Problem),
        (status = 409, description = "Nothing charged and the order under way, or refunded in full already", body = Problem),
        (status = 422, description = "An amount out of range, past what is left of the charge, or part of an authorisation to void", body = Problem),
    ))]
pub async fn refund(
    State(payments): State<Arc<Payments>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
    Json(body): Json<RefundRequest>,
) -> Result<Response, Problem> {
    let outcome = payments
        .refund(&caller, id, body.amount, &EventMeta::from_trace(&trace))
        .await?;
    Ok(match outcome {
        RefundOutcome::Refunded(refund) => {
            let status = match refund.status {
                RefundStatus::Succeeded => StatusCode::CREATED,
                RefundStatus::Pending => StatusCode::ACCEPTED,
            };
            (status, Json(RefundView::from(refund))).into_response()
        }
        RefundOutcome::Voided { payment_id, amount } => Json(VoidView {
            payment_id,
            amount,
            status: "voided",
        })
        .into_response(),
    })
}
