//! The VERP local part of a return-path address: `b-<recipient id>-<tag>`, where the tag is the
//! first 8 bytes of an HMAC-SHA256 over the tenant and the recipient under a key derived from
//! the master key. A bounce to such an address names its recipient; an address made up by
//! anyone else, or moved to another tenant's return-path domain, does not verify.

use sealpost_domain::{RecipientId, TenantId, Uuid};
use sealpost_vault::Authenticator;

/// The purpose the key is derived for; a new version makes every older address invalid.
pub(crate) const PURPOSE: &str = "sealpost/return-path/v1";

/// Bytes of the tag in the address: 64 bits, so a guess succeeds once in 2^64 tries.
const TAG_BYTES: usize = 8;

fn signed_value(tenant: TenantId, recipient: RecipientId) -> [u8; 32] {
    let mut value = [0u8; 32];
    value[..16].copy_from_slice(tenant.as_uuid().as_bytes());
    value[16..].copy_from_slice(recipient.as_uuid().as_bytes());
    value
}

/// The local part for a recipient of the tenant (51 characters, lowercase).
pub(crate) fn local_part(key: &Authenticator, tenant: TenantId, recipient: RecipientId) -> String {
    let tag = key.tag(&signed_value(tenant, recipient));
    format!(
        "b-{}-{}",
        recipient.as_uuid().simple(),
        hex::encode(&tag[..TAG_BYTES])
    )
}

/// The recipient a local part names, when its tag is the tenant's; `None` for anything else.
/// Case is ignored, since some servers change the case of the address they bounce to.
pub(crate) fn recipient(key: &Authenticator, tenant: TenantId, local: &str) -> Option<RecipientId> {
    let local = local.to_ascii_lowercase();
    let rest = local.strip_prefix("b-")?;
    let (id, tag) = rest.split_once('-')?;
    if id.len() != 32 || tag.len() != 2 * TAG_BYTES {
        return None;
    }
    let recipient = RecipientId::from(Uuid::try_parse(id).ok()?);
    let tag = hex::decode(tag).ok()?;
    key.verify_prefix(&signed_value(tenant, recipient), &tag)
        .then_some(recipient)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_vault::{MasterKey, Vault};

    fn ids() -> (TenantId, RecipientId) {
        (
            TenantId::from(Uuid::from_u128(1)),
            RecipientId::from(Uuid::from_u128(0xabcdef)),
        )
    }

    #[test]
    fn an_address_names_its_recipient_and_nothing_forged_verifies() {
        let vault = Vault::new(MasterKey::generate());
        let key = vault.authenticator(PURPOSE);
        let (tenant, recipient_id) = ids();
        let local = local_part(&key, tenant, recipient_id);
        assert_eq!(local.len(), 51);
        assert!(
            local.starts_with("b-00000000000000000000000000abcdef-"),
            "{local}"
        );
        assert_eq!(recipient(&key, tenant, &local), Some(recipient_id));
        assert_eq!(
            recipient(&key, tenant, &local.to_ascii_uppercase()),
            Some(recipient_id)
        );

        // Another tenant's domain, another master key, another recipient with this tag, a
        // changed tag, or a malformed part: none verifies.
        let other_tenant = TenantId::from(Uuid::from_u128(2));
        assert_eq!(recipient(&key, other_tenant, &local), None);
        let other_vault = Vault::new(MasterKey::generate());
        assert_eq!(
            recipient(&other_vault.authenticator(PURPOSE), tenant, &local),
            None
        );
        let tag = local.rsplit_once('-').unwrap().1;
        let moved = format!("b-{}-{tag}", Uuid::from_u128(0xabcdee).simple());
        assert_eq!(recipient(&key, tenant, &moved), None);
        let mut changed = local.clone();
        let last = if changed.ends_with('0') { "1" } else { "0" };
        changed.replace_range(changed.len() - 1.., last);
        assert_eq!(recipient(&key, tenant, &changed), None);
        for malformed in [
            "",
            "b-",
            "b--",
            "postmaster",
            &local[..40],
            &format!("{local}0"),
        ] {
            assert_eq!(recipient(&key, tenant, malformed), None, "{malformed}");
        }
    }
}
