use crate::app::{AddressChoice, ItemsSource, MerchantAction, Orders, PlaceOrder, Placed};
use crate::domain::{HistoryEntry, Item, Order, Status};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, FieldError, Json, Path, Problem, Query, Strict, Trace};
use ordo_kernel::Caller;
use ordo_kernel::trace::TraceContext;
use ordo_kernel::{Money, PostalAddress, Role};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    product_id: Uuid,
    #[schema(minimum = 1, maximum = 1000)]
    quantity: i64,
}

fn fulfilment() -> utoipa::openapi::schema::Object {
    ordo_kernel::schema::one_of(&["delivery", "shipping", "pickup"], false)
}

/// A checkout. Prices, totals and status come from the platform, never from the client.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    /// The items to order…
    #[schema(min_items = 1, max_items = 100)]
    items: Option<Vec<ItemRequest>>,
    /// …or `true` to order the cart's contents (which leave the cart once the order is paid).
    from_cart: Option<bool>,
    /// `delivery`, `shipping` or `pickup`.
    #[schema(schema_with = fulfilment)]
    fulfilment: String,
    /// One of the customer's saved addresses…
    address_id: Option<Uuid>,
    /// …or an address given here (not both); none for pickup.
    #[schema(value_type = Option<PostalAddress>)]
    address: Option<Strict<PostalAddress>>,
    payment_method_id: Option<Uuid>,
    /// Minor units, in the order's currency.
    #[schema(minimum = 0, maximum = 100000)]
    tip: Option<i64>,
    /// Up to 500 characters; line breaks and tabs are kept, other control characters refused.
    #[schema(schema_with = ordo_kernel::schema::optional_free_text::<500>)]
    notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    product_id: Uuid,
    name: String,
    quantity: i64,
    unit_price: Money,
    line_total: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    id: Uuid,
    status: String,
    customer_id: Uuid,
    merchant_id: Uuid,
    fulfilment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<PostalAddress>,
    payment_method_id: Option<Uuid>,
    lines: Vec<LineView>,
    subtotal: Money,
    tip: Money,
    total: Money,
    notes: Option<String>,
    /// The courier carrying a delivery order, once one took it.
    courier_id: Option<Uuid>,
    /// The parcel a shipping order went out as; follow it at `/shipments/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    shipment: Option<ShipmentView>,
    /// In the merchant's queue, a delivery order being prepared: whether a courier is
    /// coming, who, and how near (hand it over once they are there).
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery: Option<super::track::BoardDeliveryView>,
    /// While `payment_failed`: why the card was declined, in words for the customer.
    payment_failure: Option<String>,
    /// While `payment_failed`: until when another card may be tried
    /// (`POST /orders/{id}/payment`); then the order is cancelled.
    #[serde(with = "time::serde::rfc3339::option")]
    payment_retry_until: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        let money = |amount| Money {
            amount,
            currency: o.currency.clone(),
        };
        let declined = o.status == Status::PaymentFailed;
        OrderView {
            id: o.id,
            status: o.status.as_str().to_owned(),
            customer_id: o.customer_id,
            merchant_id: o.merchant_id,
            fulfilment: o.fulfilment.as_str().to_owned(),
            address: o.address.clone(),
            payment_method_id: o.payment_method_id,
            lines: o
                .lines
                .iter()
                .map(|l| LineView {
                    product_id: l.product_id,
                    name: l.name.clone(),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price),
                    line_total: money(l.unit_price * l.quantity),
                })
                .collect(),
            subtotal: money(o.subtotal),
            tip: money(o.tip),
            total: money(o.total),
            notes: o.notes.clone(),
            courier_id: o.courier_id,
            shipment: o.shipment.as_ref().map(|s| ShipmentView {
                id: s.id,
                carrier: s.carrier.clone(),
                tracking_number: s.tracking_number.clone(),
            }),
            delivery: None,
            payment_failure: o.payment.failure.clone().filter(|_| declined),
            payment_retry_until: o.payment.retry_until.filter(|_| declined),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    items: Vec<OrderView>,
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    status: String,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    id: Uuid,
    carrier: String,
    tracking_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    id: Uuid,
    from: Option<String>,
    to: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// `customer`, `merchant`, `courier`, `admin` or `system`.
    actor: String,
    actor_id: Option<Uuid>,
    cause: String,
}

impl From<HistoryEntry> for HistoryView {
    fn from(h: HistoryEntry) -> Self {
        HistoryView {
            id: h.id,
            from: h.from.map(|s| s.as_str().to_owned()),
            to: h.to.as_str().to_owned(),
            at: h.at,
            actor: h.actor,
            actor_id: h.actor_id,
            cause: h.cause,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOrders {
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, Problem> {
    let missing = || {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "idempotency-key-required",
            "Idempotency-Key required",
            "send an Idempotency-Key header (1-255 visible characters, e.g. a UUID) so the order can be retried safely",
        )
    };
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(missing());
    }
    Ok(key.to_owned())
}

fn hash(body: &PlaceOrderRequest) -> String {
    // The parsed request, serialised again: the same request however its JSON was spaced
    // or ordered.
    let canonical = serde_json::to_vec(body).unwrap_or_default();
    ring::digest::digest(&ring::digest::SHA256, &canonical)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn render(order: &Order) -> String {
    serde_json::to_string(&OrderView::from(order)).unwrap_or_default()
}

/// Place an order (customers). Requires `Idempotency-Key`; the same key and body return
/// the first answer with `Idempotent-Replayed: true`.
#[utoipa::path(post, path = "/orders", tag = "orders", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, pattern = r"^[!-~]{1,255}$",
        description = "Makes the request safe to retry: 1 to 255 visible ASCII characters, e.g. a UUID")),
    request_body = PlaceOrderRequest,
    responses(
        (status = 201, description = "The order, pending payment", body = OrderView),
        (status = 400, description = "No Idempotency-Key", body = Problem),
        (status = 403, description = "Not a customer", body = Problem),
        (status = 409, description = "Out of stock (the items are named), or the same key is still running", body = Problem),
        (status = 422, description = "Invalid request, or the key was used with another body", body = Problem),
    ))]
pub async fn place(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    headers: HeaderMap,
    Json(body): Json<PlaceOrderRequest>,
) -> Result<Response, Problem> {
    ordo_http::require(&caller, &[Role::Customer])?;
    let key = idempotency_key(&headers)?;
    let request_hash = hash(&body);
    let address = match (body.address_id, body.address) {
        (Some(_), Some(_)) => {
            return Err(Problem::validation(vec![FieldError::new(
                "address",
                "give address or address_id, not both",
            )]));
        }
        (Some(id), None) => AddressChoice::Saved(id),
        (None, Some(Strict(address))) => AddressChoice::Given(address),
        (None, None) => AddressChoice::None,
    };
    let items = match (body.items, body.from_cart.unwrap_or(false)) {
        (Some(items), false) => ItemsSource::Given(
            items
                .iter()
                .map(|i| Item {
                    product_id: i.product_id,
                    quantity: i.quantity,
                })
                .collect(),
        ),
        (None, true) => ItemsSource::Cart,
        (Some(_), true) => {
            return Err(Problem::validation(vec![FieldError::new(
                "items",
                "give items or from_cart, not both",
            )]));
        }
        (None, false) => {
            return Err(Problem::validation(vec![FieldError::new(
                "items",
                "give items, or from_cart: true",
            )]));
        }
    };
    let request = PlaceOrder {
        customer_id: caller.user_id,
        idempotency_key: key,
        request_hash,
        items,
        fulfilment: body.fulfilment,
        address,
        payment_method_id: body.payment_method_id,
        tip: body.tip,
        notes: body.notes,
        meta: EventMeta::from_trace(&trace),
    };
    match orders.place_order(request, render).await? {
        Placed::Created(order) => {
            let location = HeaderValue::from_str(&format!("/api/v1/orders/{}", order.id))
                .map_err(|e| Problem::internal(&e))?;
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(OrderView::from(order.as_ref())),
            )
                .into_response())
        }
        Placed::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let headers = [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::HeaderName::from_static(REPLAYED),
                    HeaderValue::from_static("true"),
                ),
            ];
            Ok((status, headers, body).into_response())
        }
    }
}

/// Orders, newest first: a customer's own, or everyone's for an administrator.
#[utoipa::path(get, path = "/orders", tag = "orders", security(("bearer" = [])),
    params(ListOrders),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 403, description = "Not a customer or administrator", body = Problem),
    ))]
pub async fn list(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Query(query): Query<ListOrders>,
) -> Result<Json<OrderPage>, Problem> {
    let page = ordo_http::page_request(query.limit, query.cursor.as_deref())?;
    let page = orders.orders(&caller, page).await?;
    Ok(Json(OrderPage {
        items: page.items.iter().map(OrderView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One order (its customer, its merchant's staff, administrators; anyone else gets 404).
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 404, description = "No such order, or not the caller's", body = Problem),
    ))]
pub async fn get(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, Problem> {
    Ok(Json(OrderView::from(&orders.order(&caller, id).await?)))
}

/// An order's status.
#[utoipa::path(get, path = "/orders/{id}/status", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The status", body = StatusView),
        (status = 404, description = "No such order, or not the caller's", body = Problem),
    ))]
pub async fn status(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<StatusView>, Problem> {
    let order = orders.order(&caller, id).await?;
    Ok(Json(StatusView {
        status: order.status.as_str().to_owned(),
        updated_at: order.updated_at,
    }))
}

/// Every transition of an order: from, to, when, who, why.
#[utoipa::path(get, path = "/orders/{id}/history", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The history, oldest first", body = [HistoryView]),
        (status = 404, description = "No such order, or not the caller's", body = Problem),
    ))]
pub async fn history(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<HistoryView>>, Problem> {
    Ok(Json(
        orders
            .history(&caller, id)
            .await?
            .into_iter()
            .map(HistoryView::from)
            .collect(),
    ))
}

/// Cancel an order: its customer until the merchant accepts, an administrator later.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The cancelled order", body = OrderView),
        (status = 403, description = "Merchants reject instead", body = Problem),
        (status = 404, description = "No such order, or not the caller's", body = Problem),
        (status = 409, description = "Too late to cancel", body = Problem),
    ))]
pub async fn cancel(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, Problem> {
    let meta = EventMeta::from_trace(&trace);
    Ok(Json(OrderView::from(
        &orders.cancel(&caller, id, &meta).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryPayment {
    /// One of the customer's saved cards.
    payment_method_id: Uuid,
}

/// Pay a declined order with another card (its customer, while it is `payment_failed`):
/// the order is pending payment again and the card is asked to authorise it; the stock
/// stays held until `payment_retry_until`. Follow the outcome on `/orders/{id}/track`.
#[utoipa::path(post, path = "/orders/{id}/payment", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = RetryPayment,
    responses(
        (status = 202, description = "The order, pending payment with the card chosen", body = OrderView),
        (status = 403, description = "Not the customer who placed it", body = Problem),
        (status = 404, description = "No such order, or not the caller's", body = Problem),
        (status = 409, description = "The order's payment was not declined (or is being tried again)", body = Problem),
        (status = 422, description = "Not one of the customer's cards", body = Problem),
    ))]
pub async fn retry_payment(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
    Json(body): Json<RetryPayment>,
) -> Result<(StatusCode, Json<OrderView>), Problem> {
    let meta = EventMeta::from_trace(&trace);
    let order = orders
        .retry_payment(&caller, id, body.payment_method_id, &meta)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(OrderView::from(&order))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Told to the customer; one line of 1 to 300 characters.
    #[schema(schema_with = ordo_kernel::schema::line::<300>)]
    reason: String,
}

fn status_name() -> utoipa::openapi::schema::Object {
    let names: Vec<&str> = crate::domain::Status::ALL
        .map(crate::domain::Status::as_str)
        .to_vec();
    ordo_kernel::schema::one_of(&names, false)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MerchantQueue {
    /// Only orders in this status, e.g. `paid` for the ones to accept.
    #[param(schema_with = status_name)]
    status: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A merchant's orders, newest first (its staff).
#[utoipa::path(get, path = "/merchants/{id}/orders", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Merchant id"), MerchantQueue),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "Not the caller's merchant", body = Problem),
        (status = 422, description = "Unknown status", body = Problem),
    ))]
pub async fn merchant_queue(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Path(merchant_id): Path<Uuid>,
    Query(query): Query<MerchantQueue>,
) -> Result<Json<OrderPage>, Problem> {
    let status = query
        .status
        .as_deref()
        .map(str::parse::<crate::domain::Status>)
        .transpose()
        .map_err(|e| Problem::validation(vec![FieldError::new("status", e)]))?;
    let page = ordo_http::page_request(query.limit, query.cursor.as_deref())?;
    let page = orders
        .merchant_orders(&caller, merchant_id, status, page)
        .await?;
    let items = page
        .items
        .into_iter()
        .map(|(order, delivery)| OrderView {
            delivery: delivery.map(Into::into),
            ..OrderView::from(&order)
        })
        .collect();
    Ok(Json(OrderPage {
        items,
        next_cursor: page.next_cursor,
    }))
}

async fn act(
    orders: &Orders,
    caller: &Caller,
    trace: &TraceContext,
    id: Uuid,
    action: MerchantAction,
) -> Result<Json<OrderView>, Problem> {
    let meta = EventMeta::from_trace(trace);
    Ok(Json(OrderView::from(
        &orders.merchant_action(caller, id, action, &meta).await?,
    )))
}

/// Accept a paid order (its merchant's staff).
#[utoipa::path(post, path = "/orders/{id}/accept", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "Not the caller's merchant's order", body = Problem),
        (status = 409, description = "Not in a status that allows it", body = Problem),
    ))]
pub async fn accept(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, Problem> {
    act(&orders, &caller, &trace, id, MerchantAction::Accept).await
}

/// Reject a paid order (its merchant's staff): stock released, payment voided.
#[utoipa::path(post, path = "/orders/{id}/reject", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = RejectRequest,
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "Not the caller's merchant's order", body = Problem),
        (status = 409, description = "Not in a status that allows it", body = Problem),
        (status = 422, description = "No reason, or one that is not a line of plain text", body = Problem),
    ))]
pub async fn reject(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
    Json(body): Json<RejectRequest>,
) -> Result<Json<OrderView>, Problem> {
    act(
        &orders,
        &caller,
        &trace,
        id,
        MerchantAction::Reject {
            reason: body.reason,
        },
    )
    .await
}

/// Mark an accepted order ready (its merchant's staff).
#[utoipa::path(post, path = "/orders/{id}/ready", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "Not the caller's merchant's order", body = Problem),
        (status = 409, description = "Not in a status that allows it", body = Problem),
    ))]
pub async fn ready(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, Problem> {
    act(&orders, &caller, &trace, id, MerchantAction::Ready).await
}

/// Hand a ready order over (its merchant's staff): collected by the customer (pickup, the
/// order completes and is charged) or to the courier (delivery).
#[utoipa::path(post, path = "/orders/{id}/picked-up", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "Not the caller's merchant's order", body = Problem),
        (status = 409, description = "Not in a status that allows it; or, with `Retry-After`, a delivery whose courier the order has not heard of yet (`courier-not-known-yet`)", body = Problem),
    ))]
pub async fn picked_up(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderView>, Problem> {
    act(&orders, &caller, &trace, id, MerchantAction::HandedOver).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipRequest {
    /// The parcel carrier, e.g. `DHL`: 1 to 60 characters.
    #[schema(schema_with = ordo_kernel::schema::line::<60>)]
    carrier: String,
    /// 1 to 40 letters, digits or hyphens.
    #[schema(pattern = "^[A-Za-z0-9-]{1,40}$")]
    tracking_number: String,
}

/// Hand an accepted shipping order to a parcel carrier (its merchant's staff): the order is
/// `shipped`, and its shipment is tracked at `/shipments/{id}` from the carrier's events.
#[utoipa::path(post, path = "/orders/{id}/ship", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = ShipRequest,
    responses(
        (status = 200, description = "The order, with its shipment", body = OrderView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "Not the caller's merchant's order", body = Problem),
        (status = 409, description = "Not accepted, or not a shipping order", body = Problem),
        (status = 422, description = "Invalid carrier or tracking number", body = Problem),
    ))]
pub async fn ship(
    State(orders): State<Arc<Orders>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
    Json(body): Json<ShipRequest>,
) -> Result<Json<OrderView>, Problem> {
    let action = MerchantAction::Ship {
        carrier: body.carrier,
        tracking_number: body.tracking_number,
    };
    act(&orders, &caller, &trace, id, action).await
}
