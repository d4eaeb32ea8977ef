//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    checker, dkim, mailings, messages, sending_domains, settings, signing_domains, tenants,
    troubleshoot,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Sealpost API", description = "Outbound e-mail for tenants' own domains."),
    paths(
        tenants::list, tenants::create, tenants::show, tenants::list_keys, tenants::create_key,
        tenants::revoke_key,
        signing_domains::list, signing_domains::create, signing_domains::show,
        signing_domains::update, signing_domains::remove, signing_domains::generate_key,
        signing_domains::import_key, signing_domains::dns_record, signing_domains::dns_check, dkim::verify,
        sending_domains::list, sending_domains::create, sending_domains::show,
        sending_domains::verify, sending_domains::remove,
        messages::submit, messages::submit_raw, messages::list, messages::show,
        messages::raw_source, messages::dkim, messages::retry, messages::cancel,
        settings::show, settings::update, settings::test_connection,
        mailings::list_contacts, mailings::create_contact, mailings::list, mailings::create,
        mailings::show, mailings::send,
        checker::issue_address, checker::send_test_mailing, checker::list_reports,
        checker::show_report, checker::raw_report, troubleshoot::troubleshoot,
    ),
    modifiers(&BearerSchemes)
)]
pub struct ApiDoc;

struct BearerSchemes;

impl Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, description) in [
            ("api_key", "a tenant API key (sp_...)"),
            (
                "operator",
                "the operator token from the server configuration",
            ),
        ] {
            let scheme = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description))
                .build();
            components.add_security_scheme(name, SecurityScheme::Http(scheme));
        }
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
