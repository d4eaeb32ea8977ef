//! The boundary's test double: credentials from a small table, submissions kept in memory.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sealpost_smtpd::{
    BackendError, Identity, ReceivedEnvelope, Rejection, SubmissionBackend, SubmitError,
};

/// user name, password, tenant
const USERS: &[(&str, &str, &str)] = &[
    ("app-a", "secret-a", "tenant-a"),
    ("app-b", "pass word:b", "tenant-b"),
];

/// A user whose credentials cannot be checked, as if the database were down.
pub const UNCHECKABLE_USER: &str = "db-down";
/// Senders whose messages the backend fails temporarily or rejects for good.
pub const TEMPFAIL_SENDER: &str = "tempfail@client.example";
pub const REJECTED_SENDER: &str = "rejected@client.example";
/// A sender whose submission finds the login's credentials revoked after the recheck at MAIL.
pub const REVOKED_AT_SUBMISSION_SENDER: &str = "revoked@client.example";
/// The one mailbox an inbound listener's backend has, and a recipient it cannot check.
pub const LOCAL_MAILBOX: &str = "test-abc@checker.test";
pub const UNCHECKABLE_RECIPIENT: &str = "db-down@checker.test";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub identity: Option<Identity>,
    pub envelope: ReceivedEnvelope,
    pub message: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct TestBackend {
    submissions: Mutex<Vec<Submitted>>,
    auth_calls: AtomicUsize,
    revoked: Mutex<HashSet<String>>,
}

impl TestBackend {
    pub fn submissions(&self) -> Vec<Submitted> {
        self.submissions.lock().expect("submissions lock").clone()
    }

    /// Revokes a user's password, as revoking an API key does.
    pub fn revoke(&self, username: &str) {
        let mut revoked = self.revoked.lock().expect("revoked lock");
        revoked.insert(username.to_owned());
    }

    pub fn auth_calls(&self) -> usize {
        self.auth_calls.load(Ordering::SeqCst)
    }
}

impl SubmissionBackend for TestBackend {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Identity>, BackendError> {
        self.auth_calls.fetch_add(1, Ordering::SeqCst);
        if username == UNCHECKABLE_USER {
            return Err(BackendError::new("database unavailable"));
        }
        if self
            .revoked
            .lock()
            .expect("revoked lock")
            .contains(username)
        {
            return Ok(None);
        }
        let identity = USERS
            .iter()
            .find(|(user, secret, _)| *user == username && *secret == password)
            .map(|(user, _, tenant)| Identity {
                tenant: (*tenant).to_owned(),
                username: (*user).to_owned(),
                credential: format!("credential-of-{user}"),
            });
        Ok(identity)
    }

    async fn accept_recipient(&self, address: &str) -> Result<bool, BackendError> {
        if address == UNCHECKABLE_RECIPIENT {
            return Err(BackendError::new("database unavailable"));
        }
        Ok(address.eq_ignore_ascii_case(LOCAL_MAILBOX))
    }

    async fn submit(
        &self,
        identity: Option<&Identity>,
        envelope: ReceivedEnvelope,
        message: Vec<u8>,
    ) -> Result<String, SubmitError> {
        match envelope.mail_from.as_str() {
            TEMPFAIL_SENDER => {
                return Err(SubmitError::Temporary(BackendError::new("disk full")));
            }
            REJECTED_SENDER => {
                return Err(SubmitError::Permanent(Rejection::new(
                    550,
                    [5, 7, 1],
                    "From domain not allowed",
                )));
            }
            REVOKED_AT_SUBMISSION_SENDER => return Err(SubmitError::LoginRevoked),
            _ => {}
        }
        let mut submissions = self.submissions.lock().expect("submissions lock");
        submissions.push(Submitted {
            identity: identity.cloned(),
            envelope,
            message,
        });
        Ok(format!("msg-{}", submissions.len()))
    }
}
