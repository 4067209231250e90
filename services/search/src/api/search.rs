use crate::app::Search;
use crate::domain::{self, PRICE_BANDS, Query as Asked, QueryParams};
use crate::store::index::{Found, Results};
use axum::extract::State;
use ordo_http::{Json, Problem, Query};
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words looked for in names, categories, tags and descriptions, typos forgiven; at most
    /// 200 characters and 8 words. Without it, everything the filters let through.
    #[param(max_length = 200)]
    q: Option<String>,
    /// `restaurant` or `shop`.
    #[param(pattern = r"^\s*(restaurant|shop)?\s*$")]
    kind: Option<String>,
    /// Products of this category (any case).
    #[param(max_length = 100)]
    category: Option<String>,
    /// Only this merchant and its products.
    merchant: Option<Uuid>,
    /// Comma-separated; products with all of them.
    tags: Option<String>,
    /// Products from this price, in minor units.
    #[param(minimum = 0, maximum = 1_000_000_000)]
    min_price: Option<i64>,
    /// Products up to this price, in minor units.
    #[param(minimum = 0, maximum = 1_000_000_000)]
    max_price: Option<i64>,
    /// The same as `max_price`.
    #[param(minimum = 0, maximum = 1_000_000_000)]
    price_max: Option<i64>,
    /// `LAT,LON`: distances from there, and with `radius_km` only what is within it.
    #[param(pattern = r"^\s*[-+]?\d{1,2}(\.\d+)?\s*,\s*[-+]?\d{1,3}(\.\d+)?\s*$")]
    near: Option<String>,
    /// Kilometres, more than 0 and at most 100; only with `near`.
    #[param(exclusive_minimum = 0, maximum = 100)]
    radius_km: Option<f64>,
    /// Only merchants open now, and their products.
    open_now: Option<bool>,
    /// `relevance` (the default), `distance` (needs `near`) or `rating`.
    #[param(pattern = r"^\s*(relevance|distance|rating)?\s*$")]
    sort: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page; results are paged to the 1 000th.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    /// Mean of the published ratings; 0 when there are none.
    average: f64,
    count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MerchantHit {
    id: Uuid,
    name: String,
    /// `restaurant` or `shop`.
    kind: String,
    address: String,
    lat: f64,
    lon: f64,
    rating: RatingView,
    open_now: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductHit {
    id: Uuid,
    name: String,
    description: String,
    category: String,
    price: Money,
    tags: Vec<String>,
    /// False when none is available: it can be seen but not ordered.
    in_stock: bool,
}

/// Where the words matched: the field's text, HTML-escaped, with matches in `<mark>`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Highlights {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Hit {
    /// `product` or `merchant`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// How well it matched; only comparable within one search.
    score: f32,
    /// From `near`, when asked.
    distance_km: Option<f64>,
    merchant: MerchantHit,
    /// The product, for a product hit.
    product: Option<ProductHit>,
    highlights: Highlights,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetValue {
    value: String,
    count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceFacet {
    /// e.g. `10 to 20`, in major units.
    value: &'static str,
    /// Minor units, inclusive: pass as `min_price` to narrow to the band.
    min_price: i64,
    /// Minor units, inclusive; none for the top band.
    max_price: Option<i64>,
    count: u64,
}

/// Counts of all the matches (not only this page) by value.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacetsView {
    /// The merchant's kind.
    kind: Vec<FacetValue>,
    /// Products' categories, most frequent first.
    category: Vec<FacetValue>,
    /// Products' prices by band.
    price: Vec<PriceFacet>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    hits: Vec<Hit>,
    facets: FacetsView,
    /// How many matched in all.
    total: u64,
    next_cursor: Option<String>,
}

fn hit(found: Found, words: &[String], now: time::OffsetDateTime) -> Hit {
    let merchant = found.stored.merchant;
    let (kind, highlights, product) = match found.stored.product {
        Some(product) => (
            "product",
            Highlights {
                name: domain::highlight(&product.name, words),
                description: domain::highlight(&product.description, words),
            },
            Some(ProductHit {
                id: product.id,
                name: product.name,
                description: product.description,
                category: product.category,
                price: product.price,
                tags: product.tags,
                in_stock: product.in_stock,
            }),
        ),
        None => (
            "merchant",
            Highlights {
                name: domain::highlight(&merchant.name, words),
                description: None,
            },
            None,
        ),
    };
    Hit {
        kind,
        score: found.score,
        distance_km: found.distance_km,
        merchant: MerchantHit {
            open_now: domain::open_at(&merchant.opening_hours, now),
            id: merchant.id,
            name: merchant.name,
            kind: merchant.kind,
            address: merchant.address,
            lat: merchant.lat,
            lon: merchant.lon,
            rating: RatingView {
                average: merchant.rating,
                count: merchant.rating_count,
            },
        },
        product,
        highlights,
    }
}

fn page(results: Results, asked: &Asked, now: time::OffsetDateTime) -> SearchPage {
    let shown = asked.offset + results.hits.len();
    let more = u64::try_from(shown).is_ok_and(|shown| shown < results.total)
        && shown <= domain::MAX_OFFSET;
    let values = |counts: Vec<(String, u64)>| {
        counts
            .into_iter()
            .map(|(value, count)| FacetValue { value, count })
            .collect()
    };
    SearchPage {
        facets: FacetsView {
            kind: values(results.facets.kind),
            category: values(results.facets.category),
            price: PRICE_BANDS
                .iter()
                .zip(results.facets.price)
                .map(|(band, count)| PriceFacet {
                    value: band.label,
                    min_price: band.min,
                    max_price: band.max,
                    count,
                })
                .collect(),
        },
        total: results.total,
        next_cursor: more.then(|| domain::encode_cursor(shown)),
        hits: results
            .hits
            .into_iter()
            .map(|found| hit(found, &results.words, now))
            .collect(),
    }
}

/// Search merchants and their products: words with typos forgiven, filters, facets,
/// distance and opening hours.
#[utoipa::path(get, path = "/search", tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of matches, their total and facets", body = SearchPage),
        (status = 422, description = "A parameter out of its limits", body = Problem),
    ))]
pub async fn search(
    State(search): State<Arc<Search>>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<SearchPage>, Problem> {
    let merchant = query.merchant.map(|m| m.to_string());
    let asked = Asked::parse(&QueryParams {
        q: query.q.as_deref(),
        kind: query.kind.as_deref(),
        category: query.category.as_deref(),
        merchant: merchant.as_deref(),
        tags: query.tags.as_deref(),
        min_price: query.min_price,
        max_price: query.max_price.or(query.price_max),
        near: query.near.as_deref(),
        radius_km: query.radius_km,
        open_now: query.open_now,
        sort: query.sort.as_deref(),
        limit: query.limit,
        cursor: query.cursor.as_deref(),
    })
    .map_err(crate::AppError::from)?;
    let now = ordo_kernel::time::now();
    let results = search.search(&asked, now)?;
    Ok(Json(page(results, &asked, now)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What has been typed so far; its last word may be unfinished. At most 200 characters.
    #[param(max_length = 200)]
    q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    /// A product's or merchant's name.
    text: String,
    /// `product` or `merchant`.
    #[serde(rename = "type")]
    kind: &'static str,
    id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// At most 10, best first.
    suggestions: Vec<SuggestionView>,
}

/// Names that complete what is being typed, for a search box.
#[utoipa::path(get, path = "/search/suggest", tag = "search",
    params(SuggestQuery),
    responses(
        (status = 200, description = "Completions, best first", body = Suggestions),
        (status = 422, description = "Too long", body = Problem),
    ))]
pub async fn suggest(
    State(search): State<Arc<Search>>,
    Query(query): Query<SuggestQuery>,
) -> Result<Json<Suggestions>, Problem> {
    let found = search.suggest(query.q.as_deref().unwrap_or(""))?;
    Ok(Json(Suggestions {
        suggestions: found
            .into_iter()
            .map(|s| SuggestionView {
                text: s.text,
                kind: s.kind,
                id: s.id,
            })
            .collect(),
    }))
}
