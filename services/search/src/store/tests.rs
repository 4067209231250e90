//! Search's tables and index on both backends (SQLite and PostgreSQL): what its consumer
//! records is found once the index catches up, with ratings, prices, tags, stock, paging and
//! deletions honoured, and a rebuild finds the same; what the previous release recorded
//! reads back once migrated.

use crate::Search;
use crate::domain::{Query, QueryParams};
use crate::store::{self, Changed};
use ordo_contracts::catalog::{MerchantSnapshot, OpeningHours, ProductSnapshot};
use ordo_db::{Db, params};
use ordo_kernel::Money;
use ordo_testkit::{Backend, backend_test};
use uuid::Uuid;

struct World {
    _dir: tempfile::TempDir,
    db: Db,
    search: Search,
}

async fn world(backend: Backend) -> World {
    let dir = ordo_testkit::temp_dir();
    let db = backend.open(dir.path(), "search").await;
    db.migrate(crate::migrations()).await.unwrap();
    let search = Search::open(db.clone(), &dir.path().join("index")).unwrap();
    World {
        _dir: dir,
        db,
        search,
    }
}

fn merchant(name: &str, at: (f64, f64)) -> MerchantSnapshot {
    MerchantSnapshot {
        merchant_id: Uuid::now_v7(),
        name: name.into(),
        kind: "restaurant".into(),
        address: "Somewhere 1".into(),
        lat: at.0,
        lon: at.1,
        opening_hours: Vec::new(),
        staff: Vec::new(),
    }
}

fn product(merchant: &MerchantSnapshot, name: &str, amount: i64, tags: &[&str]) -> ProductSnapshot {
    ProductSnapshot {
        product_id: Uuid::now_v7(),
        merchant_id: merchant.merchant_id,
        name: name.into(),
        description: String::new(),
        category: "Bowls".into(),
        price: Money {
            amount,
            currency: "EUR".into(),
        },
        sku: None,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        active: true,
    }
}

impl World {
    fn find(&self, params: QueryParams<'_>) -> (Vec<String>, u64, [u64; 4]) {
        let query = Query::parse(&params).unwrap();
        let results = self
            .search
            .search(&query, ordo_kernel::time::now())
            .unwrap();
        let names = results
            .hits
            .iter()
            .map(|hit| {
                hit.stored
                    .product
                    .as_ref()
                    .map_or(&hit.stored.merchant.name, |p| &p.name)
                    .clone()
            })
            .collect();
        (names, results.total, results.facets.price)
    }
}

async fn found_as_recorded(backend: Backend) {
    let w = world(backend).await;
    let best = merchant("Best Bowl", (52.50, 13.40));
    let fair = merchant("Fair Bowl", (52.51, 13.40));
    let unrated = merchant("New Bowl", (52.52, 13.40));
    let cheap = product(&fair, "Rice bowl", 500, &["vegan"]);
    let mid = product(&best, "Poke bowl", 1_500, &["vegan", "spicy"]);
    let dear = product(&unrated, "Truffle bowl", 6_000, &["spicy"]);
    let gone = product(&best, "Old bowl", 900, &[]);
    let mut tx = w.db.begin().await.unwrap();
    for m in [&best, &fair, &unrated] {
        w.search.merchant_changed(&mut tx, m).await.unwrap();
    }
    for p in [&cheap, &mid, &dear, &gone] {
        w.search.product_changed(&mut tx, p).await.unwrap();
    }
    for p in [&cheap, &mid] {
        w.search
            .stock_changed(&mut tx, p.product_id, 3)
            .await
            .unwrap();
    }
    w.search
        .rating_changed(&mut tx, best.merchant_id, 4.5, 2)
        .await
        .unwrap();
    w.search
        .rating_changed(&mut tx, fair.merchant_id, 3.0, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(w.search.catch_up().await.unwrap() > 0);
    assert_eq!(w.search.indexed(), 7, "3 merchants and 4 products");
    assert_eq!(
        w.search.catch_up().await.unwrap(),
        0,
        "nothing left to take"
    );

    let bowls = |sort| QueryParams {
        q: Some("bowl"),
        tags: None,
        sort: Some(sort),
        ..QueryParams::default()
    };
    let (by_rating, total, bands) = w.find(QueryParams {
        category: Some("bowls"),
        ..bowls("rating")
    });
    assert_eq!(total, 4);
    let mut best_first = by_rating[..2].to_vec();
    best_first.sort();
    assert_eq!(
        best_first,
        ["Old bowl", "Poke bowl"],
        "the best rated merchant's first"
    );
    assert_eq!(by_rating[2..], ["Rice bowl", "Truffle bowl"]);
    assert_eq!(
        bands,
        [2, 1, 0, 1],
        "under 10: rice and old; 10 to 20: poke; 50 and more: truffle"
    );

    let (priced, _, _) = w.find(QueryParams {
        min_price: Some(1_000),
        max_price: Some(5_000),
        ..bowls("relevance")
    });
    assert_eq!(priced, ["Poke bowl"]);
    let (tagged, _, _) = w.find(QueryParams {
        tags: Some("spicy, VEGAN"),
        ..bowls("relevance")
    });
    assert_eq!(tagged, ["Poke bowl"], "all the tags asked for");

    // Pages follow each other without repeating.
    let first = Query::parse(&QueryParams {
        limit: Some(2),
        ..bowls("rating")
    })
    .unwrap();
    let first_page = w.search.search(&first, ordo_kernel::time::now()).unwrap();
    assert_eq!((first_page.hits.len(), first_page.total), (2, 7));
    let second = Query {
        offset: 2,
        ..first.clone()
    };
    let (all, _, _) = w.find(bowls("rating"));
    let second_names: Vec<String> = w
        .search
        .search(&second, ordo_kernel::time::now())
        .unwrap()
        .hits
        .iter()
        .map(|h| {
            h.stored
                .product
                .as_ref()
                .map_or(&h.stored.merchant.name, |p| &p.name)
                .clone()
        })
        .collect();
    assert_eq!(second_names, all[2..4]);

    // Out of stock is marked; deleted is gone; a moved merchant's products move with it.
    let (truffle, _, _) = w.find(QueryParams {
        q: Some("truffle"),
        ..QueryParams::default()
    });
    assert_eq!(truffle, ["Truffle bowl"]);
    let query = Query::parse(&QueryParams {
        q: Some("truffle"),
        ..QueryParams::default()
    })
    .unwrap();
    let hit = &w
        .search
        .search(&query, ordo_kernel::time::now())
        .unwrap()
        .hits[0];
    assert!(!hit.stored.product.as_ref().unwrap().in_stock);
    let mut tx = w.db.begin().await.unwrap();
    w.search
        .product_deleted(&mut tx, gone.product_id, best.merchant_id)
        .await
        .unwrap();
    let moved = MerchantSnapshot {
        lat: 48.85,
        lon: 2.35,
        ..unrated.clone()
    };
    w.search.merchant_changed(&mut tx, &moved).await.unwrap();
    tx.commit().await.unwrap();
    w.search.catch_up().await.unwrap();
    let (left, _, _) = w.find(bowls("relevance"));
    assert!(!left.contains(&"Old bowl".to_owned()), "{left:?}");
    let (in_paris, _, _) = w.find(QueryParams {
        near: Some("48.85,2.35"),
        radius_km: Some(1.0),
        ..bowls("distance")
    });
    let mut in_paris = in_paris;
    in_paris.sort();
    assert_eq!(in_paris, ["New Bowl", "Truffle bowl"]);

    // A rebuild finds the same.
    let before = w.find(bowls("rating"));
    assert_eq!(w.search.rebuild().await.unwrap(), 6);
    assert_eq!(w.find(bowls("rating")), before);
    let suggested = w.search.suggest("tru").unwrap();
    assert_eq!(suggested[0].text, "Truffle bowl");
}
backend_test!(found, found_as_recorded);

/// What the release before native PostgreSQL types wrote (ids as text, JSON as text, flags as
/// 0 and 1) reads back through the store, and the index is built from it.
async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), "search", migrations)
        .await;
    let (merchant_id, on_sale, withdrawn) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    db.execute(
        "INSERT INTO merchants (id, name, kind, address, lat, lon, opening_hours)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            merchant_id.to_string(),
            "Best Bowl",
            "restaurant",
            "Somewhere 1",
            52.5,
            13.4,
            r#"[{"day": "mon", "open": "11:00", "close": "22:00"}]"#
        ],
    )
    .await
    .unwrap();
    for (id, name, tags, active) in [
        (on_sale, "Poke bowl", r#"["spicy", "vegan"]"#, 1_i64),
        (withdrawn, "Old bowl", "[]", 0),
    ] {
        db.execute(
            "INSERT INTO products
               (id, merchant_id, name, description, category, price_amount, currency, tags, active)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            params![
                id.to_string(),
                merchant_id.to_string(),
                name,
                "",
                "Bowls",
                1_500_i64,
                "EUR",
                tags,
                active
            ],
        )
        .await
        .unwrap();
    }
    db.execute(
        "INSERT INTO stock (product_id, available) VALUES ($1, $2)",
        params![on_sale.to_string(), 3_i64],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO ratings (merchant_id, average, count) VALUES ($1, $2, $3)",
        params![merchant_id.to_string(), 4.5, 2_i64],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO pending (id, what, token) VALUES ($1, $2, $3)",
        params![
            merchant_id.to_string(),
            "merchant",
            Uuid::new_v4().to_string()
        ],
    )
    .await
    .unwrap();

    db.migrate(migrations).await.unwrap();

    let merchant = store::Merchant {
        id: merchant_id,
        name: "Best Bowl".into(),
        kind: "restaurant".into(),
        address: "Somewhere 1".into(),
        lat: 52.5,
        lon: 13.4,
        opening_hours: vec![OpeningHours {
            day: "mon".into(),
            open: "11:00".into(),
            close: "22:00".into(),
        }],
        rating: 4.5,
        rating_count: 2,
    };
    assert_eq!(
        store::merchants(&db, &[merchant_id]).await.unwrap(),
        std::slice::from_ref(&merchant)
    );
    assert_eq!(
        store::merchants_after(&db, None, 10).await.unwrap(),
        [merchant]
    );
    let poke = store::Product {
        id: on_sale,
        merchant_id,
        name: "Poke bowl".into(),
        description: String::new(),
        category: "Bowls".into(),
        price: Money {
            amount: 1_500,
            currency: "EUR".into(),
        },
        tags: vec!["spicy".into(), "vegan".into()],
        active: true,
        available: Some(3),
    };
    let mut both = store::products(&db, &[], &[merchant_id]).await.unwrap();
    both.sort_by_key(|product| product.id);
    assert_eq!(
        both,
        [
            poke.clone(),
            store::Product {
                id: withdrawn,
                name: "Old bowl".into(),
                tags: Vec::new(),
                active: false,
                available: None,
                ..poke.clone()
            }
        ]
    );
    assert_eq!(
        store::products_after(&db, None, 10).await.unwrap(),
        [poke],
        "the active ones"
    );
    assert!(
        store::products_after(&db, Some(on_sale), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store::categories(&db, merchant_id).await.unwrap(),
        ["Bowls"]
    );
    let pending = store::pending(&db, 10).await.unwrap();
    let changed: Vec<Changed> = pending.iter().map(|p| p.changed).collect();
    assert_eq!(changed, [Changed::Merchant(merchant_id)]);

    let search = Search::open(db.clone(), &dir.path().join("index")).unwrap();
    assert!(search.catch_up().await.unwrap() > 0);
    assert_eq!(search.indexed(), 2, "the merchant and its active product");
    assert!(store::pending(&db, 10).await.unwrap().is_empty());
    let query = Query::parse(&QueryParams {
        q: Some("poke"),
        ..QueryParams::default()
    })
    .unwrap();
    let found = search.search(&query, ordo_kernel::time::now()).unwrap();
    let product = found.hits[0].stored.product.as_ref().unwrap();
    assert_eq!((product.id, product.in_stock), (on_sale, true));
}
backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
