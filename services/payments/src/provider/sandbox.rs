//! The sandbox: a processor's test mode, offline. The well-known test card numbers decide
//! the outcome — 4242424242424242 succeeds, 4000000000000002 is declined,
//! 4000000000009995 has insufficient funds, 4000000000000341 is authorised but fails at
//! capture; any other number with a valid checksum succeeds. The outcome travels in the
//! token, so the sandbox keeps no state and survives restarts.

use super::{Authorization, Capture, PaymentProvider, ProviderFuture, Tokenized};
use crate::domain::{CardDetails, brand};
use ordo_kernel::Money;

#[derive(Debug, Default, Clone, Copy)]
pub struct Sandbox;

fn outcome(number: &str) -> &'static str {
    match number {
        "4000000000000002" => "declined",
        "4000000000009995" => "insufficient",
        "4000000000000341" => "capturefails",
        _ => "ok",
    }
}

fn digest(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn tokenize<'a>(&'a self, card: &'a CardDetails) -> ProviderFuture<'a, Tokenized> {
        Box::pin(async move {
            Ok(Tokenized {
                token: format!(
                    "tok_sandbox_{}_{}",
                    outcome(&card.number),
                    ordo_kernel::new_id().simple()
                ),
                brand: brand(&card.number).to_owned(),
                last4: card.last4(),
            })
        })
    }

    fn authorize<'a>(
        &'a self,
        token: &'a str,
        _amount: &'a Money,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, Authorization> {
        Box::pin(async move {
            let kind = token
                .strip_prefix("tok_sandbox_")
                .and_then(|rest| rest.split('_').next());
            Ok(match kind {
                Some("declined") => Authorization::Declined {
                    code: "card_declined".into(),
                },
                Some("insufficient") => Authorization::Declined {
                    code: "insufficient_funds".into(),
                },
                // The reference carries what capturing it will do.
                Some(kind @ ("ok" | "capturefails")) => Authorization::Approved {
                    reference: format!("auth_sandbox_{kind}_{}", digest(idempotency_key)),
                },
                _ => Authorization::Declined {
                    code: "invalid_token".into(),
                },
            })
        })
    }

    fn capture<'a>(
        &'a self,
        reference: &'a str,
        _amount: &'a Money,
        _idempotency_key: &'a str,
    ) -> ProviderFuture<'a, Capture> {
        Box::pin(async move {
            Ok(if reference.starts_with("auth_sandbox_capturefails_") {
                Capture::Failed {
                    code: "capture_declined".into(),
                }
            } else {
                Capture::Captured
            })
        })
    }

    fn refund<'a>(
        &'a self,
        _reference: &'a str,
        _amount: &'a Money,
        _idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn void<'a>(
        &'a self,
        _reference: &'a str,
        _idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn authorize(number: &str) -> Authorization {
        let card = CardDetails {
            number: number.into(),
            exp_month: 1,
            exp_year: 2030,
            cvc: "123".into(),
        };
        let token = Sandbox.tokenize(&card).await.unwrap().token;
        let amount = Money {
            amount: 100,
            currency: "EUR".into(),
        };
        Sandbox
            .authorize(&token, &amount, "pay:order-1")
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn test_cards_decide_the_outcome() {
        assert!(matches!(
            authorize("4242424242424242").await,
            Authorization::Approved { .. }
        ));
        assert!(matches!(
            authorize("5555555555554444").await,
            Authorization::Approved { .. }
        ));
        assert_eq!(
            authorize("4000000000000002").await,
            Authorization::Declined {
                code: "card_declined".into()
            }
        );
        assert_eq!(
            authorize("4000000000009995").await,
            Authorization::Declined {
                code: "insufficient_funds".into()
            }
        );
        assert!(matches!(
            authorize("4000000000000341").await,
            Authorization::Approved { .. }
        ));
    }

    #[tokio::test]
    async fn capture_fails_only_for_its_test_card() {
        let amount = Money {
            amount: 100,
            currency: "EUR".into(),
        };
        for (number, expected) in [("4242424242424242", true), ("4000000000000341", false)] {
            let Authorization::Approved { reference } = authorize(number).await else {
                panic!("{number} is authorised")
            };
            let captured = Sandbox
                .capture(&reference, &amount, "capture:order-1")
                .await
                .unwrap();
            assert_eq!(captured == Capture::Captured, expected, "{number}");
        }
    }

    #[tokio::test]
    async fn the_same_key_gives_the_same_authorisation() {
        assert_eq!(
            authorize("4242424242424242").await,
            authorize("4242424242424242").await
        );
    }
}
