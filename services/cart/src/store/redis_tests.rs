//! Carts in Redis keep the cart's rules: one merchant at a time, limits, lines in the order
//! they were added, and what a paid order took taken out once however often it is told.

use super::Item;
use super::redis_carts::{Added, RedisCarts};
use ordo_redis::Redis;
use uuid::Uuid;

const LIMITS: (i64, i64) = (10, 3);

async fn carts(test: &str) -> Option<RedisCarts> {
    let url = ordo_testkit::redis(test)?;
    let prefix = format!("{}:", ordo_testkit::unique_prefix());
    Some(RedisCarts::new(
        Redis::open(&url, &prefix).await.unwrap(),
        3600,
    ))
}

fn line(product: Uuid, quantity: i64) -> Item {
    Item {
        product_id: product,
        quantity,
    }
}

#[tokio::test]
async fn a_cart_in_redis_keeps_the_carts_rules() {
    let Some(carts) = carts("a_cart_in_redis_keeps_the_carts_rules").await else {
        return;
    };
    let (customer, shop, other_shop) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (pizza, soup, salad, cake) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let now = ordo_kernel::time::now();
    let later = now + time::Duration::seconds(1);
    let add = |product, quantity, merchant, at| {
        carts.add(customer, merchant, line(product, quantity), LIMITS, at)
    };

    assert_eq!(add(soup, 2, shop, now).await.unwrap(), Added::First);
    assert_eq!(add(pizza, 1, shop, later).await.unwrap(), Added::Another);
    assert_eq!(
        add(soup, 3, shop, later).await.unwrap(),
        Added::Another,
        "adds up"
    );
    assert_eq!(add(soup, 6, shop, later).await.unwrap(), Added::TooMany);
    assert_eq!(
        add(cake, 1, other_shop, later).await.unwrap(),
        Added::OtherMerchant(shop)
    );
    assert_eq!(add(salad, 1, shop, later).await.unwrap(), Added::Another);
    assert_eq!(add(cake, 1, shop, later).await.unwrap(), Added::Full);
    assert_eq!(
        carts.items(customer).await.unwrap(),
        [line(soup, 5), line(pizza, 1), line(salad, 1)],
        "in the order first added"
    );

    assert!(carts.set(customer, pizza, 4).await.unwrap());
    assert!(!carts.set(customer, cake, 4).await.unwrap(), "no such line");
    assert!(carts.remove(customer, salad).await.unwrap());
    assert!(!carts.remove(customer, salad).await.unwrap());

    // A paid order takes its lines out once, however often it is told.
    let order = Uuid::now_v7();
    for _ in 0..2 {
        carts
            .take_out(customer, order, &[(soup, 2), (pizza, 4)])
            .await
            .unwrap();
    }
    assert_eq!(carts.items(customer).await.unwrap(), [line(soup, 3)]);
    carts
        .take_out(customer, Uuid::now_v7(), &[(soup, 3)])
        .await
        .unwrap();
    assert!(carts.items(customer).await.unwrap().is_empty());
    assert_eq!(
        add(cake, 1, other_shop, later).await.unwrap(),
        Added::First,
        "emptied, another merchant's products are welcome"
    );
    carts.clear(customer).await.unwrap();
    assert!(carts.items(customer).await.unwrap().is_empty());
}
