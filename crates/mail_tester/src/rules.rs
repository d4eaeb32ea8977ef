//! The one table of problems the checker reports: each code with its severity, whom it matters
//! for and what it costs out of 10, with the reason for the weight next to it.
//!
//! The weights follow what decides delivery at the large mailbox providers: missing or failing
//! authentication (DKIM, SPF, DMARC) sends mail to spam or gets it refused, so it costs most;
//! header and structure faults are signals that filters add up, so they cost about one point;
//! cosmetic signals cost a fraction. A message cannot score below 0.

use crate::{Audience, Severity};

/// A problem's fixed properties; the finding adds what was found and the fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    pub matters_for: Audience,
    pub penalty: f32,
}

const fn rule(code: &'static str, severity: Severity, penalty: f32) -> Rule {
    Rule {
        code,
        severity,
        matters_for: Audience::Application,
        penalty,
    }
}

const fn newsletters(code: &'static str, penalty: f32) -> Rule {
    Rule {
        code,
        severity: Severity::Info,
        matters_for: Audience::NewslettersOnly,
        penalty,
    }
}

use Severity::{Error, Warning};

// The message itself.
/// Nothing else can be judged, so nothing is left of the score.
pub(crate) const MESSAGE_UNREADABLE: Rule = rule("message_unreadable", Error, 10.0);
/// Providers cap message size (Gmail 25 MB including encoding overhead); big mail is slow and
/// often clipped.
pub(crate) const MESSAGE_TOO_LARGE: Rule = rule("message_too_large", Warning, 1.0);

// Authentication of the connection and the envelope.
/// An explicit "this server may not send for us" from the domain owner; refused or spam.
pub(crate) const SPF_FAIL: Rule = rule("spf_fail", Error, 2.0);
/// A broken record is treated like no record at best, and like a fail by some receivers.
pub(crate) const SPF_PERMERROR: Rule = rule("spf_permerror", Error, 2.0);
/// "Probably not authorised": a strong spam signal but rarely a refusal.
pub(crate) const SPF_SOFTFAIL: Rule = rule("spf_softfail", Warning, 1.0);
/// Gmail and Yahoo require SPF or DKIM for all senders and both for bulk senders.
pub(crate) const SPF_NONE: Rule = rule("spf_none", Warning, 1.0);
/// Neutral authorises nothing, so SPF cannot help DMARC pass.
pub(crate) const SPF_NEUTRAL: Rule = rule("spf_neutral", Warning, 0.5);
/// Passes on retry if the DNS recovers; receivers defer rather than reject.
pub(crate) const SPF_TEMPERROR: Rule = rule("spf_temperror", Warning, 0.5);
/// The HELO identity is checked by fewer receivers, and only a fail says anything.
pub(crate) const SPF_HELO_FAIL: Rule = rule("spf_helo_fail", Warning, 0.5);
/// Without a valid signature a message has no domain reputation and bulk senders are refused.
pub(crate) const DKIM_NONE: Rule = rule("dkim_none", Error, 3.0);
/// A failing signature is the same as none, plus the hint that something changed the message.
pub(crate) const DKIM_FAIL: Rule = rule("dkim_fail", Error, 3.0);
/// The key lookup may succeed later; receivers usually defer.
pub(crate) const DKIM_TEMPERROR: Rule = rule("dkim_temperror", Warning, 1.0);
/// Another signature verifies, so delivery is fine; the broken one only hints at a rewriting
/// relay or a stale key.
pub(crate) const DKIM_SIGNATURE_BROKEN: Rule = rule("dkim_signature_broken", Warning, 0.3);
/// The policy the domain owner asked for (quarantine or reject) applies to this message.
pub(crate) const DMARC_FAIL: Rule = rule("dmarc_fail", Error, 2.0);
/// Gmail and Yahoo require a DMARC record from bulk senders; without it spoofing is easy.
pub(crate) const DMARC_NONE: Rule = rule("dmarc_none", Warning, 1.0);
/// An unusable record counts as none, and the owner believes it is protected.
pub(crate) const DMARC_INVALID: Rule = rule("dmarc_invalid", Error, 1.0);
/// Passes on retry if the DNS recovers.
pub(crate) const DMARC_TEMPERROR: Rule = rule("dmarc_temperror", Warning, 0.5);
/// Many receivers distrust servers without reverse DNS, few refuse them outright.
pub(crate) const PTR_MISSING: Rule = rule("ptr_missing", Warning, 0.5);
/// A PTR that does not lead back to the address is as good as none.
pub(crate) const PTR_UNCONFIRMED: Rule = rule("ptr_unconfirmed", Warning, 0.5);
/// May resolve on retry; a small cost because the receiver sees the same failure.
pub(crate) const PTR_TEMPERROR: Rule = rule("ptr_temperror", Warning, 0.2);

// Headers.
/// Without one author DMARC cannot be evaluated and most receivers refuse the message.
pub(crate) const FROM_MISSING: Rule = rule("from_missing", Error, 3.0);
/// Several From fields or authors break DMARC; Gmail refuses such mail.
pub(crate) const FROM_INVALID: Rule = rule("from_invalid", Error, 2.0);
/// RFC 5322 requires Date; filters score its absence (SpamAssassin MISSING_DATE).
pub(crate) const DATE_MISSING: Rule = rule("date_missing", Error, 1.0);
/// An unreadable date is scored like a forged one.
pub(crate) const DATE_INVALID: Rule = rule("date_invalid", Warning, 0.5);
/// RFC 5322 says SHOULD; filters score its absence (SpamAssassin MISSING_MID) and Gmail
/// refuses some mail without it.
pub(crate) const MESSAGE_ID_MISSING: Rule = rule("message_id_missing", Warning, 1.0);
/// RFC 5322 allows at most one of these; duplicates are a known filter-evasion trick.
pub(crate) const HEADER_DUPLICATE: Rule = rule("header_duplicate", Error, 1.0);
/// Legal (Bcc-only), but a common spam trait.
pub(crate) const TO_MISSING: Rule = rule("to_missing", Warning, 0.5);
/// A common spam trait, and the recipient cannot tell what the mail is about.
pub(crate) const SUBJECT_MISSING: Rule = rule("subject_missing", Warning, 0.5);

// Content.
/// HTML without a text alternative is a classic spam trait (SpamAssassin MIME_HTML_ONLY).
pub(crate) const HTML_ONLY: Rule = rule("html_only", Warning, 1.0);
/// Image-heavy mail with little text is how spam hides its words from filters.
pub(crate) const HTML_LITTLE_TEXT: Rule = rule("html_little_text", Warning, 1.0);
/// Mostly an accessibility fault; filters only weigh it slightly.
pub(crate) const IMAGE_WITHOUT_ALT: Rule = rule("image_without_alt", Warning, 0.3);
/// Showing one host and linking to another is what phishing does; filters score it.
pub(crate) const LINK_TEXT_MISMATCH: Rule = rule("link_text_mismatch", Warning, 1.0);

// Newsletters: these cost nothing for application mail (one recipient, expected by them).
/// Gmail and Yahoo require an unsubscribe link from bulk senders.
pub(crate) const LIST_UNSUBSCRIBE_MISSING: Rule = newsletters("list_unsubscribe_missing", 1.0);
/// The same rules ask for one-click unsubscription (RFC 8058).
pub(crate) const LIST_UNSUBSCRIBE_ONE_CLICK_MISSING: Rule =
    newsletters("list_unsubscribe_one_click_missing", 0.5);

// The spam filter, when the operator runs SpamAssassin.
/// SpamAssassin says spam: receivers running it, or filters like it, file the message as spam.
pub(crate) const SPAM_FILTER_SPAM: Rule = rule("spam_filter_spam", Error, 3.0);
/// Below the threshold but more than half way: each rule that hit is a signal to remove.
pub(crate) const SPAM_FILTER_HIGH: Rule = rule("spam_filter_high", Warning, 1.0);
/// The filter could not be asked; the report says so and costs nothing.
pub(crate) const SPAM_FILTER_UNAVAILABLE: Rule =
    rule("spam_filter_unavailable", Severity::Info, 0.0);
