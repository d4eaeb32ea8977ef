//! The master keys a vault holds: the one the node was started with and, while a master key
//! rotation runs, the other key of that rotation. Values are sealed under the rotation's new
//! key as soon as the vault knows it, and opened under whichever key sealed them.

use std::sync::Arc;

use crate::MasterKey;

#[derive(Debug)]
pub(crate) struct Keyring {
    configured: Arc<MasterKey>,
    /// The other key of a rotation in progress, and whether it is the new one (which seals).
    partner: Option<(Arc<MasterKey>, Role)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The partner is the rotation's new key: the node was started with the old one.
    New,
    /// The partner is the rotation's old key: the node was started with the new one.
    Old,
}

impl Keyring {
    pub(crate) fn new(configured: MasterKey) -> Self {
        Self {
            configured: Arc::new(configured),
            partner: None,
        }
    }

    pub(crate) fn configured(&self) -> &MasterKey {
        &self.configured
    }

    /// The key new values are sealed under: the rotation's new key once it is known.
    pub(crate) fn sealing(&self) -> Arc<MasterKey> {
        match &self.partner {
            Some((partner, Role::New)) => Arc::clone(partner),
            _ => Arc::clone(&self.configured),
        }
    }

    /// Every key that may have sealed a stored value, the sealing key first.
    pub(crate) fn opening(&self) -> Vec<Arc<MasterKey>> {
        let sealing = self.sealing();
        let mut keys = vec![Arc::clone(&sealing)];
        for key in [
            Some(&self.configured),
            self.partner.as_ref().map(|(key, _)| key),
        ]
        .into_iter()
        .flatten()
        {
            if !key.same_as(&sealing) {
                keys.push(Arc::clone(key));
            }
        }
        keys
    }

    pub(crate) fn partner_role(&self) -> Option<Role> {
        self.partner.as_ref().map(|(_, role)| *role)
    }

    pub(crate) fn set_partner(&mut self, partner: MasterKey, role: Role) {
        self.partner = Some((Arc::new(partner), role));
    }
}
