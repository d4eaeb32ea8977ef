//! What a submission reads of its tenant before it signs: the tenant's sending version, its
//! suppression entries for the recipients, and whether the API key is still the tenant's.
//! Submissions that arrive together are read together, one statement per tenant and key for a
//! few of them rather than one each, as their commits are (`commit.rs`): under load that read
//! was half of a submission's statements. Each submission's read still starts after it
//! arrived, so a key revoked before then is refused.

use sealpost_domain::{SuppressedAddress, Suppression, TenantId};
use sealpost_store::{KEPT_LIST_LENGTH, Store, StoreError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// The most submissions taken from the queue at once.
const MAX_WAITING: usize = 256;

/// The sending version and the entries found for the submission's own addresses.
type Answer = Result<(i64, Vec<Suppression>), StoreError>;

struct Waiting {
    tenant: TenantId,
    api_key: Option<String>,
    addresses: Vec<SuppressedAddress>,
    reply: oneshot::Sender<Answer>,
}

/// Submissions of one tenant under one key, read in one statement.
struct Group {
    addresses: Vec<SuppressedAddress>,
    members: Vec<Waiting>,
}

impl Group {
    /// Whether `waiting` can be read with this group: same tenant and key, and the addresses
    /// together no more than a kept statement asks for.
    fn takes(&self, waiting: &Waiting) -> bool {
        let first = &self.members[0];
        let new = waiting
            .addresses
            .iter()
            .filter(|address| !self.addresses.contains(address))
            .count();
        first.tenant == waiting.tenant
            && first.api_key == waiting.api_key
            && self.addresses.len() + new <= KEPT_LIST_LENGTH
    }

    fn add(&mut self, waiting: Waiting) {
        for address in &waiting.addresses {
            if !self.addresses.contains(address) {
                self.addresses.push(address.clone());
            }
        }
        self.members.push(waiting);
    }
}

/// The handle submissions use; the reading task runs until every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct SubmissionReads {
    sender: mpsc::Sender<Waiting>,
}

impl SubmissionReads {
    /// Starts the reading task on the current runtime.
    pub(crate) fn start(store: Store) -> Self {
        let (sender, receiver) = mpsc::channel(MAX_WAITING * 4);
        tokio::spawn(serve(store, receiver));
        Self { sender }
    }

    /// The tenant's sending version and its entries for `addresses`; `NotFound` when the
    /// tenant does not exist or `api_key` (a token's hash) is not one of its keys.
    pub(crate) async fn read(
        &self,
        tenant: TenantId,
        api_key: Option<&str>,
        addresses: Vec<SuppressedAddress>,
    ) -> Answer {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Corrupt("the submission reader has stopped".to_owned());
        let waiting = Waiting {
            tenant,
            api_key: api_key.map(str::to_owned),
            addresses,
            reply,
        };
        self.sender.send(waiting).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// Takes whatever has queued up (at least one submission), reads each group at once, and
/// answers each submission when its group's read is done.
async fn serve(store: Store, mut receiver: mpsc::Receiver<Waiting>) {
    while let Some(first) = receiver.recv().await {
        let mut waiting = vec![first];
        while waiting.len() < MAX_WAITING {
            match receiver.try_recv() {
                Ok(next) => waiting.push(next),
                Err(_) => break,
            }
        }
        let mut reads = JoinSet::new();
        for group in groups(waiting) {
            reads.spawn(answer(store.clone(), group));
        }
        finish(reads).await;
    }
}

/// The submissions in groups that can each be read in one statement, in the order they came.
fn groups(waiting: Vec<Waiting>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for waiting in waiting {
        match groups.iter_mut().find(|group| group.takes(&waiting)) {
            Some(group) => group.add(waiting),
            None => {
                let mut group = Group {
                    addresses: Vec::new(),
                    members: Vec::new(),
                };
                group.add(waiting);
                groups.push(group);
            }
        }
    }
    groups
}

/// Reads one group and answers its members, each with the entries of its own addresses. A
/// tenant or key not found is the answer for every member, who share both. Any other failure
/// is read again for each member, all at once, so each gets its own answer and a failing
/// database costs the group one more wait, not one per member.
async fn answer(store: Store, group: Group) {
    let Group { addresses, members } = group;
    let first = &members[0];
    let read = store
        .sending_version_and_suppressions(first.tenant, first.api_key.as_deref(), &addresses)
        .await;
    match read {
        Ok((version, entries)) => {
            for waiting in members {
                let own = entries
                    .iter()
                    .filter(|entry| waiting.addresses.contains(&entry.address))
                    .cloned()
                    .collect();
                let _ = waiting.reply.send(Ok((version, own)));
            }
        }
        Err(StoreError::NotFound) => {
            for waiting in members {
                let _ = waiting.reply.send(Err(StoreError::NotFound));
            }
        }
        Err(error) if members.len() == 1 => {
            let _ = members.into_iter().next().map(|w| w.reply.send(Err(error)));
        }
        Err(_) => {
            let mut reads = JoinSet::new();
            for waiting in members {
                let store = store.clone();
                reads.spawn(async move {
                    let own = store
                        .sending_version_and_suppressions(
                            waiting.tenant,
                            waiting.api_key.as_deref(),
                            &waiting.addresses,
                        )
                        .await;
                    let _ = waiting.reply.send(own);
                });
            }
            finish(reads).await;
        }
    }
}

/// Waits for every read; one that panicked has dropped its replies, whose submitters are told
/// the reader stopped, and is logged here with its cause.
async fn finish(mut reads: JoinSet<()>) {
    while let Some(joined) = reads.join_next().await {
        if let Err(error) = joined {
            tracing::error!(%error, "a submission read failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use sealpost_domain::{
        Suppression, SuppressionReason, SystemClock, Tenant, TenantName, Timestamp,
    };
    use sealpost_store::testing;

    use super::*;

    fn address(text: &str) -> SuppressedAddress {
        SuppressedAddress::parse(text).unwrap()
    }

    fn waiting(
        tenant: TenantId,
        api_key: Option<&str>,
        addresses: &[&str],
    ) -> (Waiting, oneshot::Receiver<Answer>) {
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting {
            tenant,
            api_key: api_key.map(str::to_owned),
            addresses: addresses.iter().map(|text| address(text)).collect(),
            reply,
        };
        (waiting, answer)
    }

    /// One tenant under one key shares a statement while the addresses together are few
    /// enough to keep it prepared; another tenant, another key or too many addresses start a
    /// group of their own.
    #[test]
    fn submissions_of_one_tenant_and_key_are_grouped_up_to_a_kept_list() {
        let one = TenantId::new(&SystemClock);
        let other = TenantId::new(&SystemClock);
        let many: Vec<String> = (0..KEPT_LIST_LENGTH)
            .map(|at| format!("m{at}@r.test"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let submissions = [
            waiting(one, None, &["a@r.test"]),
            waiting(other, None, &["a@r.test"]),
            waiting(one, None, &["b@r.test", "a@r.test"]),
            waiting(one, Some("key"), &["a@r.test"]),
            waiting(one, None, &many),
            waiting(one, None, &["c@r.test"]),
        ];
        let (waiting, _answers): (Vec<_>, Vec<_>) = submissions.into_iter().unzip();
        let shapes: Vec<(TenantId, Option<String>, usize, usize)> = groups(waiting)
            .iter()
            .map(|group| {
                let first = &group.members[0];
                let key = first.api_key.clone();
                (
                    first.tenant,
                    key,
                    group.members.len(),
                    group.addresses.len(),
                )
            })
            .collect();
        assert_eq!(
            shapes,
            [
                (one, None, 3, 3),
                (other, None, 1, 1),
                (one, Some("key".to_owned()), 1, 1),
                (one, None, 1, KEPT_LIST_LENGTH),
            ]
        );
    }

    /// A group is read in one statement, and each member is answered with the entries of its
    /// own addresses only; a key that is not the tenant's refuses every member.
    #[tokio::test]
    async fn each_member_of_a_group_gets_its_own_entries() {
        let directory = tempfile::tempdir().unwrap();
        for store in testing::fresh_stores(directory.path()).await {
            let tenant = Tenant {
                id: TenantId::new(&SystemClock),
                name: TenantName::parse("acme").unwrap(),
                display_name: "Acme".into(),
                created_at: Timestamp(1_800_000_000),
            };
            store.create_tenant(&tenant).await.unwrap();
            let entries: Vec<Suppression> = ["a@r.test", "b@r.test"]
                .into_iter()
                .map(|text| Suppression {
                    tenant_id: tenant.id,
                    address: address(text),
                    reason: SuppressionReason::Manual,
                    message_id: None,
                    detail: String::new(),
                    created_at: Timestamp(1_800_000_000),
                })
                .collect();
            store.add_suppressions(tenant.id, &entries).await.unwrap();
            let version = store.sending_version(tenant.id).await.unwrap();
            let asked = [
                waiting(tenant.id, None, &["a@r.test"]),
                waiting(tenant.id, None, &["b@r.test", "c@r.test"]),
                waiting(tenant.id, None, &["c@r.test"]),
            ];
            let (members, answers): (Vec<_>, Vec<_>) = asked.into_iter().unzip();
            let mut grouped = groups(members);
            assert_eq!(grouped.len(), 1);
            answer(store.clone(), grouped.remove(0)).await;
            let mut found = Vec::new();
            for answer in answers {
                let (read_version, entries) = answer.await.unwrap().unwrap();
                assert_eq!(read_version, version);
                let addresses: Vec<String> = entries
                    .iter()
                    .map(|entry| entry.address.as_str().to_owned())
                    .collect();
                found.push(addresses);
            }
            assert_eq!(found, [vec!["a@r.test"], vec!["b@r.test"], vec![]]);

            // A key that is not the tenant's is the answer for every member of its group.
            let asked = [
                waiting(tenant.id, Some("not a key"), &["a@r.test"]),
                waiting(tenant.id, Some("not a key"), &["b@r.test"]),
            ];
            let (members, answers): (Vec<_>, Vec<_>) = asked.into_iter().unzip();
            let mut grouped = groups(members);
            assert_eq!(grouped.len(), 1);
            answer(store.clone(), grouped.remove(0)).await;
            for answer in answers {
                let refused = answer.await.unwrap();
                assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
            }

            // Through the queue: a refusal, and the queue goes on serving.
            let reads = SubmissionReads::start(store.clone());
            let refused = reads
                .read(tenant.id, Some("not a key"), vec![address("a@r.test")])
                .await;
            assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
            let (_, entries) = reads
                .read(tenant.id, None, vec![address("b@r.test")])
                .await
                .unwrap();
            assert_eq!(entries.len(), 1);
        }
    }
}
