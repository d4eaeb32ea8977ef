//! The web UI for tenant administrators and operators (SPEC S8.3): server-rendered HTML pages
//! over the same `Service` the JSON API uses, so the two cannot drift apart in behaviour. Pages
//! live under `/`, `/login`, `/logout` and `/t/{tenant}/...`; the API keeps `/api/v1`.
//! Every state-changing request passes the CSRF check in `csrf`, and every tenant page passes
//! the access check in `session`.

mod assets;
mod csrf;
mod error;
mod form_errors;
mod format;
mod layout;
mod pages;
mod session;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{any, get, post};
use sealpost_service::Service;

/// Form bodies carry at most a pasted PEM key or a mailing's text.
const FORM_LIMIT_BYTES: usize = 256 * 1024;

/// What every page handler can reach.
#[derive(Debug, Clone)]
pub struct UiState {
    pub service: Service,
}

/// The UI's routes, ready to be merged with the JSON API's router. The server must be run with
/// `into_make_service_with_connect_info::<SocketAddr>()`: sign-in attempts are limited per
/// client address.
pub fn router(state: UiState) -> Router {
    use pages::{
        account, api_keys, checker, contact_list, contacts, dashboard, domain_keys, domains,
        key_rotation, login, mailings, message_actions, messages, return_path, sending_domains,
        settings, suppressions, troubleshoot, webhook_actions, webhooks,
    };
    Router::new()
        .route("/", get(dashboard::home))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/platform/health", get(pages::platform_health::show))
        .route("/platform/destinations", get(pages::destinations::show))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/users", get(account::users).post(account::add_user))
        .route(
            "/users/{id}/delete",
            get(account::to_users).post(account::remove_user),
        )
        .route("/t/{tenant}", get(dashboard::show))
        .route(
            "/t/{tenant}/delete",
            get(pages::tenant_deletion::to_tenants).post(pages::tenant_deletion::delete),
        )
        .route(
            "/t/{tenant}/resume",
            get(pages::reputation::to_tenants).post(pages::reputation::resume),
        )
        .route(
            "/t/{tenant}/settings/email",
            get(settings::show).post(settings::save),
        )
        .route("/t/{tenant}/settings/email/test", post(settings::test))
        .route(
            "/t/{tenant}/settings/email/key-rotation",
            post(key_rotation::save),
        )
        .route(
            "/t/{tenant}/domains",
            get(domains::list).post(domains::create),
        )
        .route("/t/{tenant}/domains/{id}", get(domains::show))
        .route(
            "/t/{tenant}/domains/{id}/generate-key",
            post(domains::generate_key),
        )
        .route(
            "/t/{tenant}/domains/{id}/import-key",
            post(domains::import_key),
        )
        .route("/t/{tenant}/domains/{id}/active", post(domains::set_active))
        .route(
            "/t/{tenant}/domains/{id}/keys/{key}/promote",
            post(domain_keys::promote),
        )
        .route(
            "/t/{tenant}/domains/{id}/selector",
            post(domain_keys::change_selector),
        )
        .route("/t/{tenant}/domains/{id}/delete", post(domain_keys::delete))
        .route(
            "/t/{tenant}/domains/{id}/return-path",
            post(return_path::set),
        )
        .route(
            "/t/{tenant}/domains/{id}/return-path/check",
            post(return_path::check),
        )
        .route(
            "/t/{tenant}/domains/{id}/return-path/delete",
            post(return_path::remove),
        )
        .route(
            "/t/{tenant}/sending-domains",
            get(sending_domains::list).post(sending_domains::create),
        )
        .route(
            "/t/{tenant}/sending-domains/{domain}/verify",
            post(sending_domains::verify),
        )
        .route(
            "/t/{tenant}/sending-domains/{domain}/delete",
            post(sending_domains::delete),
        )
        .route(
            "/t/{tenant}/suppressions",
            get(suppressions::list).post(suppressions::add),
        )
        .route(
            "/t/{tenant}/suppressions/remove",
            post(suppressions::remove),
        )
        .route(
            "/t/{tenant}/suppressions/import",
            post(suppressions::import),
        )
        .route("/t/{tenant}/suppressions/export", get(suppressions::export))
        .route(
            "/t/{tenant}/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/t/{tenant}/webhooks/{id}", get(webhooks::show))
        .route(
            "/t/{tenant}/webhooks/{id}/enabled",
            get(webhook_actions::to_endpoint).post(webhook_actions::set_enabled),
        )
        .route(
            "/t/{tenant}/webhooks/{id}/test",
            get(webhook_actions::to_endpoint).post(webhook_actions::send_test),
        )
        .route(
            "/t/{tenant}/webhooks/{id}/rotate",
            get(webhook_actions::to_endpoint).post(webhooks::rotate),
        )
        .route(
            "/t/{tenant}/webhooks/{id}/delete",
            get(webhook_actions::to_endpoint).post(webhook_actions::delete),
        )
        .route(
            "/t/{tenant}/webhooks/{id}/deliveries/{delivery}/replay",
            get(webhook_actions::to_endpoint).post(webhook_actions::replay),
        )
        .route("/t/{tenant}/messages", get(messages::list))
        .route("/t/{tenant}/messages/{id}", get(messages::show))
        .route(
            "/t/{tenant}/messages/{id}/retry",
            get(message_actions::to_message).post(message_actions::retry),
        )
        .route(
            "/t/{tenant}/messages/{id}/cancel",
            get(message_actions::to_message).post(message_actions::cancel),
        )
        .route(
            "/t/{tenant}/mailings",
            get(mailings::list).post(mailings::create),
        )
        .route("/t/{tenant}/mailings/{id}", get(mailings::show))
        .route("/t/{tenant}/mailings/{id}/send", post(mailings::send))
        .route(
            "/t/{tenant}/mailings/{id}/delete",
            get(mailings::to_mailing).post(mailings::delete),
        )
        .route(
            "/t/{tenant}/contacts",
            get(contact_list::list).post(contacts::add),
        )
        .route("/t/{tenant}/contacts/new", get(contacts::new_form))
        .route(
            "/t/{tenant}/contacts/{id}",
            get(contacts::show).post(contacts::save),
        )
        .route(
            "/t/{tenant}/contacts/{id}/delete",
            get(contacts::to_contact).post(contacts::delete),
        )
        .route("/t/{tenant}/troubleshoot", get(troubleshoot::show))
        .route(
            "/t/{tenant}/troubleshoot/test-mailing",
            post(checker::send_test_mailing),
        )
        .route("/t/{tenant}/checker", get(checker::list))
        .route("/t/{tenant}/checker/{id}", get(checker::show))
        .route(
            "/t/{tenant}/api-keys",
            get(api_keys::list).post(api_keys::create),
        )
        .route(
            "/t/{tenant}/api-keys/{id}/revoke",
            get(api_keys::to_keys).post(api_keys::revoke),
        )
        .route("/t/{tenant}/{*rest}", any(pages::not_found))
        .route("/static/{file}", get(assets::serve))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::require))
        .layer(DefaultBodyLimit::max(FORM_LIMIT_BYTES))
        .with_state(state)
}
