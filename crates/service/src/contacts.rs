//! Editing and deleting contacts, and what each contact can be in a mailing: every contact can
//! receive, and a contact can send only from an active signing domain of the tenant (SPEC S6.1).
//! A contact that a sent mailing used keeps its address, since the mailing's delivery history
//! is read by it, and no contact a mailing uses is deleted.

use sealpost_dkim::Mailbox;
use sealpost_domain::{Contact, ContactId, TenantId};
use sealpost_store::{ContactDeletion, ContactMailing, StoreError};

use crate::mailings::sender_problem_among;
use crate::text::one_line;
use crate::{ContactForm, Mailings, ServiceError};

/// A contact with whether it can be a mailing's sender.
#[derive(Debug, Clone)]
pub struct ContactStanding {
    pub contact: Contact,
    /// Why it cannot send, or `None` when its domain is an active signing domain.
    pub sender_problem: Option<String>,
}

impl ContactStanding {
    pub fn can_send(&self) -> bool {
        self.sender_problem.is_none()
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        field,
        message: message.into(),
    }
}

fn not_found(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("contact"),
        other => other.into(),
    }
}

/// Why a mailing keeps the contact, as a sentence.
fn in_use(mailing: &ContactMailing) -> String {
    match mailing.sent {
        true => format!(
            "The mailing \"{}\" was sent with this contact, and its delivery history needs it, \
             so the contact cannot be deleted",
            mailing.subject
        ),
        false => format!(
            "The draft mailing \"{}\" uses this contact: delete that draft first",
            mailing.subject
        ),
    }
}

impl Mailings {
    /// The name and address of a contact as a form gives them, checked as for a new contact.
    pub fn checked_contact(form: &ContactForm) -> Result<(String, String), ServiceError> {
        let name = one_line("name", &form.name, 200)?;
        let email = Mailbox::parse(form.email.trim()).map_err(|error| {
            invalid(
                "email",
                format!("Enter an e-mail address such as facilities@client.example ({error})"),
            )
        })?;
        Ok((name, email.to_string()))
    }

    pub async fn contact(&self, tenant: TenantId, id: ContactId) -> Result<Contact, ServiceError> {
        self.store.contact(tenant, id).await.map_err(not_found)
    }

    /// The tenant's contacts, each with whether it can send.
    pub async fn contact_standings(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<ContactStanding>, ServiceError> {
        let contacts = self.list_contacts(tenant).await?;
        self.standings_of(tenant, contacts).await
    }

    /// Whether each of `contacts` can send, reading the tenant's signing domains once however
    /// many contacts a page shows.
    pub async fn standings_of(
        &self,
        tenant: TenantId,
        contacts: Vec<Contact>,
    ) -> Result<Vec<ContactStanding>, ServiceError> {
        let domains = self
            .service()
            .signing_domains()
            .list_signing_domains(tenant)
            .await?;
        contacts
            .into_iter()
            .map(|contact| {
                Ok(ContactStanding {
                    sender_problem: sender_problem_among(&contact.email, &domains)?,
                    contact,
                })
            })
            .collect()
    }

    /// Changes a contact's name and address. The address of a contact that a sent mailing
    /// used stays as it is: the mailing's history is read by it.
    pub async fn update_contact(
        &self,
        tenant: TenantId,
        id: ContactId,
        form: ContactForm,
    ) -> Result<Contact, ServiceError> {
        let (name, email) = Self::checked_contact(&form)?;
        let current = self.contact(tenant, id).await?;
        if !current.email.eq_ignore_ascii_case(&email)
            && let Some(mailing) = self.store.contact_mailing(tenant, id).await?
            && mailing.sent
        {
            return Err(invalid(
                "email",
                format!(
                    "The mailing \"{}\" was sent to {}, so this contact keeps its address: add \
                     a new contact for {email}",
                    mailing.subject, current.email
                ),
            ));
        }
        self.store
            .update_contact(tenant, id, &name, &email)
            .await
            .map_err(|error| match error {
                StoreError::Duplicate(_) => invalid(
                    "email",
                    format!("Another contact already has the address {email}"),
                ),
                other => not_found(other),
            })?;
        self.contact(tenant, id).await
    }

    /// Deletes a contact that no mailing uses; one that a mailing uses is refused with the
    /// mailing named.
    pub async fn delete_contact(
        &self,
        tenant: TenantId,
        id: ContactId,
    ) -> Result<(), ServiceError> {
        match self
            .store
            .delete_contact(tenant, id)
            .await
            .map_err(not_found)?
        {
            ContactDeletion::Deleted => Ok(()),
            ContactDeletion::InUse(mailing) => Err(ServiceError::Conflict(in_use(&mailing))),
        }
    }
}
