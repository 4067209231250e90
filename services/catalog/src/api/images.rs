use crate::app::Catalog;
use crate::domain::ImageType;
use crate::domain::picture::{MAX_UPLOAD_BYTES, Owner, Size};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use ordo_http::{Authenticated, Json, Path, Problem};
use ordo_kernel::Caller;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a picture is served. Its URLs change when the picture does.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImageView {
    /// The picture, JPEG, at most 800 px a side.
    url: String,
    /// A 160 px square cut from its middle, JPEG.
    thumb_url: String,
}

impl ImageView {
    #[must_use]
    pub fn of(id: Uuid) -> Self {
        ImageView {
            url: format!("/api/v1/images/{id}"),
            thumb_url: format!("/api/v1/images/{id}/thumb"),
        }
    }
}

/// The picture a merchant or a product shows now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageSet {
    image: ImageView,
}

/// A picture's bytes; served as JPEG.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PictureBytes(Vec<u8>);

impl IntoResponse for PictureBytes {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "image/jpeg")], self.0).into_response()
    }
}

/// Every URL names one picture that never changes: browsers keep it for a year and never
/// ask again.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

fn too_large() -> Problem {
    Problem::payload_too_large(format!(
        "This picture is larger than 5 MB. Send one of at most 5 MB ({MAX_UPLOAD_BYTES} bytes)."
    ))
}

/// The upload in a request: its declared type, then its bytes, refused as soon as its
/// `Content-Length` says it is too large (nothing of it read), or once more than the limit
/// has come.
async fn upload(request: Request) -> Result<(ImageType, Bytes), Problem> {
    let headers = request.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let declared = ImageType::from_media_type(content_type).ok_or_else(|| {
        Problem::unsupported_media_type(
            "Pictures are taken as JPEG, PNG or WebP: send the file as image/jpeg, image/png or \
             image/webp.",
        )
    })?;
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if length.is_some_and(|length| length > MAX_UPLOAD_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                Problem::malformed("the request body could not be read")
            }
        })?;
    Ok((declared, bytes))
}

async fn set(
    catalog: &Catalog,
    caller: &Caller,
    owner: Owner,
    id: Uuid,
    request: Request,
) -> Result<Json<ImageSet>, Problem> {
    let (declared, bytes) = upload(request).await?;
    let image = catalog
        .set_image(caller, owner, id, declared, bytes)
        .await?;
    Ok(Json(ImageSet {
        image: ImageView::of(image),
    }))
}

/// Set a product's picture (its merchant's staff): JPEG, PNG or WebP, at most 5 MB,
/// checked by its content and resized.
#[utoipa::path(put, path = "/products/{id}/image", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    request_body(description = "The picture, at most 5 MB (5 242 880 bytes)",
        content((PictureBytes = "image/jpeg"), (PictureBytes = "image/png"), (PictureBytes = "image/webp"))),
    responses(
        (status = 200, description = "The picture the product now shows", body = ImageSet),
        (status = 400, description = "The body could not be read", body = Problem),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "No such product, or not the caller's merchant's", body = Problem),
        (status = 413, description = "Larger than 5 MB", body = Problem),
        (status = 415, description = "Not sent as JPEG, PNG or WebP, or not the picture its type says", body = Problem),
        (status = 422, description = "The picture cannot be decoded, or is larger than 10 000 pixels a side or 50 megapixels", body = Problem),
    ))]
pub async fn put_product_image(
    State(catalog): State<Arc<Catalog>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Json<ImageSet>, Problem> {
    set(&catalog, &caller, Owner::Product, id, request).await
}

/// Set a merchant's picture (its staff): JPEG, PNG or WebP, at most 5 MB, checked by its
/// content and resized.
#[utoipa::path(put, path = "/merchants/{id}/image", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Merchant id")),
    request_body(description = "The picture, at most 5 MB (5 242 880 bytes)",
        content((PictureBytes = "image/jpeg"), (PictureBytes = "image/png"), (PictureBytes = "image/webp"))),
    responses(
        (status = 200, description = "The picture the merchant now shows", body = ImageSet),
        (status = 400, description = "The body could not be read", body = Problem),
        (status = 403, description = "Not a merchant account", body = Problem),
        (status = 404, description = "No such merchant, or not the caller's", body = Problem),
        (status = 413, description = "Larger than 5 MB", body = Problem),
        (status = 415, description = "Not sent as JPEG, PNG or WebP, or not the picture its type says", body = Problem),
        (status = 422, description = "The picture cannot be decoded, or is larger than 10 000 pixels a side or 50 megapixels", body = Problem),
    ))]
pub async fn put_merchant_image(
    State(catalog): State<Arc<Catalog>>,
    Authenticated(caller): Authenticated,
    Path(id): Path<Uuid>,
    request: Request,
) -> Result<Json<ImageSet>, Problem> {
    set(&catalog, &caller, Owner::Merchant, id, request).await
}

fn etag(id: Uuid, size: Size) -> String {
    let size = match size {
        Size::Full => "full",
        Size::Thumb => "thumb",
    };
    format!("\"{id}-{size}\"")
}

/// A picture, or 304 when the client holds it already: what a URL shows never changes. A
/// picture that is gone is 404 whatever the client holds.
async fn serve(
    catalog: &Catalog,
    id: Uuid,
    size: Size,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let etag = HeaderValue::from_str(&etag(id, size)).map_err(|e| Problem::internal(&e))?;
    let cache = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_FOREVER),
        ),
    ];
    let bytes = catalog.image(id, size).await?;
    if ordo_http::caching::holds(headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((cache, PictureBytes(bytes)).into_response())
}

/// A picture of a merchant or a product, JPEG, at most 800 px a side.
#[utoipa::path(get, path = "/images/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Image id, from a merchant's or a product's `image`"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy held")),
    responses(
        (status = 200, description = "The picture; cached for a year", content((PictureBytes = "image/jpeg")),
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "The copy held is the picture"),
        (status = 404, description = "No such picture (a replaced one is gone)", body = Problem),
    ))]
pub async fn image(
    State(catalog): State<Arc<Catalog>>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    serve(&catalog, id, Size::Full, &headers).await
}

/// A picture's thumbnail: a 160 px square, JPEG.
#[utoipa::path(get, path = "/images/{id}/thumb", tag = "catalog",
    params(("id" = Uuid, Path, description = "Image id, from a merchant's or a product's `image`"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of the copy held")),
    responses(
        (status = 200, description = "The thumbnail; cached for a year", content((PictureBytes = "image/jpeg")),
            headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "The copy held is the thumbnail"),
        (status = 404, description = "No such picture (a replaced one is gone)", body = Problem),
    ))]
pub async fn thumbnail(
    State(catalog): State<Arc<Catalog>>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    serve(&catalog, id, Size::Thumb, &headers).await
}
