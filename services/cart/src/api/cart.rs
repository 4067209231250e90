use crate::app::{Cart, PricedCart, PricedItem};
use axum::extract::State;
use axum::http::StatusCode;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, Path, Problem, Trace};
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct CartItemView {
    product_id: Uuid,
    quantity: i64,
    /// The catalogue's name now; absent when the product is gone.
    name: Option<String>,
    merchant_id: Option<Uuid>,
    /// The catalogue's price now.
    unit_price: Option<Money>,
    line_total: Option<Money>,
    /// Whether it can be ordered now.
    available: bool,
}

impl From<PricedItem> for CartItemView {
    fn from(item: PricedItem) -> Self {
        let product = item.product;
        CartItemView {
            product_id: item.product_id,
            quantity: item.quantity,
            name: product.as_ref().map(|p| p.name.clone()),
            merchant_id: product.as_ref().map(|p| p.merchant_id),
            line_total: product.as_ref().map(|p| Money {
                amount: p.price.amount * item.quantity,
                currency: p.price.currency.clone(),
            }),
            available: product.as_ref().is_some_and(|p| p.active),
            unit_price: product.map(|p| p.price),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartView {
    items: Vec<CartItemView>,
    /// One per currency, of the available lines.
    subtotals: Vec<Money>,
    /// The merchants of the available lines: an order takes one.
    merchants: Vec<Uuid>,
}

impl From<PricedCart> for CartView {
    fn from(cart: PricedCart) -> Self {
        CartView {
            items: cart.items.into_iter().map(CartItemView::from).collect(),
            subtotals: cart.subtotals,
            merchants: cart.merchants,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    product_id: Uuid,
    /// Added to what is in the cart already; 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuantity {
    #[schema(minimum = 1, maximum = 1000)]
    quantity: i64,
}

/// The caller's cart, priced from the catalogue now (customers).
#[utoipa::path(get, path = "/cart", tag = "cart", security(("bearer" = [])),
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 403, description = "Not a customer", body = Problem),
    ))]
pub async fn get(
    State(cart): State<Arc<Cart>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<CartView>, Problem> {
    Ok(Json(cart.cart(&caller).await?.into()))
}

/// Empty the cart.
#[utoipa::path(delete, path = "/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 204, description = "Emptied"), (status = 403, description = "Not a customer", body = Problem)))]
pub async fn clear(
    State(cart): State<Arc<Cart>>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, Problem> {
    cart.clear(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a product to the cart. A cart holds one merchant's products: another merchant's is
/// refused (409) until the cart is emptied.
#[utoipa::path(post, path = "/cart/items", tag = "cart", security(("bearer" = [])),
    request_body = AddItem,
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 403, description = "Not a customer", body = Problem),
        (status = 409, description = "Too many lines or units, or the cart holds another merchant's products (`cart-other-merchant`, naming it in `detail` and `merchant_id`): one merchant per order", body = Problem),
        (status = 422, description = "Bad quantity, or no such product", body = Problem),
    ))]
pub async fn add(
    State(cart): State<Arc<Cart>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Json(body): Json<AddItem>,
) -> Result<Json<CartView>, Problem> {
    let meta = EventMeta::from_trace(&trace);
    cart.add(&caller, body.product_id, body.quantity, &meta)
        .await?;
    Ok(Json(cart.cart(&caller).await?.into()))
}

/// Change a line's quantity.
#[utoipa::path(patch, path = "/cart/items/{product_id}", tag = "cart", security(("bearer" = [])),
    params(("product_id" = Uuid, Path, description = "Product id")),
    request_body = SetQuantity,
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 403, description = "Not a customer", body = Problem),
        (status = 404, description = "Not in the cart", body = Problem),
        (status = 422, description = "Bad quantity", body = Problem),
    ))]
pub async fn set(
    State(cart): State<Arc<Cart>>,
    Authenticated(caller): Authenticated,
    Path(product_id): Path<Uuid>,
    Json(body): Json<SetQuantity>,
) -> Result<Json<CartView>, Problem> {
    cart.set(&caller, product_id, body.quantity).await?;
    Ok(Json(cart.cart(&caller).await?.into()))
}

/// Remove a line.
#[utoipa::path(delete, path = "/cart/items/{product_id}", tag = "cart", security(("bearer" = [])),
    params(("product_id" = Uuid, Path, description = "Product id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not a customer", body = Problem),
        (status = 404, description = "Not in the cart", body = Problem),
    ))]
pub async fn remove(
    State(cart): State<Arc<Cart>>,
    Authenticated(caller): Authenticated,
    Path(product_id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    cart.remove(&caller, product_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
