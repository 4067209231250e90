//! Identity as other services call it in process (`ordo_contracts::identity`).

use super::Identity;
use crate::store::addresses;
use ordo_contracts::identity::{AddressSnapshot, IdentityClient};
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

impl IdentityClient for Identity {
    fn address(
        &self,
        user_id: Uuid,
        address_id: Uuid,
    ) -> ClientFuture<'_, Option<AddressSnapshot>> {
        Box::pin(async move {
            let found = addresses::find(self.db.reader(), user_id, address_id)
                .await
                .map_err(|e| ClientError::Unavailable {
                    service: crate::NAME,
                    detail: e.to_string(),
                })?;
            Ok(found.map(|a| AddressSnapshot {
                line1: a.line1,
                line2: a.line2,
                city: a.city,
                postal_code: a.postal_code,
                country: a.country,
                lat: a.lat,
                lon: a.lon,
            }))
        })
    }
}
