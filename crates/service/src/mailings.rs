//! Contacts and mailings (SPEC S6): a sender contact whose domain must be an active signing
//! domain of the tenant, recipient contacts, a subject and a body; "Send message" turns the
//! mailing into one queued message per recipient contact, so that no recipient sees the
//! others' addresses, and each recipient's delivery state in its message is the mailing's
//! status.

use sealpost_dkim::Mailbox;
use std::collections::HashMap;

use sealpost_domain::{
    Contact, ContactId, Mailing, MailingId, MessageId, MessageSummary, Recipient, TenantId,
};
use sealpost_store::{DraftDeletion, MailingFilter, Page, PageRequest, StoreError};

use crate::compose::{Composition, compose};
use crate::submit::{MAX_RECIPIENTS, Submission, SubmitOptions};
use crate::text::one_line;
use crate::{Mailings, ServiceError};

/// A contact as typed into a form.
#[derive(Debug, Clone, Default)]
pub struct ContactForm {
    pub name: String,
    pub email: String,
}

/// A mailing as composed in a form.
#[derive(Debug, Clone, Default)]
pub struct MailingForm {
    pub sender: Option<ContactId>,
    pub recipients: Vec<ContactId>,
    pub subject: String,
    pub body: String,
}

/// A mailing with the queued messages it became (without their bodies): one per recipient
/// contact, whose recipient carries that contact's delivery status.
#[derive(Debug, Clone)]
pub struct MailingStatus {
    pub mailing: Mailing,
    /// Each recipient contact that has its queued message, in the mailing's order.
    pub messages: Vec<(ContactId, MessageSummary)>,
}

impl MailingStatus {
    /// The queued message that went to `contact`, once the mailing was sent.
    pub fn message_to(&self, contact: &Contact) -> Option<&MessageSummary> {
        self.messages
            .iter()
            .find(|(id, _)| *id == contact.id)
            .map(|(_, message)| message)
    }

    /// The delivery state of `contact` in its message. A mailing sent before mailings went out
    /// per recipient has one message for all, so the recipient is found by its address.
    pub fn delivery_to(&self, contact: &Contact) -> Option<&Recipient> {
        self.message_to(contact)?
            .recipients
            .iter()
            .find(|recipient| recipient.address.eq_ignore_ascii_case(&contact.email))
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

/// A contact id that names no contact of the tenant. The id is well formed; whether it names a
/// contact depends on the tenant's contacts at the moment, so this is a conflict with that state
/// (409), not a malformed request. It is not a 404, which this API keeps for the resource the
/// path names (the mailings collection exists).
fn missing_contact(field: &'static str) -> impl Fn(StoreError) -> ServiceError {
    move |error| match error {
        StoreError::NotFound => {
            ServiceError::Conflict(format!("{field}: no such contact of this tenant"))
        }
        other => other.into(),
    }
}

impl Mailings {
    pub async fn add_contact(
        &self,
        tenant: TenantId,
        form: ContactForm,
    ) -> Result<Contact, ServiceError> {
        let name = one_line("name", &form.name, 200)?;
        let email = Mailbox::parse(form.email.trim())
            .map_err(|error| invalid("email", error.to_string()))?;
        let contact = Contact {
            id: ContactId::new(&self.clock),
            tenant_id: tenant,
            name,
            email: email.to_string(),
            created_at: self.clock.now(),
        };
        self.store
            .insert_contact(&contact)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => ServiceError::NotFound("tenant"),
                other => other.into(),
            })?;
        Ok(contact)
    }

    pub async fn list_contacts(&self, tenant: TenantId) -> Result<Vec<Contact>, ServiceError> {
        Ok(self.store.list_contacts(tenant).await?)
    }

    /// Why the tenant cannot send from `address`, or `None` when its domain is an active
    /// signing domain with a key (SPEC S6.1). A mailing from any other domain would go out
    /// unsigned by the tenant and fail DMARC, so it is refused with the reason.
    pub async fn sender_problem(
        &self,
        tenant: TenantId,
        address: &str,
    ) -> Result<Option<String>, ServiceError> {
        let domains = self
            .service()
            .signing_domains()
            .list_signing_domains(tenant)
            .await?;
        sender_problem_among(address, &domains)
    }

    pub async fn create_mailing(
        &self,
        tenant: TenantId,
        form: MailingForm,
    ) -> Result<Mailing, ServiceError> {
        let sender_id = form
            .sender
            .ok_or_else(|| invalid("sender", "choose a sender contact"))?;
        let sender = self
            .store
            .contact(tenant, sender_id)
            .await
            .map_err(missing_contact("sender"))?;
        if let Some(problem) = self.sender_problem(tenant, &sender.email).await? {
            return Err(invalid("sender", problem));
        }
        if form.recipients.is_empty() {
            return Err(invalid("recipients", "add at least one recipient contact"));
        }
        if form.recipients.len() > MAX_RECIPIENTS {
            return Err(invalid(
                "recipients",
                format!("at most {MAX_RECIPIENTS} recipients per mailing"),
            ));
        }
        let mut recipients: Vec<Contact> = Vec::with_capacity(form.recipients.len());
        for id in form.recipients {
            if recipients.iter().any(|contact| contact.id == id) {
                continue;
            }
            recipients.push(
                self.store
                    .contact(tenant, id)
                    .await
                    .map_err(missing_contact("recipients"))?,
            );
        }
        let subject = one_line("subject", &form.subject, 900)?;
        if form.body.trim().is_empty() {
            return Err(invalid("body", "is required"));
        }
        let mailing = Mailing {
            id: MailingId::new(&self.clock),
            tenant_id: tenant,
            sender,
            recipients,
            subject,
            body: form.body,
            message_id: None,
            created_at: self.clock.now(),
            sent_at: None,
        };
        self.store.insert_mailing(&mailing).await?;
        Ok(mailing)
    }

    /// "Send message": composes one message per recipient contact, signs and commits each
    /// like any submission, and records each recipient's queued message. Every message is keyed
    /// by the mailing and its contact, so a second click, or a retry after a crash part-way
    /// through, returns the messages already queued and queues only those still missing: no
    /// contact receives the mailing twice.
    pub async fn send_mailing(
        &self,
        tenant: TenantId,
        id: MailingId,
    ) -> Result<MailingStatus, ServiceError> {
        let mailing = self.store.mailing(tenant, id).await.map_err(not_found)?;
        if mailing.message_id.is_some() {
            return Err(ServiceError::Conflict(
                "this mailing was already sent; create a new one to send again".to_owned(),
            ));
        }
        if let Some(problem) = self.sender_problem(tenant, &mailing.sender.email).await? {
            return Err(invalid("sender", problem));
        }
        // Every message is composed before any is queued, so that a mailing that cannot be
        // composed for one recipient goes to none.
        let mut submissions = Vec::with_capacity(mailing.recipients.len());
        for contact in &mailing.recipients {
            submissions.push((contact.id, recipient_submission(&mailing, contact)?));
        }
        // A mailing goes to a list of contacts, the mail RFC 8058 is for: each message gets a
        // one-click unsubscribe link when the platform has a public URL for it.
        let options = SubmitOptions {
            one_click_unsubscribe: self.public_url.is_some(),
        };
        let mut first = None;
        for (contact, submission) in submissions {
            let accepted = self
                .service()
                .submissions()
                .submit_with(tenant, submission, options)
                .await?;
            self.store
                .record_mailing_message(tenant, id, contact, accepted.id)
                .await?;
            first.get_or_insert(accepted.id);
        }
        if let Some(first) = first {
            self.store
                .mark_mailing_sent(tenant, id, first, self.clock.now())
                .await?;
        }
        self.mailing_status(tenant, id).await
    }

    pub async fn mailing_status(
        &self,
        tenant: TenantId,
        id: MailingId,
    ) -> Result<MailingStatus, ServiceError> {
        let mailing = self.store.mailing(tenant, id).await.map_err(not_found)?;
        let mut statuses = self.statuses(tenant, vec![mailing]).await?;
        statuses
            .pop()
            .ok_or_else(|| ServiceError::Internal("a mailing without its status".into()))
    }

    /// The tenant's newest mailings with their status, newest first.
    pub async fn list_mailings(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<MailingStatus>, ServiceError> {
        let page = self
            .mailing_page(
                tenant,
                &MailingFilter::default(),
                &PageRequest::first(limit),
            )
            .await?;
        Ok(page.items)
    }

    /// One page of the tenant's mailings that pass `filter`, newest first, with their status
    /// and how many pass it in all. The page is read in a fixed number of queries, however
    /// many mailings and recipients it holds.
    pub async fn mailing_page(
        &self,
        tenant: TenantId,
        filter: &MailingFilter,
        request: &PageRequest,
    ) -> Result<Page<MailingStatus>, ServiceError> {
        let page = self.store.mailing_page(tenant, filter, request).await?;
        Ok(Page {
            items: self.statuses(tenant, page.items).await?,
            total: page.total,
            next: page.next,
        })
    }

    /// The status of each mailing: the queued messages of all of them in two queries (their
    /// links, then the messages without bodies). A mailing sent before mailings went out per
    /// recipient names one message for all its recipients; it is read once.
    async fn statuses(
        &self,
        tenant: TenantId,
        mailings: Vec<Mailing>,
    ) -> Result<Vec<MailingStatus>, ServiceError> {
        let ids: Vec<MailingId> = mailings.iter().map(|mailing| mailing.id).collect();
        let links = self.store.mailings_messages(tenant, &ids).await?;
        let mut message_ids: Vec<MessageId> =
            links.iter().map(|(_, _, message)| *message).collect();
        message_ids.sort_unstable();
        message_ids.dedup();
        let summaries: HashMap<MessageId, MessageSummary> = self
            .store
            .message_summaries(tenant, &message_ids)
            .await?
            .into_iter()
            .map(|summary| (summary.id, summary))
            .collect();
        let mut by_mailing: HashMap<MailingId, Vec<(ContactId, MessageSummary)>> = HashMap::new();
        for (mailing, contact, message) in links {
            if let Some(summary) = summaries.get(&message) {
                by_mailing
                    .entry(mailing)
                    .or_default()
                    .push((contact, summary.clone()));
            }
        }
        Ok(mailings
            .into_iter()
            .map(|mailing| MailingStatus {
                messages: by_mailing.remove(&mailing.id).unwrap_or_default(),
                mailing,
            })
            .collect())
    }

    /// One page of the tenant's contacts by name, those whose name or address contains
    /// `search`, with how many match in all.
    pub async fn contact_page(
        &self,
        tenant: TenantId,
        search: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<Contact>, ServiceError> {
        Ok(self.store.contact_page(tenant, search, request).await?)
    }

    /// Deletes a mailing that was never sent; one that was sent keeps its record, since its
    /// messages and their delivery belong to it.
    pub async fn delete_draft_mailing(
        &self,
        tenant: TenantId,
        id: MailingId,
    ) -> Result<(), ServiceError> {
        match self
            .store
            .delete_draft_mailing(tenant, id)
            .await
            .map_err(not_found)?
        {
            DraftDeletion::Deleted => Ok(()),
            DraftDeletion::AlreadySent => Err(ServiceError::Conflict(
                "this mailing was sent; only a draft can be deleted".to_owned(),
            )),
        }
    }
}

fn not_found(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("mailing"),
        other => other.into(),
    }
}

/// The message of a mailing to one recipient contact: only that contact in `To:` and in the
/// envelope, keyed by the mailing and the contact.
fn recipient_submission(mailing: &Mailing, contact: &Contact) -> Result<Submission, ServiceError> {
    let raw = compose(&Composition {
        from: mailbox_with_name(&mailing.sender),
        to: vec![mailbox_with_name(contact)],
        subject: mailing.subject.clone(),
        text: Some(mailing.body.clone()),
        ..Composition::default()
    })
    .map_err(|error| invalid("mailing", error.to_string()))?;
    let key = format!("mailing:{}:{}", mailing.id, contact.id);
    Ok(Submission {
        mail_from: mailing.sender.email.clone(),
        recipients: vec![contact.email.clone()],
        raw,
        idempotency_key: Some(crate::idempotency_key(&key, key.as_bytes())?),
        source: sealpost_domain::SubmissionSource::Mailing,
    })
}

/// `Name <address>` for the From and To headers; compose quotes and encodes the name.
fn mailbox_with_name(contact: &Contact) -> String {
    format!("{} <{}>", contact.name, contact.email)
}

/// Why `address` cannot send, given the tenant's signing domains: [`Mailings::sender_problem`]
/// without the reading, so that a list of contacts reads the domains once.
pub(crate) fn sender_problem_among(
    address: &str,
    domains: &[sealpost_domain::SigningDomain],
) -> Result<Option<String>, ServiceError> {
    let mailbox = Mailbox::parse(address).map_err(|error| invalid("sender", error.to_string()))?;
    Ok(
        match sealpost_domain::decide_signing(&mailbox.domain, &mailbox.domain, domains) {
            Ok(_) => None,
            Err(reason) => Some(format!(
                "{reason}; add {} under Signing domains, give it a key and activate it",
                mailbox.domain
            )),
        },
    )
}
