//! Signatures as the Standard Webhooks specification defines them: the secret is `whsec_`
//! followed by the base64 of its bytes; the signed content is `{id}.{timestamp}.{body}`; the
//! signature is `v1,` and the base64 of its HMAC-SHA256. Several signatures (a rotation) are
//! sent space-separated in one `webhook-signature` header.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const PREFIX: &str = "whsec_";

/// A signing secret. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret starts with whsec_ followed by base64")]
    Format,
    #[error("a webhook secret has 24 to 64 bytes")]
    Length,
}

impl Secret {
    /// A new secret of 32 random bytes.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system's random source works");
        Self(bytes)
    }

    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix(PREFIX).ok_or(SecretError::Format)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SecretError::Format)?;
        match bytes.len() {
            24..=64 => Ok(Self(bytes)),
            _ => Err(SecretError::Length),
        }
    }

    /// The form given to the tenant once, and sealed for storage.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Secret(..)")
    }
}

/// The `webhook-signature` value for one message, one `v1,` signature per secret.
pub fn sign(secrets: &[&Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    secrets
        .iter()
        .map(|secret| {
            let key = hmac::Key::new(hmac::HMAC_SHA256, &secret.0);
            format!("v1,{}", STANDARD.encode(hmac::sign(&key, &content)))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn the_specification_example_signs_as_published() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(
            &[&secret],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let secret = Secret::generate();
        assert_eq!(Secret::parse(&secret.expose()).unwrap(), secret);
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::Format)
        );
        assert_eq!(Secret::parse("whsec_!!"), Err(SecretError::Format));
        assert_eq!(Secret::parse("whsec_AAAA"), Err(SecretError::Length));
        assert!(!format!("{secret:?}").contains(&secret.expose()[6..]));
    }

    #[test]
    fn a_rotation_sends_both_signatures() {
        let (old, new) = (Secret::generate(), Secret::generate());
        let both = sign(&[&new, &old], "msg_1", 1, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&[&new], "msg_1", 1, b"{}"));
        assert_eq!(parts[1], sign(&[&old], "msg_1", 1, b"{}"));
    }
}
