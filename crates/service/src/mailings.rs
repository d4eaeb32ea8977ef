//! Contacts and mailings (SPEC S6): a sender contact whose domain must be an active signing
//! domain of the tenant, recipient contacts, a subject and a body; "Send message" turns the
//! mailing into one queued message, and its per-recipient delivery state is the mailing's
//! status.

use sealpost_dkim::Mailbox;
use sealpost_domain::{Contact, ContactId, Mailing, MailingId, MessageSummary, TenantId};
use sealpost_store::StoreError;

use crate::compose::{Composition, compose};
use crate::submit::{MAX_RECIPIENTS, Submission};
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

/// A mailing with the queued message it became (without its body), whose recipients carry the
/// delivery status.
#[derive(Debug, Clone)]
pub struct MailingStatus {
    pub mailing: Mailing,
    pub message: Option<MessageSummary>,
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
        let mailbox =
            Mailbox::parse(address).map_err(|error| invalid("sender", error.to_string()))?;
        let domains = self
            .service()
            .signing_domains()
            .list_signing_domains(tenant)
            .await?;
        Ok(
            match sealpost_domain::decide_signing(&mailbox.domain, &mailbox.domain, &domains) {
                Ok(_) => None,
                Err(reason) => Some(format!(
                    "{reason}; add {} under Signing domains, give it a key and activate it",
                    mailbox.domain
                )),
            },
        )
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

    /// "Send message": composes the mailing, signs and commits it like any submission, and
    /// records the queued message. The mailing's id is the idempotency key, so a second click,
    /// or a retry after a crash between the commit and the record, returns the same message.
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
        let raw = compose(&Composition {
            from: mailbox_with_name(&mailing.sender),
            to: mailing.recipients.iter().map(mailbox_with_name).collect(),
            subject: mailing.subject.clone(),
            text: Some(mailing.body.clone()),
            ..Composition::default()
        })
        .map_err(|error| invalid("mailing", error.to_string()))?;
        let accepted = self
            .service()
            .submissions()
            .submit(
                tenant,
                Submission {
                    mail_from: mailing.sender.email.clone(),
                    recipients: mailing
                        .recipients
                        .iter()
                        .map(|contact| contact.email.clone())
                        .collect(),
                    raw,
                    idempotency_key: Some(crate::idempotency_key(
                        &format!("mailing:{id}"),
                        id.to_string().as_bytes(),
                    )?),
                    source: sealpost_domain::SubmissionSource::Mailing,
                },
            )
            .await?;
        self.store
            .mark_mailing_sent(tenant, id, accepted.id, self.clock.now())
            .await?;
        self.mailing_status(tenant, id).await
    }

    pub async fn mailing_status(
        &self,
        tenant: TenantId,
        id: MailingId,
    ) -> Result<MailingStatus, ServiceError> {
        let mailing = self.store.mailing(tenant, id).await.map_err(not_found)?;
        let message = match mailing.message_id {
            Some(message) => Some(self.store.message_summary(tenant, message).await?),
            None => None,
        };
        Ok(MailingStatus { mailing, message })
    }

    /// The tenant's newest mailings with their status, newest first.
    pub async fn list_mailings(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<MailingStatus>, ServiceError> {
        let mut mailings = Vec::new();
        for mailing in self.store.list_mailings(tenant, limit).await? {
            mailings.push(self.mailing_status(tenant, mailing.id).await?);
        }
        Ok(mailings)
    }
}

fn not_found(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("mailing"),
        other => other.into(),
    }
}

/// `Name <address>` for the From and To headers; compose quotes and encodes the name.
fn mailbox_with_name(contact: &Contact) -> String {
    format!("{} <{}>", contact.name, contact.email)
}
