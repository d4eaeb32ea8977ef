//! Editing and deleting a tenant's contacts. A contact that a mailing uses is never deleted:
//! the check and the deletion are one statement, so a mailing written meanwhile cannot lose
//! its sender or a recipient.

use sealpost_domain::{ContactId, MailingId, TenantId};

use crate::{Store, StoreError, with_reader, with_writer};

/// A mailing that uses a contact, as the reason it cannot be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMailing {
    pub mailing: MailingId,
    pub subject: String,
    /// Whether the mailing was sent (its history needs the contact) or is a draft.
    pub sent: bool,
}

/// Whether a deletion happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactDeletion {
    Deleted,
    /// A mailing uses the contact; nothing was deleted.
    InUse(ContactMailing),
}

impl Store {
    /// Changes a contact's name and address; `Duplicate` when another contact of the tenant has
    /// the address, `NotFound` when the tenant has no such contact.
    pub async fn update_contact(
        &self,
        tenant: TenantId,
        id: ContactId,
        name: &str,
        email: &str,
    ) -> Result<(), StoreError> {
        let changed = with_writer!(self, pool => {
            sqlx::query("UPDATE contacts SET name = $3, email = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .bind(name)
                .bind(email)
                .execute(pool)
                .await
                .map_err(|error| StoreError::duplicate_as(error, "a contact with this address"))?
                .rows_affected()
        });
        match changed {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    /// The mailing that uses the contact as sender or recipient, a sent one before a draft;
    /// `None` when no mailing does.
    pub async fn contact_mailing(
        &self,
        tenant: TenantId,
        id: ContactId,
    ) -> Result<Option<ContactMailing>, StoreError> {
        let row: Option<(MailingId, String, Option<i64>)> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT m.id, m.subject, m.sent_at FROM mailings m \
                 WHERE m.tenant_id = $1 AND (m.sender_contact_id = $2 OR EXISTS \
                 (SELECT 1 FROM mailing_recipients r WHERE r.mailing_id = m.id \
                 AND r.contact_id = $2)) \
                 ORDER BY m.sent_at IS NULL, m.created_at DESC LIMIT 1",
            )
            .bind(tenant)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(mailing, subject, sent_at)| ContactMailing {
            mailing,
            subject,
            sent: sent_at.is_some(),
        }))
    }

    /// Deletes a contact that no mailing uses; `NotFound` when the tenant has no such contact.
    pub async fn delete_contact(
        &self,
        tenant: TenantId,
        id: ContactId,
    ) -> Result<ContactDeletion, StoreError> {
        let deleted = with_writer!(self, pool => {
            sqlx::query(
                "DELETE FROM contacts WHERE tenant_id = $1 AND id = $2 \
                 AND NOT EXISTS (SELECT 1 FROM mailings WHERE sender_contact_id = $2) \
                 AND NOT EXISTS (SELECT 1 FROM mailing_recipients WHERE contact_id = $2)",
            )
            .bind(tenant)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if deleted > 0 {
            return Ok(ContactDeletion::Deleted);
        }
        self.contact(tenant, id).await?;
        match self.contact_mailing(tenant, id).await? {
            Some(mailing) => Ok(ContactDeletion::InUse(mailing)),
            // The mailing that used it was deleted in between: try once more.
            None => Box::pin(self.delete_contact(tenant, id)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use sealpost_domain::{Contact, ContactId, Mailing, MailingId, SystemClock, Timestamp};

    use super::ContactDeletion;
    use crate::StoreError;
    use crate::tests::{for_each_backend, tenant};

    fn contact(tenant: &sealpost_domain::Tenant, name: &str) -> Contact {
        Contact {
            id: ContactId::new(&SystemClock),
            tenant_id: tenant.id,
            name: name.to_owned(),
            email: format!("{name}@client.test"),
            created_at: Timestamp(1),
        }
    }

    #[tokio::test]
    async fn contacts_are_edited_and_deleted_unless_a_mailing_uses_them() {
        for_each_backend(|store| async move {
            let acme = tenant("acme");
            let other = tenant("other");
            store.create_tenant(&acme).await.unwrap();
            store.create_tenant(&other).await.unwrap();
            let (anna, bert, carl) = (
                contact(&acme, "anna"),
                contact(&acme, "bert"),
                contact(&acme, "carl"),
            );
            for each in [&anna, &bert, &carl] {
                store.insert_contact(each).await.unwrap();
            }

            store
                .update_contact(acme.id, anna.id, "Anna A.", "anna.a@client.test")
                .await
                .unwrap();
            let edited = store.contact(acme.id, anna.id).await.unwrap();
            assert_eq!(
                (edited.name.as_str(), edited.email.as_str()),
                ("Anna A.", "anna.a@client.test")
            );
            let taken = store
                .update_contact(acme.id, anna.id, "Anna", "bert@client.test")
                .await;
            assert!(matches!(taken, Err(StoreError::Duplicate(_))), "{taken:?}");
            let foreign = store
                .update_contact(other.id, anna.id, "Anna", "x@client.test")
                .await;
            assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");

            let mailing = Mailing {
                id: MailingId::new(&SystemClock),
                tenant_id: acme.id,
                sender: anna.clone(),
                recipients: vec![bert.clone()],
                subject: "Boiler".to_owned(),
                body: "Fixed.".to_owned(),
                message_id: None,
                created_at: Timestamp(2),
                sent_at: None,
            };
            store.insert_mailing(&mailing).await.unwrap();
            for used in [anna.id, bert.id] {
                match store.delete_contact(acme.id, used).await.unwrap() {
                    ContactDeletion::InUse(found) => {
                        assert_eq!(found.mailing, mailing.id);
                        assert_eq!(found.subject, "Boiler");
                        assert!(!found.sent);
                    }
                    other => panic!("{other:?}"),
                }
            }
            assert_eq!(
                store.delete_contact(acme.id, carl.id).await.unwrap(),
                ContactDeletion::Deleted
            );
            assert!(matches!(
                store.delete_contact(acme.id, carl.id).await,
                Err(StoreError::NotFound)
            ));
            assert!(matches!(
                store.delete_contact(other.id, bert.id).await,
                Err(StoreError::NotFound)
            ));
            assert_eq!(store.list_contacts(acme.id).await.unwrap().len(), 2);
        })
        .await;
    }
}
