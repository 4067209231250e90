//! The catalogue's store on both backends: what the previous release wrote (ids as text,
//! instants as epoch milliseconds, JSON as text, flags as 0 and 1) reads back through the
//! store once the database is migrated.

use crate::domain::picture::Size;
use crate::domain::{Merchant, MerchantKind, Opening, Product};
use crate::store::{images, merchants, products};
use ordo_db::params;
use ordo_kernel::Money;
use ordo_kernel::time::to_millis;
use ordo_testkit::{Backend, backend_test};
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), "catalog", migrations)
        .await;
    let (merchant_id, staff) = (Uuid::now_v7(), Uuid::now_v7());
    let (shop_picture, bread_picture) = (Uuid::now_v7(), Uuid::now_v7());
    let (bread, cake, gone) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let created = ordo_kernel::time::stored(datetime!(2026-11-30 10:15:00.250 UTC));
    let updated = created + Duration::minutes(5);

    for (image, owner) in [(shop_picture, merchant_id), (bread_picture, bread)] {
        db.execute(
            "INSERT INTO images (id, owner_id, full_size, thumb, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            params![
                image.to_string(),
                owner.to_string(),
                b"full".to_vec(),
                b"thumb".to_vec(),
                to_millis(created)
            ],
        )
        .await
        .unwrap();
    }
    db.execute(
        "INSERT INTO merchants
           (id, name, kind, address, lat, lon, opening_hours, created_at, updated_at, image_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            merchant_id.to_string(),
            "Bakery",
            "shop",
            "1 Main Street",
            52.5,
            13.4,
            r#"[{"day": "mon", "open": "07:00", "close": "18:00"}]"#,
            to_millis(created),
            to_millis(updated),
            shop_picture.to_string()
        ],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO merchant_staff (merchant_id, user_id, added_at) VALUES ($1, $2, $3)",
        params![
            merchant_id.to_string(),
            staff.to_string(),
            to_millis(created)
        ],
    )
    .await
    .unwrap();
    // Bread is on sale with its picture, cake is withdrawn, the third product was deleted.
    let rows = [
        (
            bread,
            "Bread",
            Some("B-1"),
            r#"["fresh", "vegan"]"#,
            1_i64,
            None,
            Some(bread_picture),
        ),
        (cake, "Cake", None, "[]", 0, None, None),
        (gone, "Pie", None, "[]", 0, Some(to_millis(updated)), None),
    ];
    for (id, name, sku, tags, active, deleted_at, image) in rows {
        db.execute(
            "INSERT INTO products
               (id, merchant_id, name, description, category, price_amount, currency, sku, tags,
                active, created_at, updated_at, deleted_at, image_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            params![
                id.to_string(),
                merchant_id.to_string(),
                name,
                "Baked today",
                "Baked",
                350_i64,
                "EUR",
                sku,
                tags,
                active,
                to_millis(created),
                to_millis(updated),
                deleted_at,
                image.map(|image| image.to_string())
            ],
        )
        .await
        .unwrap();
    }

    db.migrate(migrations).await.unwrap();

    let shop = Merchant {
        id: merchant_id,
        name: "Bakery".into(),
        kind: MerchantKind::Shop,
        address: "1 Main Street".into(),
        lat: 52.5,
        lon: 13.4,
        opening_hours: vec![Opening {
            day: "mon".into(),
            open: "07:00".into(),
            close: "18:00".into(),
        }],
        staff: vec![staff],
        image: Some(shop_picture),
        created_at: created,
        updated_at: updated,
    };
    assert_eq!(
        merchants::find(&db, merchant_id).await.unwrap(),
        Some(shop.clone())
    );
    assert!(merchants::is_staff(&db, merchant_id, staff).await.unwrap());
    let listed = merchants::staffed_by(&db, staff, 10).await.unwrap();
    assert_eq!(
        listed,
        [Merchant {
            staff: Vec::new(),
            ..shop
        }]
    );

    let on_sale = Product {
        id: bread,
        merchant_id,
        name: "Bread".into(),
        description: "Baked today".into(),
        category: "Baked".into(),
        price: Money {
            amount: 350,
            currency: "EUR".into(),
        },
        sku: Some("B-1".into()),
        tags: vec!["fresh".into(), "vegan".into()],
        active: true,
        image: Some(bread_picture),
        created_at: created,
        updated_at: updated,
    };
    assert_eq!(
        products::find(&db, bread).await.unwrap(),
        Some(on_sale.clone())
    );
    let withdrawn = products::find(&db, cake).await.unwrap().unwrap();
    assert!(!withdrawn.active);
    assert!(withdrawn.tags.is_empty());
    assert_eq!(
        products::find(&db, gone).await.unwrap(),
        None,
        "still deleted"
    );
    let shown = products::of_merchant(&db, merchant_id, false, None, 10)
        .await
        .unwrap();
    assert_eq!(shown, [on_sale]);
    let all: Vec<Uuid> = products::of_merchant(&db, merchant_id, true, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|product| product.id)
        .collect();
    assert_eq!(all, [cake, bread], "newest first");
    let categories = products::categories(&db, merchant_id).await.unwrap();
    assert_eq!(
        categories,
        [("Baked".to_owned(), 1)],
        "of the active products"
    );
    let thumb = images::find(&db, bread_picture, Size::Thumb).await.unwrap();
    assert_eq!(thumb.as_deref(), Some(&b"thumb"[..]));

    // The migrated rows take the store's writes.
    let mut tx = db.begin().await.unwrap();
    assert!(products::delete(&mut tx, cake, updated).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(products::find(&db, cake).await.unwrap(), None);
}

backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
