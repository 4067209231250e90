//! Signed webhooks, from the payment provider and from parcel carriers:
//! `Ordo-Signature: t={unix time},v1={hex HMAC-SHA256 of "{t}.{body}"}` under a shared
//! secret, and fresh — within five minutes of our clock — so that a captured request cannot
//! be replayed later.

use time::OffsetDateTime;

/// How far a signature's timestamp may be from our clock.
pub const TOLERANCE_SECS: i64 = 300;

/// Checks `header` against `body`.
///
/// # Errors
/// Why the signature is refused, in words for the 401.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), &'static str> {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signature = hex(value),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err("malformed Ordo-Signature header");
    };
    if (now.unix_timestamp() - timestamp).abs() > TOLERANCE_SECS {
        return Err("the signature is too old or from the future");
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    ring::hmac::verify(&key, &signed(timestamp, body), &signature)
        .map_err(|_| "the signature does not match")
}

/// The `Ordo-Signature` header for `body` sent at `at`: what a provider or carrier sends.
#[must_use]
pub fn sign(secret: &[u8], body: &[u8], at: OffsetDateTime) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let timestamp = at.unix_timestamp();
    let tag = ring::hmac::sign(&key, &signed(timestamp, body));
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

fn signed(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    signed
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_body_its_secret_and_five_minutes() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let header = sign(b"secret", b"{}", now);
        assert_eq!(verify(b"secret", &header, b"{}", now), Ok(()));
        assert!(verify(b"other", &header, b"{}", now).is_err());
        assert!(verify(b"secret", &header, b"{ }", now).is_err());
        let later = now + time::Duration::seconds(TOLERANCE_SECS + 1);
        assert!(verify(b"secret", &header, b"{}", later).is_err());
        for bad in ["", "t=1", "v1=00", "t=x,v1=zz"] {
            assert!(verify(b"secret", bad, b"{}", now).is_err(), "{bad}");
        }
    }
}
