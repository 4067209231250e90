//! The web apps as the gateway serves them: each app's page revalidated by its ETag, the
//! files under the build's address cached for a year and gzipped when asked, the courier
//! app's worker allowed its scope, and a Content-Security-Policy without `unsafe-inline`.

use ordo_e2e::{TestApp, problem};
use ordo_testkit::{Backend, backend_test};
use reqwest::StatusCode;
use reqwest::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};

fn header(response: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn served_with_caching_and_a_strict_policy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = reqwest::Client::new();
    let mut script = String::new();
    for path in ["/", "/merchant", "/courier", "/ops"] {
        let page = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&page, CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(header(&page, CACHE_CONTROL), "no-cache");
        let policy = header(&page, CONTENT_SECURITY_POLICY).to_owned();
        assert!(policy.contains("script-src 'self'") && policy.contains("style-src 'self'"));
        assert!(!policy.contains("unsafe"), "{policy}");
        let etag = header(&page, ETAG).to_owned();
        let body = page.text().await.unwrap();
        let start = body.find("/assets/").expect("the page names its files");
        let end = start + body[start..].find('"').unwrap();
        if path == "/" {
            script = body[start..end].replace("shared/icon.svg", "customer/app.js");
        }
        let again = client
            .get(app.url(path))
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }

    let file = client
        .get(app.url(&script))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK, "{script}");
    assert_eq!(
        header(&file, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        header(&file, CONTENT_TYPE),
        "application/javascript; charset=utf-8"
    );
    assert_eq!(header(&file, CONTENT_ENCODING), "gzip");
    let etag = header(&file, ETAG).to_owned();
    let unchanged = client
        .get(app.url(&script))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    // Another build's address, and a file that is not the apps', are not served.
    let build = script.split('/').nth(2).unwrap();
    for gone in [
        script.replace(build, "000000000000"),
        script.replace("customer/app.js", "tests/package.json"),
    ] {
        let response = client.get(app.url(&gone)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{gone}");
        problem(response).await;
    }

    let worker = client.get(app.url("/courier/sw.js")).send().await.unwrap();
    assert_eq!(header(&worker, "service-worker-allowed"), "/courier");
    let manifest = client
        .get(app.url("/courier/manifest.webmanifest"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&manifest, CONTENT_TYPE), "application/manifest+json");
    let manifest: serde_json::Value = manifest.json().await.unwrap();
    assert_eq!(manifest["start_url"], "/courier");
    app.stop().await;
}
backend_test!(web_apps, served_with_caching_and_a_strict_policy);
