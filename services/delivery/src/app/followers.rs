//! Waking the streams that follow an order's delivery (orders' `GET /orders/{id}/track`):
//! when the delivery opens, steps or changes hands, once that has committed, and when the
//! courier carrying it reports a position. Echoed through the bus, so that the streams of
//! an orders process apart from delivery are woken too (`RemoteDelivery` hears them).

use ordo_kit::Wakeups;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use uuid::Uuid;

/// How long an order stays followed after its tracking was last asked for, here or from
/// another process: its courier's positions wake it that long. An open stream asks again
/// every time it is woken, so it stays followed for as long as it is open.
const FOLLOWED_FOR: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
pub(crate) struct Followers {
    /// Per order.
    orders: Arc<Wakeups>,
    /// The orders each courier was last found carrying by `tracking`, and when it was
    /// asked: whom a position report wakes. A courier who no longer carries an order at
    /// worst wakes its streams once more, for nothing.
    carried: Mutex<HashMap<Uuid, Vec<(Uuid, Instant)>>>,
}

impl Followers {
    /// The wake-up of the streams following `order` in this process.
    pub(crate) fn of(&self, order: Uuid) -> Arc<Notify> {
        self.orders.of(order)
    }

    /// Wakes the followers' streams in every process that echoes delivery's wake-ups.
    pub(crate) fn echo_through(&self, echoes: &ordo_bus::Echoes) {
        self.orders.echo_through(crate::NAME, echoes);
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

    /// `courier` carries `order`, whose tracking was just asked for: their positions wake
    /// its streams for a while.
    pub(crate) fn carried_by(&self, order: Uuid, courier: Uuid) {
        self.carried_by_at(order, courier, Instant::now());
    }

    fn carried_by_at(&self, order: Uuid, courier: Uuid, now: Instant) {
        let mut carried = self.carried.lock().unwrap_or_else(PoisonError::into_inner);
        // Couriers whose followers all left keep entries; sweep them as the map grows.
        if carried.len() >= 64 && carried.len().is_power_of_two() {
            carried.retain(|_, orders| orders.iter().any(|(_, at)| followed(*at, now)));
        }
        let orders = carried.entry(courier).or_default();
        orders.retain(|(id, at)| *id != order && followed(*at, now));
        orders.push((order, now));
    }

    /// `courier` reported where they are.
    pub(crate) fn located(&self, courier: Uuid) {
        self.located_at(courier, Instant::now());
    }

    fn located_at(&self, courier: Uuid, now: Instant) {
        let woken: Vec<Uuid> = {
            let mut carried = self.carried.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(orders) = carried.get_mut(&courier) else {
                return;
            };
            orders.retain(|(_, at)| followed(*at, now));
            let woken = orders.iter().map(|(order, _)| *order).collect();
            if orders.is_empty() {
                carried.remove(&courier);
            }
            woken
        };
        for order in woken {
            self.orders.wake(order);
        }
    }
}

fn followed(asked: Instant, now: Instant) -> bool {
    now.saturating_duration_since(asked) < FOLLOWED_FOR
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
        let asked = Instant::now();
        followers.carried_by_at(order, courier, asked);
        followers.carried_by_at(order, courier, asked);
        assert!(woken(&stream, || followers.located_at(courier, asked)).await);
        assert!(!woken(&other_stream, || followers.located_at(courier, asked)).await);
        assert!(!woken(&stream, || followers.located_at(stranger, asked)).await);

        let later = asked + FOLLOWED_FOR;
        assert!(
            !woken(&stream, || followers.located_at(courier, later)).await,
            "no longer followed"
        );
        assert!(
            followers.carried.lock().unwrap().is_empty(),
            "forgotten once nobody asked for a while"
        );
    }
}
