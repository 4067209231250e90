//! Payments as other services call it in process (`ordo_contracts::payments`).

use super::Payments;
use crate::store;
use ordo_contracts::payments::PaymentsClient;
use ordo_contracts::{ClientError, ClientFuture};
use uuid::Uuid;

impl PaymentsClient for Payments {
    fn owns_method(&self, customer_id: Uuid, method_id: Uuid) -> ClientFuture<'_, bool> {
        Box::pin(async move {
            let method = store::method_of(&self.db, customer_id, method_id)
                .await
                .map_err(|error| ClientError::failed(crate::NAME, error.is_unavailable(), error))?;
            Ok(method.is_some())
        })
    }
}
