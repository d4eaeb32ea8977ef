//! DKIM for Sealpost (SPEC S4, S5.5): preparing a message for signing, signing it in exactly
//! the promised form, and verifying any message's signatures with the precise cause of each
//! failure. Sans-IO: verification asks its caller for key records instead of querying DNS, and
//! every function that needs the time takes it as an argument.

mod address;
mod canonicalize;
mod lookup;
mod message;
mod prepare;
mod record;
mod result;
mod scan;
mod sign;
mod signature;
mod tags;
mod verify;

pub use address::{AddressError, Mailbox, from_mailbox};
pub use canonicalize::Canonicalization;
pub use lookup::verify_with_dns;
pub use message::{HeaderField, MessageError, ParsedMessage, normalize_line_endings};
pub use prepare::{Prepared, prepare, rfc5322_date};
pub use record::{KeyRecord, PublicKey, RecordError, fingerprint};
pub use result::{Cause, DkimResult, Warning};
pub use sign::{SIGNED_HEADERS, SignError, Signer, sign_owned_with, signature_fields};
pub use signature::Algorithm;
pub use verify::{
    KeyAnswer, KeyCache, KeyReport, Report, SignatureReport, SignatureTags, Verifier,
};
