//! Identity as other services call it in process (`ordo_contracts::identity`).

use super::Identity;
use crate::store::{addresses, users};
use ordo_contracts::identity::{Contact, IdentityClient};
use ordo_contracts::{ClientError, ClientFuture, MAX_FOUND};
use ordo_kernel::PostalAddress;
use uuid::Uuid;

fn unavailable(error: &ordo_db::Error) -> ClientError {
    ClientError::failed(crate::NAME, error.is_unavailable(), error)
}

impl IdentityClient for Identity {
    fn contact(&self, user_id: Uuid) -> ClientFuture<'_, Option<Contact>> {
        Box::pin(async move {
            let user = users::find(&self.db, user_id)
                .await
                .map_err(|e| unavailable(&e))?;
            Ok(user.filter(|u| !u.disabled).map(|u| Contact {
                email: u.email,
                name: u.name,
                phone: u.phone,
            }))
        })
    }

    fn address(&self, user_id: Uuid, address_id: Uuid) -> ClientFuture<'_, Option<PostalAddress>> {
        Box::pin(async move {
            let found = addresses::find(&self.db, user_id, address_id)
                .await
                .map_err(|e| unavailable(&e))?;
            Ok(found.map(|a| a.postal))
        })
    }

    fn administrators(&self) -> ClientFuture<'_, Vec<Uuid>> {
        Box::pin(async move {
            users::administrators(&self.db)
                .await
                .map_err(|e| unavailable(&e))
        })
    }

    fn find_users<'a>(&'a self, query: &'a str, limit: usize) -> ClientFuture<'a, Vec<Uuid>> {
        Box::pin(async move {
            let query = query.trim();
            let limit = i64::try_from(limit.min(MAX_FOUND)).unwrap_or(0);
            users::find_by_email_or_name(
                &self.db,
                &query.to_lowercase(),
                &ordo_db::sql::contains(query),
                limit,
            )
            .await
            .map_err(|e| unavailable(&e))
        })
    }
}
