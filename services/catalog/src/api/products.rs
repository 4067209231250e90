use super::images::ImageView;
use crate::app::Catalog;
use crate::domain::{NewProduct, Product, ProductChange};
use axum::extract::State;
use axum::http::StatusCode;
use ordo_bus::EventMeta;
use ordo_http::{Authenticated, Json, Path, Problem, Query, Trace};
use ordo_kernel::Money;
use ordo_kernel::patch::nullable;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    id: Uuid,
    merchant_id: Uuid,
    name: String,
    description: String,
    category: String,
    price: Money,
    sku: Option<String>,
    tags: Vec<String>,
    /// Whether it can be ordered now.
    active: bool,
    /// Its picture (`PUT /products/{id}/image`), or null.
    image: Option<ImageView>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

impl From<Product> for ProductView {
    fn from(p: Product) -> Self {
        ProductView {
            id: p.id,
            merchant_id: p.merchant_id,
            name: p.name,
            description: p.description,
            category: p.category,
            price: p.price,
            sku: p.sku,
            tags: p.tags,
            active: p.active,
            image: p.image.map(ImageView::of),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    items: Vec<ProductView>,
    next_cursor: Option<String>,
}

/// Up to 20 tags of 1 to 30 characters each.
fn tags() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(ordo_kernel::schema::line::<30>())
        .max_items(Some(20))
        .build()
}

fn optional_tags() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::from(tags())
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::Array,
            utoipa::openapi::schema::Type::Null,
        ]))
        .build()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    #[schema(schema_with = ordo_kernel::schema::line::<120>)]
    name: String,
    /// Up to 2000 characters; line breaks and tabs are kept, other control characters
    /// refused.
    #[serde(default)]
    #[schema(schema_with = ordo_kernel::schema::free_text::<2000>)]
    description: String,
    #[schema(schema_with = ordo_kernel::schema::line::<60>)]
    category: String,
    price: Money,
    #[schema(pattern = r"^\s*[A-Za-z0-9._-]{1,64}\s*$")]
    sku: Option<String>,
    #[serde(default)]
    #[schema(schema_with = tags)]
    tags: Vec<String>,
    /// Default true.
    active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchProduct {
    #[schema(schema_with = ordo_kernel::schema::optional_line::<120>)]
    name: Option<String>,
    /// Up to 2000 characters; line breaks and tabs are kept.
    #[schema(schema_with = ordo_kernel::schema::optional_free_text::<2000>)]
    description: Option<String>,
    #[schema(schema_with = ordo_kernel::schema::optional_line::<60>)]
    category: Option<String>,
    price: Option<Money>,
    /// `null` removes the SKU.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = r"^\s*[A-Za-z0-9._-]{1,64}\s*$")]
    sku: Option<Option<String>>,
    #[schema(schema_with = optional_tags)]
    tags: Option<Vec<String>>,
    active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListProducts {
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Add a product to a merchant (its staff).
#[utoipa::path(post, path = "/merchants/{id}/products", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Merchant id")),
    request_body = CreateProduct,
    responses(
        (status = 201, description = "The product", body = ProductView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "No such merchant, or not the caller's", body = Problem),
        (status = 409, description = "The SKU is taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn create(
    State(catalog): State<Arc<Catalog>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(merchant_id): Path<Uuid>,
    Json(body): Json<CreateProduct>,
) -> Result<(StatusCode, Json<ProductView>), Problem> {
    let new = NewProduct {
        name: body.name,
        description: body.description,
        category: body.category,
        price: body.price,
        sku: body.sku,
        tags: body.tags,
        active: body.active.unwrap_or(true),
    };
    let product = catalog
        .create_product(&caller, merchant_id, new, &EventMeta::from_trace(&trace))
        .await?;
    Ok((StatusCode::CREATED, Json(product.into())))
}

/// A merchant's products, newest first: active ones, or all for its staff.
#[utoipa::path(get, path = "/merchants/{id}/products", tag = "catalog",
    params(("id" = Uuid, Path, description = "Merchant id"), ListProducts),
    responses(
        (status = 200, description = "A page of products", body = ProductPage),
        (status = 404, description = "No such merchant", body = Problem),
    ))]
pub async fn list(
    State(catalog): State<Arc<Catalog>>,
    caller: Option<Authenticated>,
    Path(merchant_id): Path<Uuid>,
    Query(query): Query<ListProducts>,
) -> Result<Json<ProductPage>, Problem> {
    let page = super::page(query.limit, query.cursor.as_deref())?;
    let products = catalog
        .products(caller.as_ref().map(|c| &c.0), merchant_id, page)
        .await?;
    Ok(Json(ProductPage {
        items: products.items.into_iter().map(ProductView::from).collect(),
        next_cursor: products.next_cursor,
    }))
}

/// One product.
#[utoipa::path(get, path = "/products/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 404, description = "No such product", body = Problem),
    ))]
pub async fn get(
    State(catalog): State<Arc<Catalog>>,
    Path(id): Path<Uuid>,
) -> Result<Json<ProductView>, Problem> {
    Ok(Json(catalog.product(id).await?.into()))
}

/// Change a product (its merchant's staff).
#[utoipa::path(patch, path = "/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    request_body = PatchProduct,
    responses(
        (status = 200, description = "The product", body = ProductView),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "No such product, or not the caller's merchant's", body = Problem),
        (status = 409, description = "The SKU is taken", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn patch(
    State(catalog): State<Arc<Catalog>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
    Json(body): Json<PatchProduct>,
) -> Result<Json<ProductView>, Problem> {
    let change = ProductChange {
        name: body.name,
        description: body.description,
        category: body.category,
        price: body.price,
        sku: body.sku,
        tags: body.tags,
        active: body.active,
    };
    Ok(Json(
        catalog
            .update_product(&caller, id, change, &EventMeta::from_trace(&trace))
            .await?
            .into(),
    ))
}

/// Delete a product (its merchant's staff). Orders keep their copy of it.
#[utoipa::path(delete, path = "/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "No such product, or not the caller's merchant's", body = Problem),
    ))]
pub async fn delete(
    State(catalog): State<Arc<Catalog>>,
    Authenticated(caller): Authenticated,
    Trace(trace): Trace,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    catalog
        .delete_product(&caller, id, &EventMeta::from_trace(&trace))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    name: String,
    /// Active products in it.
    products: i64,
}

/// A merchant's categories (its menu's sections), with their active products' counts.
#[utoipa::path(get, path = "/merchants/{id}/categories", tag = "catalog",
    params(("id" = Uuid, Path, description = "Merchant id")),
    responses(
        (status = 200, description = "The categories, by name", body = [CategoryView]),
        (status = 404, description = "No such merchant", body = Problem),
    ))]
pub async fn categories(
    State(catalog): State<Arc<Catalog>>,
    Path(merchant_id): Path<Uuid>,
) -> Result<Json<Vec<CategoryView>>, Problem> {
    let categories = catalog.categories(merchant_id).await?;
    Ok(Json(
        categories
            .into_iter()
            .map(|(name, products)| CategoryView { name, products })
            .collect(),
    ))
}
