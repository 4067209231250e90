//! Identity's storage: users, refresh tokens, password-reset links and addresses in its own
//! database, and the token-signing keys in a file under the data dir.

pub mod addresses;
pub mod keyring;
pub mod password_resets;
pub mod refresh_tokens;
pub mod users;

#[cfg(test)]
mod tests;
