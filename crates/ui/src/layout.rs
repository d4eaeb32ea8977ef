//! What the frame of every page shows: the account, the tenant and its sections, and the form
//! token the sign-out button (and every other form) carries.

use crate::session::Scope;

/// The tenant sections, in navigation order: (path below `/t/{tenant}`, label).
const SECTIONS: [(&str, &str); 12] = [
    ("", "Dashboard"),
    ("/settings/email", "E-mail"),
    ("/domains", "Signing domains"),
    ("/sending-domains", "Sending domains"),
    ("/mailings", "Mailings"),
    ("/contacts", "Contacts"),
    ("/messages", "Messages"),
    ("/suppressions", "Suppression list"),
    ("/webhooks", "Webhooks"),
    ("/troubleshoot", "Troubleshooting"),
    ("/checker", "Mail tester"),
    ("/api-keys", "API keys"),
];

#[derive(Debug)]
pub struct NavLink {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Debug)]
pub struct Layout {
    pub title: String,
    pub user_email: String,
    pub operator: bool,
    pub csrf: String,
    /// The tenant's display name, on tenant pages.
    pub tenant_label: Option<String>,
    pub nav: Vec<NavLink>,
}

impl Layout {
    /// The frame of a tenant page; `section` is the path of the current section.
    pub fn tenant(scope: &Scope, section: &str, title: impl Into<String>) -> Self {
        let base = format!("/t/{}", scope.tenant.name.as_str());
        Self {
            title: title.into(),
            user_email: scope.session.user.email.as_str().to_owned(),
            operator: scope.is_operator(),
            csrf: scope.session.csrf_token.clone(),
            tenant_label: Some(scope.tenant.display_name.clone()),
            nav: SECTIONS
                .iter()
                .map(|(path, label)| NavLink {
                    href: format!("{base}{path}"),
                    label,
                    current: *path == section,
                })
                .collect(),
        }
    }

    /// The frame of a page outside any tenant (the operator's tenant list).
    pub fn plain(session: &sealpost_service::SessionUser, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            user_email: session.user.email.as_str().to_owned(),
            operator: session.user.role == sealpost_domain::UserRole::Operator,
            csrf: session.csrf_token.clone(),
            tenant_label: None,
            nav: Vec::new(),
        }
    }
}
