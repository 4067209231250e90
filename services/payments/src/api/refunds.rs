use crate::app::{Payments, Refund};
use crate::domain::RefundStatus;
use axum::extract::State;
use axum::http::StatusCode;
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
#[utoipa::path(post, path = "/admin/orders/{id}/refund", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = RefundRequest,
    responses(
        (status = 201, description = "The refund, made", body = RefundView),
        (status = 202, description = "The refund, reserved; the provider could not be reached and is asked again", body = RefundView),
        (status = 403, description = "Not an administrator", body = Problem),
        (status = 404, description = "No payment for this order", body = Problem),
        (status = 409, description = "Not charged (yet), or refunded in full already", body = Problem),
        (status = 422, description = "More than is left of the charge", body = Problem),
    ))]
pub async fn refund(
    State(payments): State<Arc<Payments>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
    Json(body): Json<RefundRequest>,
) -> Result<(StatusCode, Json<RefundView>), Problem> {
    let refund = payments
        .refund(&caller, id, body.amount, &EventMeta::from_trace(&trace))
        .await?;
    let status = match refund.status {
        RefundStatus::Succeeded => StatusCode::CREATED,
        RefundStatus::Pending => StatusCode::ACCEPTED,
    };
    Ok((status, Json(refund.into())))
}
