//! The master keys a vault holds: the one the node was started with and the keys of the
//! rotations it has followed since. Values are sealed under the newest key it knows and opened
//! under whichever key sealed them, so a node that keeps running through several rotations
//! keeps working.

use std::sync::Arc;

use crate::MasterKey;

#[derive(Debug)]
pub(crate) struct Keyring {
    configured: Arc<MasterKey>,
    sealing: Arc<MasterKey>,
    /// Every other key that may have sealed a stored value.
    others: Vec<Arc<MasterKey>>,
}

impl Keyring {
    pub(crate) fn new(configured: MasterKey) -> Self {
        let configured = Arc::new(configured);
        Self {
            sealing: Arc::clone(&configured),
            configured,
            others: Vec::new(),
        }
    }

    pub(crate) fn configured(&self) -> &MasterKey {
        &self.configured
    }

    /// The key new values are sealed under: the newest rotation's new key once it is known.
    pub(crate) fn sealing(&self) -> Arc<MasterKey> {
        Arc::clone(&self.sealing)
    }

    /// Every key that may have sealed a stored value, the sealing key first.
    pub(crate) fn opening(&self) -> Vec<Arc<MasterKey>> {
        std::iter::once(&self.sealing)
            .chain(&self.others)
            .cloned()
            .collect()
    }

    /// A rotation's new key: it seals from now on, and the key it replaces still opens.
    pub(crate) fn add_newer(&mut self, newer: MasterKey) {
        let previous = std::mem::replace(&mut self.sealing, Arc::new(newer));
        self.add_older_arc(previous);
    }

    /// A key that sealed values before the one this node seals under.
    pub(crate) fn add_older(&mut self, older: MasterKey) {
        self.add_older_arc(Arc::new(older));
    }

    fn add_older_arc(&mut self, older: Arc<MasterKey>) {
        let known =
            self.sealing.same_as(&older) || self.others.iter().any(|key| key.same_as(&older));
        if !known {
            self.others.push(older);
        }
    }
}
