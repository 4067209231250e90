//! Delivery as other services call it in process (`ordo_contracts::delivery`).

use super::Delivery;
use crate::domain::{DeliveryStatus, eta_secs};
use crate::store;
use ordo_contracts::delivery::{AT_PICKUP_KM, DeliveryClient, Position, ToPickup, Tracking};
use ordo_contracts::{ClientError, ClientFuture};
use ordo_kernel::geo::distance_km;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

impl DeliveryClient for Delivery {
    fn tracking(&self, order_id: Uuid) -> ClientFuture<'_, Option<Tracking>> {
        Box::pin(async move {
            let failed = |error: &(dyn std::error::Error + 'static)| {
                ClientError::failed(crate::NAME, ordo_db::caused_by_unavailable(error), error)
            };
            let Some(delivery) = store::delivery_for_order(&self.db, order_id)
                .await
                .map_err(|e| failed(&e))?
            else {
                return Ok(None);
            };
            let fleet = self.fleet().await.map_err(|e| failed(&e))?;
            let carrying = matches!(
                delivery.status,
                DeliveryStatus::Assigned | DeliveryStatus::PickedUp
            );
            if let Some(courier) = delivery.courier_id.filter(|_| carrying) {
                self.followers.carried_by(order_id, courier);
            }
            let carrier = match delivery.courier_id.filter(|_| carrying) {
                Some(courier) => fleet.get(courier).await.map_err(|e| failed(&e))?,
                None => None,
            };
            let fix = carrier.and_then(|courier| courier.fix);
            let speed = self.config.courier_speed_kmh;
            let position = fix.map(|fix| {
                let here = (fix.lat, fix.lon);
                let drop_off = (delivery.drop_off.lat, delivery.drop_off.lon);
                // Before the pickup, the way runs through the merchant.
                let to_pickup = (delivery.status == DeliveryStatus::Assigned).then(|| {
                    let km = distance_km(here, (delivery.pickup.lat, delivery.pickup.lon));
                    ToPickup {
                        distance_km: km,
                        eta_secs: eta_secs(km, speed),
                        arrived: km <= AT_PICKUP_KM,
                    }
                });
                let km = to_pickup.map_or_else(
                    || distance_km(here, drop_off),
                    |way| way.distance_km + delivery.distance_km(),
                );
                Position {
                    lat: fix.lat,
                    lon: fix.lon,
                    located_at: fix.at,
                    eta_secs: eta_secs(km, speed),
                    to_pickup,
                }
            });
            let courier_name = match delivery.courier_id.filter(|_| carrying) {
                Some(courier) => self.name_of(courier).await,
                None => None,
            };
            Ok(Some(Tracking {
                status: delivery.status.as_str().to_owned(),
                courier_id: delivery.courier_id,
                courier_name,
                position,
            }))
        })
    }

    fn changes(&self, order_id: Uuid) -> Arc<Notify> {
        self.followers.of(order_id)
    }
}
