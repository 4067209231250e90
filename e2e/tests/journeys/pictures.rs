//! Pictures of merchants and products: set by their staff, taken for what their content is,
//! resized, kept in the catalogue's database and served under URLs that never change what
//! they show.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use ordo_e2e::{Session, TestApp, json_of, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Cursor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MAX_UPLOAD: usize = 5 * 1024 * 1024;

fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// A JPEG of exactly `size` bytes: a picture, then bytes after its end that decoders skip.
fn jpeg_of_size(size: usize) -> Vec<u8> {
    let mut bytes = encoded(64, 48, ImageFormat::Jpeg);
    bytes.resize(size, 0);
    bytes
}

async fn upload(
    app: &TestApp,
    who: &Session,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.as_user(who, Method::PUT, path)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Sets a picture that is taken: the `image` answered.
async fn accepted(
    app: &TestApp,
    who: &Session,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Value {
    let response = upload(app, who, path, content_type, body).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json::<Value>().await.unwrap()["image"].clone()
}

/// The sizes of a picture as served: full, then thumbnail.
async fn sizes(app: &TestApp, image: &Value) -> ((u32, u32), (u32, u32)) {
    let (_, full) = fetched(app, image["url"].as_str().unwrap()).await;
    let (_, thumb) = fetched(app, image["thumb_url"].as_str().unwrap()).await;
    (
        (full.width(), full.height()),
        (thumb.width(), thumb.height()),
    )
}

/// The picture at `url`, with its response's headers: what a browser gets.
async fn fetched(app: &TestApp, url: &str) -> (reqwest::header::HeaderMap, DynamicImage) {
    let response = app.client.get(app.url(url)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::Jpeg);
    (headers, image::load_from_memory(&bytes).unwrap())
}

/// Sends a request head, and `body` from another task (a server that answers early stops
/// reading it, and the writer's failure is no matter), then reads the whole answer: the
/// status and the body. For what a client library would report as a reset.
async fn raw(app: &TestApp, head: String, body: Vec<u8>) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let sending = tokio::spawn(async move {
        for chunk in body.chunks(64 * 1024) {
            if writer.write_all(chunk).await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    // A reset after the answer has come ends the reading as well as the end of the stream.
    let _ = reader.read_to_end(&mut answer).await;
    sending.abort();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A chunked body: no length told beforehand, so the server finds it too large as it reads.
fn chunked(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 1024);
    for chunk in bytes.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

async fn pictures_are_checked_resized_and_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.signup("merchant").await;
    let rival = app.signup("merchant").await;
    let customer = app.signup("customer").await;
    let merchant: Value = json_of(
        app.as_user(&owner, Method::POST, "/merchants")
            .json(&json!({
                "name": "Bäckerei Bild", "kind": "shop", "address": "Torstraße 1, 10119 Berlin",
                "lat": 52.53, "lon": 13.40
            })),
    )
    .await;
    assert!(merchant["image"].is_null(), "no picture yet: {merchant}");
    let merchant_id = merchant["id"].as_str().unwrap().to_owned();
    let product: Value = json_of(
        app.as_user(&owner, Method::POST, &format!("/merchants/{merchant_id}/products"))
            .json(&json!({"name": "Rye bread", "category": "Bread", "price": {"amount": 420, "currency": "EUR"}})),
    )
    .await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    let product_image = format!("/products/{product_id}/image");
    let merchant_image = format!("/merchants/{merchant_id}/image");

    // A PNG larger than the full size: fitted into 800 px, and a 160 px square thumbnail.
    let image = accepted(
        &app,
        &owner,
        &product_image,
        "image/png",
        encoded(1200, 900, ImageFormat::Png),
    )
    .await;
    let url = image["url"].as_str().unwrap().to_owned();
    let thumb_url = image["thumb_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/api/v1/images/"), "{url}");
    assert_eq!(sizes(&app, &image).await, ((800, 600), (160, 160)));
    let (headers, _) = fetched(&app, &url).await;
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // The product carries it, alone and in its merchant's menu.
    let shown: Value = json_of(app.api(Method::GET, &format!("/products/{product_id}"))).await;
    assert_eq!(shown["image"], image);
    let menu: Value =
        json_of(app.api(Method::GET, &format!("/merchants/{merchant_id}/products"))).await;
    assert_eq!(menu["items"][0]["image"], image);

    // A JPEG smaller than the full size, for the merchant: kept at its size.
    let logo = accepted(
        &app,
        &owner,
        &merchant_image,
        "image/jpeg",
        encoded(300, 200, ImageFormat::Jpeg),
    )
    .await;
    assert_eq!(sizes(&app, &logo).await, ((300, 200), (160, 160)));
    let shown: Value = json_of(app.api(Method::GET, &format!("/merchants/{merchant_id}"))).await;
    assert_eq!(shown["image"], logo);

    // The copy a client holds is not sent again.
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url(&url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());
    let any = app
        .client
        .get(app.url(&url))
        .header("if-none-match", "*")
        .send()
        .await
        .unwrap();
    assert_eq!(any.status(), StatusCode::NOT_MODIFIED);
    let other = app
        .client
        .get(app.url(&thumb_url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "the thumbnail is another picture"
    );

    // A new picture has a new URL; the old one is gone, and only pictures shown are kept.
    let replaced = accepted(
        &app,
        &owner,
        &product_image,
        "image/png",
        encoded(500, 500, ImageFormat::Png),
    )
    .await;
    assert_ne!(replaced["url"], url.as_str());
    let gone = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    problem(gone).await;
    assert_eq!(app.count("catalog", "images").await, 2);

    // Refused, and nothing changed.
    let text = b"Roggenbrot, 750 g, frisch aus dem Ofen".to_vec();
    let whole = encoded(64, 64, ImageFormat::Png);
    let cases: [(&str, Vec<u8>, u16, &str); 5] = [
        ("image/png", text.clone(), 415, "not a PNG picture"),
        (
            "text/plain",
            text,
            415,
            "image/jpeg, image/png or image/webp",
        ),
        (
            "image/png",
            encoded(40, 40, ImageFormat::Jpeg),
            415,
            "image/jpeg, not image/png",
        ),
        (
            "image/webp",
            whole[..whole.len() / 2].to_vec(),
            415,
            "image/png, not image/webp",
        ),
        (
            "image/png",
            whole[..whole.len() / 2].to_vec(),
            422,
            "cannot be read",
        ),
    ];
    for (content_type, body, status, words) in cases {
        let response = upload(&app, &owner, &product_image, content_type, body).await;
        assert_eq!(response.status().as_u16(), status, "{content_type} {words}");
        let refusal = problem(response).await;
        let detail = refusal["detail"].as_str().unwrap();
        assert!(detail.contains(words), "{detail}");
    }
    let shown: Value = json_of(app.api(Method::GET, &format!("/products/{product_id}"))).await;
    assert_eq!(shown["image"], replaced, "nothing changed");
    assert_eq!(app.count("catalog", "images").await, 2, "nothing written");

    // Exactly the limit is taken.
    accepted(
        &app,
        &owner,
        &product_image,
        "image/jpeg",
        jpeg_of_size(MAX_UPLOAD),
    )
    .await;

    // One byte over is refused from its Content-Length alone, before any of it is sent; and
    // without a length, once the limit has been read.
    let head = |extra: &str| {
        format!(
            "PUT /api/v1{product_image} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {}\r\n\
             content-type: image/jpeg\r\nconnection: close\r\n{extra}\r\n",
            app.address, owner.access_token
        )
    };
    let (status, body) = raw(
        &app,
        head(&format!("content-length: {}\r\n", MAX_UPLOAD + 1)),
        Vec::new(),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("larger than 5 MB"), "{body}");
    let (status, body) = raw(
        &app,
        head("transfer-encoding: chunked\r\n"),
        chunked(&jpeg_of_size(MAX_UPLOAD + 1)),
    )
    .await;
    assert_eq!(status, 413, "{body}");

    // Only the staff set pictures: another merchant's do not see it, a customer may not.
    let picture = encoded(32, 32, ImageFormat::Png);
    for (who, path, status) in [
        (&rival, &product_image, StatusCode::NOT_FOUND),
        (&rival, &merchant_image, StatusCode::NOT_FOUND),
        (&customer, &product_image, StatusCode::FORBIDDEN),
        (&customer, &merchant_image, StatusCode::FORBIDDEN),
    ] {
        let response = upload(&app, who, path, "image/png", picture.clone()).await;
        assert_eq!(response.status(), status, "{path}");
        problem(response).await;
    }
    let anonymous = app
        .api(Method::PUT, &product_image)
        .header("content-type", "image/png")
        .body(picture.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let absent = uuid::Uuid::now_v7();
    for path in [
        format!("/products/{absent}/image"),
        format!("/merchants/{absent}/image"),
    ] {
        let response = upload(&app, &owner, &path, "image/png", picture.clone()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        format!("/images/{absent}"),
        format!("/images/{absent}/thumb"),
    ] {
        // Whatever the client says it holds.
        let response = app
            .api(Method::GET, &path)
            .header("if-none-match", "*")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        problem(response).await;
    }
    assert_eq!(app.count("catalog", "images").await, 2, "nothing written");
    app.stop().await;
}

backend_test!(pictures, pictures_are_checked_resized_and_served);

async fn pictures_are_not_counted_against_the_address(backend: Backend) {
    // Two anonymous requests at once, then one a minute: the sign-up spends them.
    let app = TestApp::spawn_with(backend, |config| {
        config.rate_limit.anonymous = ordo_http::ratelimit::Quota::new(1, 2);
    })
    .await;
    let owner = app.signup("merchant").await;
    let merchant: Value = json_of(
        app.as_user(&owner, Method::POST, "/merchants")
            .json(&json!({
                "name": "Kiosk Bild", "kind": "shop", "address": "Torstraße 2, 10119 Berlin",
                "lat": 52.53, "lon": 13.40
            })),
    )
    .await;
    let path = format!("/merchants/{}/image", merchant["id"].as_str().unwrap());
    let image = accepted(
        &app,
        &owner,
        &path,
        "image/png",
        encoded(64, 64, ImageFormat::Png),
    )
    .await;

    // A page of merchants asks for dozens of pictures at once, without a token (as `<img>`
    // does): none is refused, while the address's other requests are.
    for url in [&image["url"], &image["thumb_url"]].repeat(10) {
        let response = app
            .client
            .get(app.url(url.as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
    }
    let other = app.api(Method::GET, "/merchants").send().await.unwrap();
    assert_eq!(other.status(), StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

backend_test!(
    pictures_unmetered,
    pictures_are_not_counted_against_the_address
);
