//! Key records already read, keyed by their text: a warm verification neither decodes `p=`
//! again nor parses the key's DER, it takes the ready verifying key. Keying by the record text
//! (not by the DNS name) means a rotated or changed record is simply a new entry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_lc_rs::signature::{
    ED25519, ParsedPublicKey, RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
};

use crate::record::{KeyRecord, PublicKey, RecordError, fingerprint};

/// How many records a cache keeps unless told otherwise: far more selectors than one server
/// meets in a day, at a few kilobytes each.
const DEFAULT_CAPACITY: usize = 4096;

/// What one record text gave, computed once. The texts a report shows are shared with every
/// report that uses the record rather than copied into each.
pub(crate) struct CachedRecord {
    /// The record as published.
    pub(crate) text: Arc<str>,
    pub(crate) record: Result<KeyRecord, RecordError>,
    /// The record's `k=`; empty when the record did not parse.
    pub(crate) key_type: Arc<str>,
    /// The key parsed for the verifier; `None` when revoked, unparseable or refused by the
    /// crypto library (the checks on the record report why).
    pub(crate) verifying_key: Option<ParsedPublicKey>,
    pub(crate) fingerprint: Option<Arc<str>>,
}

/// Parsed key records shared by verifications (on any thread). Bounded: when full it starts
/// afresh, which costs one parse per record and needs no bookkeeping of use.
pub struct KeyCache {
    entries: Mutex<Entries>,
    capacity: usize,
}

/// The records, and the one found last. Mail comes in runs from one signer, and comparing a
/// record with the last one is cheaper than hashing its few hundred bytes to find it.
#[derive(Default)]
struct Entries {
    records: HashMap<Arc<str>, Arc<CachedRecord>>,
    last: Option<(Arc<str>, Arc<CachedRecord>)>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KeyCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl KeyCache {
    /// A cache that holds at most `capacity` records (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            capacity: capacity.max(1),
        }
    }

    /// The parsed form of `text`, from the cache or parsed now and kept.
    pub(crate) fn get(&self, text: &str) -> Arc<CachedRecord> {
        {
            let mut entries = self.lock();
            if let Some((last_text, cached)) = &entries.last
                && **last_text == *text
            {
                return Arc::clone(cached);
            }
            if let Some((found_text, cached)) = entries.records.get_key_value(text) {
                let cached = Arc::clone(cached);
                entries.last = Some((Arc::clone(found_text), Arc::clone(&cached)));
                return cached;
            }
        }
        // Parsed outside the lock, so one slow parse does not hold up other verifications.
        let text: Arc<str> = Arc::from(text);
        let cached = Arc::new(parse(Arc::clone(&text)));
        let mut entries = self.lock();
        if entries.records.len() >= self.capacity {
            entries.records.clear();
        }
        entries
            .records
            .insert(Arc::clone(&text), Arc::clone(&cached));
        entries.last = Some((text, Arc::clone(&cached)));
        cached
    }

    /// How many records the cache holds.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic elsewhere cannot leave a half-written entry: inserts are single calls.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn parse(text: Arc<str>) -> CachedRecord {
    let record = KeyRecord::parse(&text);
    let public_key = record
        .as_ref()
        .ok()
        .and_then(|record| record.public_key.as_ref());
    let verifying_key = public_key.and_then(|key| match key {
        PublicKey::Rsa { der, .. } => {
            ParsedPublicKey::new(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, der).ok()
        }
        PublicKey::Ed25519 { raw } => ParsedPublicKey::new(&ED25519, raw).ok(),
    });
    let fingerprint = public_key.and_then(|_| {
        use base64::Engine as _;
        let base64_key = &record.as_ref().ok()?.public_key_base64;
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64_key.as_bytes())
            .ok()?;
        Some(Arc::from(fingerprint(&der)))
    });
    let key_type = Arc::from(
        record
            .as_ref()
            .map_or("", |record| record.key_type.as_str()),
    );
    CachedRecord {
        text,
        record,
        key_type,
        verifying_key,
        fingerprint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record of the 2048-bit test key that the vault's tests use too.
    fn published_record() -> String {
        let pem = include_str!("../../../vault/resources/keys/rsa2048-pkcs8.pem");
        let vault = sealpost_vault::Vault::new(sealpost_vault::MasterKey::generate());
        let key = vault.import(pem, None).unwrap();
        sealpost_domain::dkim_txt_value(&key.public_key_der())
    }

    #[test]
    fn parses_a_record_once() {
        let cache = KeyCache::default();
        let record = published_record();
        let first = cache.get(&record);
        let second = cache.get(&record);
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(cache.len(), 1);
        assert!(first.record.is_ok());
        assert!(first.verifying_key.is_some());
        assert_eq!(first.fingerprint.as_deref().map(str::len), Some(32));
        assert_eq!(*first.text, *record);
        assert_eq!(&*first.key_type, "rsa");
    }

    #[test]
    fn keeps_refusals_and_revocations_without_a_key() {
        let cache = KeyCache::default();
        assert_eq!(
            cache.get("v=DKIM1; p=!!!").record.as_ref().unwrap_err(),
            &RecordError::KeyBase64
        );
        let revoked = cache.get("v=DKIM1; p=");
        assert!(revoked.record.is_ok());
        assert!(revoked.verifying_key.is_none());
        assert!(revoked.fingerprint.is_none());
        assert_eq!(&*cache.get("v=DKIM1; p=!!!").key_type, "");
    }

    /// Each record is found again, whichever was asked for last.
    #[test]
    fn finds_each_record_between_others() {
        let cache = KeyCache::default();
        let (revoked, testing) = ("v=DKIM1; p=", "v=DKIM1; t=y; p=");
        let first = cache.get(revoked);
        let other = cache.get(testing);
        assert!(Arc::ptr_eq(&cache.get(revoked), &first));
        assert!(Arc::ptr_eq(&cache.get(revoked), &first));
        assert!(Arc::ptr_eq(&cache.get(testing), &other));
        assert!(other.record.as_ref().unwrap().testing);
        assert!(!first.record.as_ref().unwrap().testing);
        assert_eq!(cache.len(), 2);
    }

    /// A record dropped when the cache started afresh is parsed again.
    #[test]
    fn a_record_dropped_at_a_fresh_start_is_parsed_again() {
        let cache = KeyCache::with_capacity(1);
        let first = cache.get("v=DKIM1; p=");
        cache.get("v=DKIM1; t=y; p=");
        let again = cache.get("v=DKIM1; p=");
        assert!(!Arc::ptr_eq(&first, &again));
        assert!(!again.record.as_ref().unwrap().testing);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn stays_within_its_capacity() {
        let cache = KeyCache::with_capacity(2);
        cache.get("v=DKIM1; p=");
        cache.get("v=DKIM1; t=y; p=");
        assert_eq!(cache.len(), 2);
        cache.get("v=DKIM1; t=s; p=");
        assert_eq!(cache.len(), 1);
    }
}
