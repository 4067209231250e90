//! Waking the streams that follow an order's delivery (orders' `GET /orders/{id}/track`):
//! when the delivery opens, steps or changes hands, once that has committed, and when the
//! courier carrying it reports a position. Streams of this process only: like the fleet,
//! delivery runs as one instance.

use ordo_kit::Wakeups;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use tokio::sync::Notify;
use uuid::Uuid;

/// A followed order and its streams' wake-up, alive while a stream is open.
type Followed = (Uuid, Weak<Notify>);

#[derive(Debug, Default)]
pub(crate) struct Followers {
    /// Per order.
    orders: Wakeups,
    /// The followed orders each courier was last found carrying (by `tracking`, which a
    /// stream asks after every change of hands): whom a position report wakes. A courier
    /// who no longer carries an order at worst wakes its stream once more, for nothing.
    carried: Mutex<HashMap<Uuid, Vec<Followed>>>,
}

impl Followers {
    /// The wake-up of the streams following `order`.
    pub(crate) fn of(&self, order: Uuid) -> Arc<Notify> {
        self.orders.of(order)
    }

    /// A transaction made here has committed a change to `order`'s delivery.
    pub(crate) fn changed(&self, order: Uuid) {
        self.orders.wake(order);
    }

    /// `event`'s handler changed `order`'s delivery; woken once it commits.
    pub(crate) fn changing(&self, event: Uuid, order: Uuid) {
        self.orders.touching(event, &[order]);
    }

    /// `events` have committed.
    pub(crate) fn committed(&self, events: &[Uuid]) {
        self.orders.committed(events);
    }

    /// `courier` carries `order`: their positions wake its streams while any is open.
    pub(crate) fn carried_by(&self, order: Uuid, courier: Uuid) {
        let notify = self.orders.of(order);
        let mut carried = self.carried.lock().unwrap_or_else(PoisonError::into_inner);
        // Couriers whose followers all left keep entries; sweep them as the map grows.
        if carried.len() >= 64 && carried.len().is_power_of_two() {
            carried.retain(|_, orders| orders.iter().any(|(_, n)| n.strong_count() > 0));
        }
        let orders = carried.entry(courier).or_default();
        orders.retain(|(id, n)| *id != order && n.strong_count() > 0);
        orders.push((order, Arc::downgrade(&notify)));
    }

    /// `courier` reported where they are.
    pub(crate) fn located(&self, courier: Uuid) {
        let mut carried = self.carried.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(orders) = carried.get_mut(&courier) else {
            return;
        };
        orders.retain(|(_, notify)| match notify.upgrade() {
            Some(notify) => {
                notify.notify_waiters();
                true
            }
            None => false,
        });
        if orders.is_empty() {
            carried.remove(&courier);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn woken(notify: &Notify, wake: impl FnOnce()) -> bool {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        wake();
        futures_util::FutureExt::now_or_never(notified).is_some()
    }

    #[tokio::test]
    async fn a_position_wakes_the_streams_of_the_orders_its_courier_carries() {
        let followers = Followers::default();
        let (order, other, courier, stranger) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let (stream, other_stream) = (followers.of(order), followers.of(other));
        assert!(
            !woken(&stream, || followers.located(courier)).await,
            "not known yet"
        );
        followers.carried_by(order, courier);
        followers.carried_by(order, courier);
        assert!(woken(&stream, || followers.located(courier)).await);
        assert!(!woken(&other_stream, || followers.located(courier)).await);
        assert!(!woken(&stream, || followers.located(stranger)).await);

        drop(stream);
        followers.located(courier);
        assert!(
            followers.carried.lock().unwrap().is_empty(),
            "forgotten once nobody follows"
        );
    }
}
