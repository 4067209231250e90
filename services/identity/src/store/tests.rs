//! Identity's stores on both databases: users, addresses, refresh tokens and password-reset
//! links read back as written (ids, instants to the millisecond, NULLs, flags), change as
//! their updates say, and the lists, searches, sweeps and one-time spends find what they
//! should. The keyring is a file, not SQL; its own tests are in `keyring`.

use super::password_resets::{self, NewReset};
use super::refresh_tokens::{self, NewRefreshToken};
use super::{addresses, users};
use crate::domain::{Address, User};
use ordo_db::{Db, params};
use ordo_kernel::time::stored;
use ordo_kernel::{Cursor, PageRequest, PostalAddress, Role};
use ordo_testkit::{Backend, backend_test};
use std::path::Path;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// An instant with sub-millisecond digits, which the tables drop.
const T: OffsetDateTime = datetime!(2026-03-01 12:00:00.123456789 UTC);

/// `T` moved by `secs` seconds.
fn at(secs: i64) -> OffsetDateTime {
    T + Duration::seconds(secs)
}

/// Identity's database, migrated as the service is at start.
async fn open(backend: &Backend, dir: &Path) -> Db {
    let db = backend.open(dir, crate::NAME).await;
    db.migrate(crate::migrations()).await.unwrap();
    db
}

fn user(email: &str, name: &str, role: Role, created: OffsetDateTime) -> User {
    User {
        id: Uuid::now_v7(),
        email: email.into(),
        name: name.into(),
        phone: None,
        role,
        email_verified: false,
        disabled: false,
        created_at: created,
        updated_at: created,
    }
}

/// `user` as the tables give it back: instants to the millisecond.
fn as_stored(user: &User) -> User {
    User {
        created_at: stored(user.created_at),
        updated_at: stored(user.updated_at),
        ..user.clone()
    }
}

async fn insert_users(db: &Db, users: &[(&User, &str)]) {
    let mut tx = db.begin().await.unwrap();
    for (user, hash) in users {
        users::insert(&mut tx, user, hash).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The raw `disabled_at` of a user.
async fn disabled_at(db: &Db, id: Uuid) -> Option<OffsetDateTime> {
    let (at,): (Option<OffsetDateTime>,) = db
        .fetch_one("SELECT disabled_at FROM users WHERE id = $1", params![id])
        .await
        .unwrap();
    at
}

async fn users_read_back_as_written(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let ada = User {
        phone: Some("+4915112345678".into()),
        ..user("ada@example.com", "Ada Lovelace", Role::Customer, at(0))
    };
    let shop = user("shop@example.com", "Corner Shop", Role::Merchant, at(1));

    let mut tx = db.begin().await.unwrap();
    users::insert(&mut tx, &ada, "$argon2id$ada").await.unwrap();
    users::insert(&mut tx, &shop, "$argon2id$shop")
        .await
        .unwrap();
    let inside = users::find(&mut tx, ada.id).await.unwrap();
    assert_eq!(inside, Some(as_stored(&ada)), "read in its transaction");
    tx.commit().await.unwrap();

    assert_eq!(
        users::find(&db, ada.id).await.unwrap(),
        Some(as_stored(&ada))
    );
    let found = users::find(&db, shop.id).await.unwrap().unwrap();
    assert_eq!(found, as_stored(&shop));
    assert_eq!(found.phone, None, "a NULL phone");
    assert_eq!(found.created_at, datetime!(2026-03-01 12:00:01.123 UTC));
    assert_eq!(users::find(&db, Uuid::now_v7()).await.unwrap(), None);

    assert_eq!(
        users::find_credentials(&db, "ada@example.com")
            .await
            .unwrap(),
        Some((as_stored(&ada), "$argon2id$ada".to_owned()))
    );
    assert_eq!(
        users::find_credentials(&db, "nobody@example.com")
            .await
            .unwrap(),
        None
    );

    // The same email again is a unique violation, and leaves nothing behind.
    let twin = user("ada@example.com", "Ada Twin", Role::Courier, at(2));
    let mut tx = db.begin().await.unwrap();
    let duplicate = users::insert(&mut tx, &twin, "$argon2id$twin")
        .await
        .unwrap_err();
    assert!(duplicate.is_unique_violation(), "{duplicate}");
    tx.rollback().await.unwrap();
    assert_eq!(users::find(&db, twin.id).await.unwrap(), None);
    let not_unique = {
        let mut tx = db.begin().await.unwrap();
        let other = user("other@example.com", "Other", Role::Customer, at(2));
        let error = users::insert(
            &mut tx,
            &User {
                id: ada.id,
                ..other
            },
            "x",
        )
        .await
        .unwrap_err();
        tx.rollback().await.unwrap();
        error
    };
    assert!(
        not_unique.is_unique_violation(),
        "the same id: {not_unique}"
    );

    // A profile change touches name, phone and updated_at alone.
    let changed = User {
        name: "Ada King".into(),
        phone: None,
        updated_at: at(10),
        email: "ignored@example.com".into(),
        role: Role::Admin,
        ..ada.clone()
    };
    let mut tx = db.begin().await.unwrap();
    users::update_profile(&mut tx, &changed).await.unwrap();
    tx.commit().await.unwrap();
    let expected = User {
        name: "Ada King".into(),
        phone: None,
        updated_at: stored(at(10)),
        ..as_stored(&ada)
    };
    assert_eq!(users::find(&db, ada.id).await.unwrap(), Some(expected));
    assert_eq!(
        users::find(&db, shop.id).await.unwrap(),
        Some(as_stored(&shop)),
        "others unchanged"
    );

    let mut tx = db.begin().await.unwrap();
    users::update_password(&mut tx, ada.id, "$argon2id$new", at(20))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (after, hash) = users::find_credentials(&db, "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash, "$argon2id$new");
    assert_eq!(after.updated_at, stored(at(20)));
    assert_eq!(after.name, "Ada King");
    let (_, shop_hash) = users::find_credentials(&db, "shop@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shop_hash, "$argon2id$shop", "others keep theirs");

    // Disabling keeps the first instant; enabling clears it.
    let mut tx = db.begin().await.unwrap();
    users::update_access(&mut tx, ada.id, Role::Courier, true, at(30))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let disabled = users::find(&db, ada.id).await.unwrap().unwrap();
    assert_eq!(
        (disabled.role, disabled.disabled, disabled.updated_at),
        (Role::Courier, true, stored(at(30)))
    );
    assert_eq!(disabled_at(&db, ada.id).await, Some(stored(at(30))));
    let mut tx = db.begin().await.unwrap();
    users::update_access(&mut tx, ada.id, Role::Merchant, true, at(40))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let again = users::find(&db, ada.id).await.unwrap().unwrap();
    assert_eq!(
        (again.role, again.disabled, again.updated_at),
        (Role::Merchant, true, stored(at(40)))
    );
    assert_eq!(
        disabled_at(&db, ada.id).await,
        Some(stored(at(30))),
        "the first disabling instant is kept"
    );
    let mut tx = db.begin().await.unwrap();
    users::update_access(&mut tx, ada.id, Role::Customer, false, at(50))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let enabled = users::find(&db, ada.id).await.unwrap().unwrap();
    assert_eq!(
        (enabled.role, enabled.disabled, enabled.updated_at),
        (Role::Customer, false, stored(at(50)))
    );
    assert_eq!(disabled_at(&db, ada.id).await, None);
    assert!(
        !users::find(&db, shop.id).await.unwrap().unwrap().disabled,
        "others untouched"
    );

    // No store function verifies an email; the column is read as the flag.
    db.execute(
        "UPDATE users SET email_verified_at = $1 WHERE id = $2",
        params![at(60), shop.id],
    )
    .await
    .unwrap();
    let verified = users::find(&db, shop.id).await.unwrap().unwrap();
    assert!(verified.email_verified);
    assert!(
        !users::find(&db, ada.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
}
backend_test!(users_read_back, users_read_back_as_written);

async fn users_are_listed_searched_and_paged(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let ada = user("ada@example.com", "Ada Lovelace", Role::Customer, at(0));
    let boss = user("boss@example.com", "Big Boss", Role::Admin, at(1));
    let grace = user("grace@example.com", "Grace Hopper", Role::Merchant, at(2));
    let former = user("former@example.com", "Former Admin", Role::Admin, at(3));
    let percent = user("p@example.com", "Percent 100% Sure", Role::Courier, at(4));
    let under = user("u1@example.com", "Under_score", Role::Merchant, at(5));
    let underx = user("u2@example.com", "Underxscore", Role::Customer, at(6));
    let root = user("root@example.com", "Root", Role::Admin, at(7));
    let everyone = [
        &ada, &boss, &grace, &former, &percent, &under, &underx, &root,
    ];
    let with_hashes: Vec<(&User, &str)> = everyone.iter().map(|u| (*u, "hash")).collect();
    insert_users(&db, &with_hashes).await;
    let ids = |users: &[User]| users.iter().map(|u| u.id).collect::<Vec<_>>();

    // Newest first, one row past the page; the cursor continues after the last one shown.
    let first = PageRequest {
        limit: 3,
        after: None,
    };
    let page = users::list(&db, None, first).await.unwrap();
    assert_eq!(ids(&page), vec![root.id, underx.id, under.id, percent.id]);
    assert_eq!(page[0], as_stored(&root), "whole users");
    let next = PageRequest {
        limit: 3,
        after: Some(Cursor(under.id)),
    };
    let page = users::list(&db, None, next).await.unwrap();
    assert_eq!(ids(&page), vec![percent.id, former.id, grace.id, boss.id]);
    let last = PageRequest {
        limit: 3,
        after: Some(Cursor(grace.id)),
    };
    let page = users::list(&db, None, last).await.unwrap();
    assert_eq!(ids(&page), vec![boss.id, ada.id]);
    let merchants = users::list(
        &db,
        Some(Role::Merchant),
        PageRequest {
            limit: 10,
            after: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(ids(&merchants), vec![under.id, grace.id]);
    let admins_after = users::list(
        &db,
        Some(Role::Admin),
        PageRequest {
            limit: 10,
            after: Some(Cursor(root.id)),
        },
    )
    .await
    .unwrap();
    assert_eq!(ids(&admins_after), vec![former.id, boss.id]);

    // Administrators: not disabled, oldest first.
    assert_eq!(
        users::administrators(&db).await.unwrap(),
        vec![boss.id, former.id, root.id]
    );
    let mut tx = db.begin().await.unwrap();
    users::update_access(&mut tx, former.id, Role::Admin, true, at(10))
        .await
        .unwrap();
    users::update_access(&mut tx, ada.id, Role::Admin, false, at(10))
        .await
        .unwrap();
    users::update_access(&mut tx, root.id, Role::Merchant, false, at(10))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        users::administrators(&db).await.unwrap(),
        vec![ada.id, boss.id],
        "the disabled and the demoted are not; the promoted is"
    );

    // Search: the email exactly, or the lowercased name containing the text as given.
    let search = |email: &'static str, text: &'static str, limit: i64| {
        let db = db.clone();
        async move {
            users::find_by_email_or_name(&db, email, &ordo_db::sql::contains(text), limit)
                .await
                .unwrap()
        }
    };
    assert_eq!(search("", "LOVE", 10).await, vec![ada.id]);
    assert_eq!(
        search("grace@example.com", "nothing", 10).await,
        vec![grace.id]
    );
    assert_eq!(
        search("grace@example.com", "ada", 10).await,
        vec![grace.id, ada.id],
        "either, newest first"
    );
    assert_eq!(
        search("GRACE@example.com", "zzz", 10).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(search("", "100%", 10).await, vec![percent.id], "% as given");
    assert_eq!(search("", "r_s", 10).await, vec![under.id], "_ as given");
    assert_eq!(search("", "under", 10).await, vec![underx.id, under.id]);
    assert_eq!(search("", "under", 1).await, vec![underx.id], "limited");
    assert_eq!(search("", "o", 3).await, vec![root.id, underx.id, under.id]);
}
backend_test!(users_listed, users_are_listed_searched_and_paged);

fn address(user_id: Uuid, label: Option<&str>, line2: Option<&str>, secs: i64) -> Address {
    Address {
        id: Uuid::now_v7(),
        user_id,
        label: label.map(Into::into),
        postal: PostalAddress {
            line1: "1 Rue de la Paix".into(),
            line2: line2.map(Into::into),
            city: "Paris".into(),
            postal_code: "75002".into(),
            country: "FR".into(),
            lat: 48.869_123,
            lon: 2.331_456,
        },
        created_at: stored(at(secs)),
        updated_at: stored(at(secs)),
    }
}

async fn addresses_read_back_change_and_go(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let ada = user("ada@example.com", "Ada", Role::Customer, at(0));
    let bob = user("bob@example.com", "Bob", Role::Customer, at(0));
    insert_users(&db, &[(&ada, "h"), (&bob, "h")]).await;
    let home = Address {
        // Written with sub-millisecond digits, read back without them.
        created_at: at(1),
        updated_at: at(1),
        ..address(ada.id, Some("Home"), Some("Bâtiment B, 3e étage"), 1)
    };
    let home_read = Address {
        created_at: stored(at(1)),
        updated_at: stored(at(1)),
        ..home.clone()
    };
    let mut work = address(ada.id, None, None, 2);
    work.postal = PostalAddress {
        lat: -33.868_8,
        lon: 151.209_3,
        city: "Sydney".into(),
        country: "AU".into(),
        ..work.postal
    };
    let bobs = address(bob.id, Some("Bob's"), None, 3);

    let mut tx = db.begin().await.unwrap();
    assert_eq!(addresses::count(&mut tx, ada.id).await.unwrap(), 0);
    for address in [&home, &work, &bobs] {
        addresses::insert(&mut tx, address).await.unwrap();
    }
    assert_eq!(addresses::count(&mut tx, ada.id).await.unwrap(), 2);
    assert_eq!(addresses::count(&mut tx, bob.id).await.unwrap(), 1);
    assert_eq!(
        addresses::find(&mut tx, ada.id, work.id).await.unwrap(),
        Some(work.clone()),
        "read in its transaction"
    );
    tx.commit().await.unwrap();

    assert_eq!(
        addresses::list(&db, ada.id).await.unwrap(),
        vec![home_read.clone(), work.clone()]
    );
    assert_eq!(
        addresses::list(&db, bob.id).await.unwrap(),
        vec![bobs.clone()]
    );
    assert_eq!(
        addresses::list(&db, Uuid::now_v7()).await.unwrap(),
        Vec::<Address>::new()
    );
    assert_eq!(
        addresses::find(&db, ada.id, home.id).await.unwrap(),
        Some(home_read.clone())
    );
    assert_eq!(
        addresses::find(&db, bob.id, home.id).await.unwrap(),
        None,
        "not Bob's"
    );
    let found = addresses::find(&db, ada.id, work.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.label, found.postal.line2), (None, None), "NULLs");
    assert_eq!((found.postal.lat, found.postal.lon), (-33.868_8, 151.209_3));

    // Only the owner's update lands; created_at and user_id stay.
    let moved = Address {
        label: None,
        postal: PostalAddress {
            line1: "2 Avenue Foch".into(),
            line2: None,
            city: "Lyon".into(),
            postal_code: "69006".into(),
            country: "FR".into(),
            lat: 45.77,
            lon: 4.85,
        },
        updated_at: stored(at(10)),
        ..home_read.clone()
    };
    let mut stolen = Address {
        user_id: bob.id,
        ..moved.clone()
    };
    stolen.postal.line1 = "Bob was here".into();
    let mut tx = db.begin().await.unwrap();
    addresses::update(&mut tx, &stolen).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        addresses::find(&db, ada.id, home.id).await.unwrap(),
        Some(home_read.clone()),
        "someone else's update changes nothing"
    );
    let mut tx = db.begin().await.unwrap();
    addresses::update(&mut tx, &moved).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        addresses::find(&db, ada.id, home.id).await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(
        addresses::find(&db, ada.id, work.id).await.unwrap(),
        Some(work.clone())
    );

    let mut tx = db.begin().await.unwrap();
    assert!(!addresses::delete(&mut tx, bob.id, home.id).await.unwrap());
    assert!(addresses::delete(&mut tx, ada.id, home.id).await.unwrap());
    assert!(!addresses::delete(&mut tx, ada.id, home.id).await.unwrap());
    assert_eq!(addresses::count(&mut tx, ada.id).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert_eq!(
        addresses::list(&db, ada.id).await.unwrap(),
        vec![work.clone()]
    );
    assert_eq!(addresses::list(&db, bob.id).await.unwrap(), vec![bobs]);

    // Same id twice is refused.
    let mut tx = db.begin().await.unwrap();
    let duplicate = addresses::insert(&mut tx, &work).await.unwrap_err();
    assert!(duplicate.is_unique_violation(), "{duplicate}");
    tx.rollback().await.unwrap();
}
backend_test!(addresses_change, addresses_read_back_change_and_go);

/// A refresh token's raw `(spent_at, revoked_at)`.
async fn token_state(db: &Db, hash: &str) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
    db.fetch_one(
        "SELECT spent_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
        params![hash],
    )
    .await
    .unwrap()
}

async fn refresh_tokens_spend_once_and_revoke(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let ada = user("ada@example.com", "Ada", Role::Customer, at(0));
    let bob = user("bob@example.com", "Bob", Role::Customer, at(0));
    insert_users(&db, &[(&ada, "h"), (&bob, "h")]).await;
    let (login, other_login, old_login) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let token = |family_id, user_id, token_hash, expires: i64| NewRefreshToken {
        id: Uuid::now_v7(),
        family_id,
        user_id,
        token_hash,
        created_at: at(0),
        expires_at: at(expires),
    };
    let tokens = [
        token(login, ada.id, "h1", 3600),
        token(login, ada.id, "h2", 3600),
        token(other_login, ada.id, "h3", 3600),
        token(old_login, ada.id, "h4", 5),
        token(Uuid::now_v7(), bob.id, "h5", 3600),
    ];
    let mut tx = db.begin().await.unwrap();
    for token in &tokens {
        refresh_tokens::insert(&mut tx, token).await.unwrap();
    }
    tx.commit().await.unwrap();
    let (created, expires): (OffsetDateTime, OffsetDateTime) = db
        .fetch_one(
            "SELECT created_at, expires_at FROM refresh_tokens WHERE id = $1",
            params![tokens[0].id],
        )
        .await
        .unwrap();
    assert_eq!((created, expires), (stored(at(0)), stored(at(3600))));
    assert_eq!(token_state(&db, "h1").await, (None, None));

    // A hash is one token's.
    let mut tx = db.begin().await.unwrap();
    let duplicate = refresh_tokens::insert(&mut tx, &token(login, bob.id, "h1", 60))
        .await
        .unwrap_err();
    assert!(duplicate.is_unique_violation(), "{duplicate}");
    tx.rollback().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        refresh_tokens::spend(&mut tx, "h1", at(10)).await.unwrap(),
        Some((ada.id, login))
    );
    assert_eq!(
        refresh_tokens::spend(&mut tx, "h1", at(11)).await.unwrap(),
        None,
        "spent already"
    );
    assert_eq!(
        refresh_tokens::spend(&mut tx, "h4", at(10)).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        refresh_tokens::spend(&mut tx, "h4", stored(at(5)))
            .await
            .unwrap(),
        None,
        "expired at its expiry instant"
    );
    assert_eq!(
        refresh_tokens::spend(&mut tx, "nope", at(10))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        refresh_tokens::owner(&mut tx, "h1").await.unwrap(),
        Some((ada.id, login)),
        "whatever its state"
    );
    assert_eq!(
        refresh_tokens::owner(&mut tx, "h4").await.unwrap(),
        Some((ada.id, old_login))
    );
    assert_eq!(refresh_tokens::owner(&mut tx, "nope").await.unwrap(), None);
    tx.commit().await.unwrap();
    assert_eq!(token_state(&db, "h1").await, (Some(stored(at(10))), None));
    assert_eq!(token_state(&db, "h4").await, (None, None));

    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        refresh_tokens::revoke_family(&mut tx, login, at(20))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        refresh_tokens::revoke_family(&mut tx, login, at(21))
            .await
            .unwrap(),
        0,
        "revoked already"
    );
    assert_eq!(
        refresh_tokens::spend(&mut tx, "h2", at(22)).await.unwrap(),
        None,
        "revoked"
    );
    tx.commit().await.unwrap();
    assert_eq!(
        token_state(&db, "h1").await,
        (Some(stored(at(10))), Some(stored(at(20))))
    );
    assert_eq!(token_state(&db, "h2").await, (None, Some(stored(at(20)))));
    assert_eq!(token_state(&db, "h3").await, (None, None), "another login");

    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        refresh_tokens::revoke_user(&mut tx, ada.id, at(30))
            .await
            .unwrap(),
        2,
        "h3 and h4; the others were"
    );
    assert_eq!(
        refresh_tokens::revoke_user(&mut tx, ada.id, at(31))
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    assert_eq!(token_state(&db, "h2").await, (None, Some(stored(at(20)))));
    assert_eq!(token_state(&db, "h3").await, (None, Some(stored(at(30)))));
    assert_eq!(token_state(&db, "h5").await, (None, None), "Bob's");

    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        refresh_tokens::delete_expired(&mut tx, at(60))
            .await
            .unwrap(),
        1
    );
    assert_eq!(refresh_tokens::owner(&mut tx, "h4").await.unwrap(), None);
    assert_eq!(
        refresh_tokens::owner(&mut tx, "h1").await.unwrap(),
        Some((ada.id, login))
    );
    assert_eq!(
        refresh_tokens::spend(&mut tx, "h5", at(60)).await.unwrap(),
        Some((bob.id, tokens[4].family_id))
    );
    tx.commit().await.unwrap();
    let (left,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM refresh_tokens", params![])
        .await
        .unwrap();
    assert_eq!(left, 4);
}
backend_test!(
    refresh_tokens_spent_and_revoked,
    refresh_tokens_spend_once_and_revoke
);

/// A reset link's raw `used_at`.
async fn used_at(db: &Db, hash: &str) -> Option<OffsetDateTime> {
    let (at,): (Option<OffsetDateTime>,) = db
        .fetch_one(
            "SELECT used_at FROM password_resets WHERE token_hash = $1",
            params![hash],
        )
        .await
        .unwrap();
    at
}

async fn password_resets_are_used_once(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let db = open(&backend, dir.path()).await;
    let ada = user("ada@example.com", "Ada", Role::Customer, at(0));
    let bob = user("bob@example.com", "Bob", Role::Customer, at(0));
    insert_users(&db, &[(&ada, "h"), (&bob, "h")]).await;
    let reset = |user_id, token_hash, expires: i64| NewReset {
        id: Uuid::now_v7(),
        user_id,
        token_hash,
        created_at: at(0),
        expires_at: at(expires),
    };
    let mut tx = db.begin().await.unwrap();
    for link in [
        reset(Some(ada.id), "r1", 3600),
        reset(Some(ada.id), "r2", 3600),
        reset(None, "r3", 3600),
        reset(Some(ada.id), "r4", 5),
        reset(Some(bob.id), "r5", 3600),
    ] {
        password_resets::insert(&mut tx, &link).await.unwrap();
    }
    tx.commit().await.unwrap();
    let (user_id, expires): (Option<Uuid>, OffsetDateTime) = db
        .fetch_one(
            "SELECT user_id, expires_at FROM password_resets WHERE token_hash = $1",
            params!["r3"],
        )
        .await
        .unwrap();
    assert_eq!((user_id, expires), (None, stored(at(3600))));

    let mut tx = db.begin().await.unwrap();
    let duplicate = password_resets::insert(&mut tx, &reset(Some(bob.id), "r1", 60))
        .await
        .unwrap_err();
    assert!(duplicate.is_unique_violation(), "{duplicate}");
    tx.rollback().await.unwrap();

    assert_eq!(
        password_resets::usable(&db, "r1", at(10)).await.unwrap(),
        Some(ada.id)
    );
    assert_eq!(
        password_resets::usable(&db, "r3", at(10)).await.unwrap(),
        None,
        "for nobody"
    );
    assert_eq!(
        password_resets::usable(&db, "r4", at(10)).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        password_resets::usable(&db, "r4", at(4)).await.unwrap(),
        Some(ada.id),
        "before it expired"
    );
    assert_eq!(
        password_resets::usable(&db, "nope", at(10)).await.unwrap(),
        None
    );

    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        password_resets::spend(&mut tx, "r3", at(10)).await.unwrap(),
        None
    );
    assert_eq!(
        password_resets::spend(&mut tx, "r4", at(10)).await.unwrap(),
        None
    );
    assert_eq!(
        password_resets::spend(&mut tx, "r1", at(10)).await.unwrap(),
        Some(ada.id)
    );
    assert_eq!(
        password_resets::spend(&mut tx, "r1", at(11)).await.unwrap(),
        None,
        "used already"
    );
    assert_eq!(
        password_resets::spend_all(&mut tx, ada.id, at(12))
            .await
            .unwrap(),
        2,
        "r2 and the expired r4"
    );
    assert_eq!(
        password_resets::spend_all(&mut tx, ada.id, at(13))
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    assert_eq!(used_at(&db, "r1").await, Some(stored(at(10))));
    assert_eq!(used_at(&db, "r2").await, Some(stored(at(12))));
    assert_eq!(used_at(&db, "r3").await, None);
    assert_eq!(used_at(&db, "r5").await, None, "Bob's");
    assert_eq!(
        password_resets::usable(&db, "r2", at(14)).await.unwrap(),
        None
    );
    assert_eq!(
        password_resets::usable(&db, "r5", at(14)).await.unwrap(),
        Some(bob.id)
    );

    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        password_resets::delete_expired(&mut tx, at(60))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        password_resets::delete_expired(&mut tx, at(60))
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    let hashes: Vec<(String,)> = db
        .fetch_all(
            "SELECT token_hash FROM password_resets ORDER BY token_hash",
            params![],
        )
        .await
        .unwrap();
    let hashes: Vec<String> = hashes.into_iter().map(|(hash,)| hash).collect();
    assert_eq!(hashes, ["r1", "r2", "r3", "r5"]);
}
backend_test!(password_resets_used_once, password_resets_are_used_once);

/// A database of the release before native types, with rows as it wrote them (text ids,
/// instants in epoch milliseconds), is migrated and read back through the stores.
async fn a_database_of_the_previous_release_migrates_forward(backend: Backend) {
    let dir = ordo_testkit::temp_dir();
    let migrations = crate::migrations();
    let db = backend
        .open_previous_release(dir.path(), crate::NAME, migrations)
        .await;
    let millis = |secs| ordo_kernel::time::to_millis(at(secs));
    let (ada, shop) = (Uuid::now_v7(), Uuid::now_v7());
    let user_sql = "INSERT INTO users (id, email, password_hash, name, phone, role,
             email_verified_at, disabled_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    db.execute(
        user_sql,
        params![
            ada.to_string(),
            "ada@example.com",
            "$argon2id$ada",
            "Ada Lovelace",
            Some("+4915112345678"),
            "customer",
            Some(millis(1)),
            None::<i64>,
            millis(0),
            millis(2),
        ],
    )
    .await
    .unwrap();
    db.execute(
        user_sql,
        params![
            shop.to_string(),
            "shop@example.com",
            "$argon2id$shop",
            "Corner Shop",
            None::<String>,
            "merchant",
            None::<i64>,
            Some(millis(3)),
            millis(1),
            millis(3),
        ],
    )
    .await
    .unwrap();
    let (login, home) = (Uuid::now_v7(), Uuid::now_v7());
    for (hash, spent_at) in [("h1", None), ("h2", Some(millis(10)))] {
        db.execute(
            "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at,
                 expires_at, spent_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
            params![
                Uuid::now_v7().to_string(),
                login.to_string(),
                ada.to_string(),
                hash,
                millis(0),
                millis(3600),
                spent_at,
            ],
        )
        .await
        .unwrap();
    }
    db.execute(
        "INSERT INTO addresses (id, user_id, label, line1, line2, city, postal_code, country,
             lat, lon, created_at, updated_at)
         VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8, $9, $10, $11)",
        params![
            home.to_string(),
            ada.to_string(),
            "Home",
            "1 Rue de la Paix",
            "Paris",
            "75002",
            "FR",
            48.869_123,
            2.331_456,
            millis(4),
            millis(5),
        ],
    )
    .await
    .unwrap();
    for (user_id, hash) in [(Some(ada.to_string()), "r1"), (None, "r2")] {
        db.execute(
            "INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at, used_at)
             VALUES ($1, $2, $3, $4, $5, NULL)",
            params![
                Uuid::now_v7().to_string(),
                user_id,
                hash,
                millis(0),
                millis(3600)
            ],
        )
        .await
        .unwrap();
    }

    db.migrate(migrations).await.unwrap();

    let ada_read = User {
        id: ada,
        email: "ada@example.com".into(),
        name: "Ada Lovelace".into(),
        phone: Some("+4915112345678".into()),
        role: Role::Customer,
        email_verified: true,
        disabled: false,
        created_at: stored(at(0)),
        updated_at: stored(at(2)),
    };
    assert_eq!(users::find(&db, ada).await.unwrap(), Some(ada_read.clone()));
    assert_eq!(
        users::find_credentials(&db, "ada@example.com")
            .await
            .unwrap(),
        Some((ada_read, "$argon2id$ada".to_owned()))
    );
    let shop_read = users::find(&db, shop).await.unwrap().unwrap();
    assert_eq!(
        (shop_read.role, shop_read.email_verified, shop_read.disabled),
        (Role::Merchant, false, true)
    );
    assert_eq!(disabled_at(&db, shop).await, Some(stored(at(3))));
    let everyone = users::list(
        &db,
        None,
        PageRequest {
            limit: 10,
            after: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        everyone.iter().map(|u| u.id).collect::<Vec<_>>(),
        [shop, ada],
        "ids keep their order"
    );

    assert_eq!(
        addresses::list(&db, ada).await.unwrap(),
        vec![Address {
            id: home,
            user_id: ada,
            label: Some("Home".into()),
            postal: PostalAddress {
                line1: "1 Rue de la Paix".into(),
                line2: None,
                city: "Paris".into(),
                postal_code: "75002".into(),
                country: "FR".into(),
                lat: 48.869_123,
                lon: 2.331_456,
            },
            created_at: stored(at(4)),
            updated_at: stored(at(5)),
        }]
    );

    assert_eq!(token_state(&db, "h2").await, (Some(stored(at(10))), None));
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        refresh_tokens::spend(&mut tx, "h1", at(20)).await.unwrap(),
        Some((ada, login)),
        "live until it expires"
    );
    assert_eq!(
        refresh_tokens::spend(&mut tx, "h2", at(20)).await.unwrap(),
        None,
        "spent before"
    );
    tx.commit().await.unwrap();

    assert_eq!(
        password_resets::usable(&db, "r1", at(10)).await.unwrap(),
        Some(ada)
    );
    assert_eq!(
        password_resets::usable(&db, "r1", at(3600)).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        password_resets::usable(&db, "r2", at(10)).await.unwrap(),
        None,
        "for nobody"
    );

    // The users' foreign keys hold again.
    let mut tx = db.begin().await.unwrap();
    let orphan = addresses::insert(&mut tx, &address(Uuid::now_v7(), None, None, 6)).await;
    assert!(orphan.is_err(), "an address of nobody");
    tx.rollback().await.unwrap();
}
backend_test!(
    previous_release_migrates_forward,
    a_database_of_the_previous_release_migrates_forward
);
