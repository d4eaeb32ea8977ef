//! The OpenAPI document, generated from the handlers' annotations. The errors that every route
//! of a kind can answer (a missing key, a malformed body, an unknown id) are added here from what
//! each operation declares, so that no annotation can forget them; the errors particular to a
//! route (409, 422) stay in its annotation.

use axum::Json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;
use crate::{
    checker, contacts, dkim, mailings, messages, platform, return_paths, sending_domains, settings,
    signing_domains, signing_keys, suppressions, tenants, troubleshoot, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Sealpost API", description = "Outbound e-mail for tenants' own domains."),
    paths(
        tenants::list, tenants::create, tenants::show, tenants::remove, tenants::list_keys, tenants::create_key,
        tenants::revoke_key, tenants::reputation, tenants::resume, tenants::own_reputation,
        signing_domains::list, signing_domains::create, signing_domains::show,
        signing_domains::update, signing_domains::remove, signing_domains::generate_key,
        signing_domains::import_key, signing_domains::dns_record, signing_domains::dns_check,
        signing_domains::dkim_delegation,
        signing_keys::promote, signing_keys::key_record, signing_keys::events, dkim::verify,
        sending_domains::list, sending_domains::create, sending_domains::show,
        sending_domains::verify, sending_domains::remove,
        messages::submit, messages::submit_raw, messages::list, messages::show,
        messages::raw_source, messages::dkim, messages::retry, messages::cancel,
        settings::show, settings::update, settings::test_connection,
        settings::show_key_rotation, settings::update_key_rotation,
        contacts::show, contacts::update, contacts::remove,
        mailings::list_contacts, mailings::create_contact, mailings::list, mailings::create,
        mailings::show, mailings::remove, mailings::send,
        checker::issue_address, checker::send_test_mailing, checker::list_reports,
        checker::show_report, checker::raw_report, troubleshoot::troubleshoot,
        suppressions::list, suppressions::create, suppressions::show, suppressions::remove,
        suppressions::import, suppressions::export,
        webhooks::list, webhooks::create, webhooks::show, webhooks::update, webhooks::remove,
        webhooks::rotate_secret, webhooks::send_test, webhooks::deliveries, webhooks::attempts,
        webhooks::replay,
        return_paths::show, return_paths::set, return_paths::remove, return_paths::check,
        platform::health,
        platform::destinations,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerSchemes, &CommonErrors)
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

/// An error that whole kinds of operations can answer, with the condition that makes an
/// operation one of that kind. Every such answer has the API's error body.
struct CommonError {
    status: &'static str,
    /// The name of the shared response under `components/responses`.
    name: &'static str,
    description: &'static str,
    applies: fn(&Operation) -> bool,
}

const COMMON_ERRORS: &[CommonError] = &[
    CommonError {
        status: "401",
        name: "Unauthorized",
        description: "The Authorization header is missing, is not \"Bearer <token>\", or the \
                      token is not valid for this route.",
        applies: has_security,
    },
    CommonError {
        status: "400",
        name: "BadRequest",
        description: "The body is not JSON of the declared shape (a syntax error, a missing or \
                      unknown field, a wrong type), broke off, or has a malformed transfer \
                      encoding; or the query string does not parse.",
        applies: reads_body_or_query,
    },
    CommonError {
        status: "404",
        name: "NotFound",
        description: "Nothing of this tenant has the id or name in the path (a malformed id \
                      names nothing, so it is not found either).",
        applies: has_path_parameter,
    },
    CommonError {
        status: "408",
        name: "RequestTimeout",
        description: "The body did not arrive within the deadline for a whole body.",
        applies: has_body,
    },
    CommonError {
        status: "413",
        name: "PayloadTooLarge",
        description: "The body is larger than the route's limit; the message names it in \
                      bytes.",
        applies: has_body,
    },
    CommonError {
        status: "415",
        name: "UnsupportedMediaType",
        description: "A JSON body was sent without Content-Type: application/json.",
        applies: has_json_body,
    },
];

/// Adds the [`COMMON_ERRORS`] to every operation they apply to, leaving alone a status the
/// operation's annotation already describes in its own words.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for error in COMMON_ERRORS {
            components.responses.insert(
                error.name.to_owned(),
                RefOr::T(error_response(error.description)),
            );
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let applicable: Vec<&CommonError> = COMMON_ERRORS
                    .iter()
                    .filter(|error| (error.applies)(operation))
                    .collect();
                for error in applicable {
                    operation
                        .responses
                        .responses
                        .entry(error.status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(error.name)));
                }
            }
        }
    }
}

/// A response with the API's error body.
fn error_response(description: &str) -> Response {
    let schema = Ref::from_schema_name("ErrorBody");
    ResponseBuilder::new()
        .description(description)
        .content("application/json", Content::new(Some(schema)))
        .build()
}

fn has_security(operation: &Operation) -> bool {
    operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty())
}

fn has_parameter_in(operation: &Operation, location: ParameterIn) -> bool {
    operation.parameters.iter().flatten().any(
        |parameter| matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == location),
    )
}

fn has_path_parameter(operation: &Operation) -> bool {
    has_parameter_in(operation, ParameterIn::Path)
}

fn has_body(operation: &Operation) -> bool {
    operation.request_body.is_some()
}

fn has_json_body(operation: &Operation) -> bool {
    matches!(&operation.request_body,
        Some(RefOr::T(body)) if body.content.contains_key("application/json"))
}

fn reads_body_or_query(operation: &Operation) -> bool {
    has_body(operation) || has_parameter_in(operation, ParameterIn::Query)
}

/// The document as served: the derived one with the rules the derive cannot state.
pub async fn document() -> Json<serde_json::Value> {
    let mut document =
        serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
    crate::schema_rules::add(&mut document);
    Json(document)
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::ApiDoc;

    /// The statuses one operation of the document declares.
    #[track_caller]
    fn statuses(path: &str, method: &str) -> Vec<String> {
        let document = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let responses = document["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is not in the document"));
        responses.keys().cloned().collect()
    }

    #[track_caller]
    fn check(path: &str, method: &str, expect: &[&str]) {
        assert_eq!(statuses(path, method), expect, "{method} {path}");
    }

    #[test]
    fn each_operation_lists_the_errors_of_its_kind() {
        // A list takes paging and filters in its query: a broken query is 400, a bad value 422.
        check("/api/v1/messages", "get", &["200", "400", "401", "422"]);
        check(
            "/api/v1/tenants",
            "post",
            &["201", "400", "401", "408", "409", "413", "415", "422"],
        );
        // Deleting a signing domain is refused while queued mail needs its keys.
        check(
            "/api/v1/signing-domains/{id}",
            "delete",
            &["204", "401", "404", "409"],
        );
        check(
            "/api/v1/dkim/verify",
            "post",
            &["200", "400", "401", "408", "413", "422"],
        );
        check("/api/v1/troubleshoot", "get", &["200", "400", "401", "422"]);
    }

    #[test]
    fn the_documented_bounds_are_the_limits() {
        use sealpost_domain::limits::{address, message, text};
        let document = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let schemas = &document["components"]["schemas"];
        let bound = |schema: &str, field: &str, keyword: &str| {
            schemas[schema]["properties"][field][keyword]
                .as_u64()
                .map(|value| value as usize)
        };
        assert_eq!(
            bound("NewApiKeyRequest", "label", "maxLength"),
            Some(text::MAX_LABEL_CHARS)
        );
        assert_eq!(
            bound("NewTenantRequest", "display_name", "maxLength"),
            Some(text::MAX_LABEL_CHARS)
        );
        assert_eq!(
            bound("ContactRequest", "email", "maxLength"),
            Some(address::MAX_MAILBOX)
        );
        assert_eq!(
            bound("NewSigningDomainRequest", "domain", "maxLength"),
            Some(address::MAX_DOMAIN)
        );
        assert_eq!(
            bound("MailingRequest", "recipients", "maxItems"),
            Some(message::MAX_RECIPIENTS)
        );
    }

    #[test]
    fn no_two_types_share_a_schema_name() {
        // utoipa names a schema after its type alone, so two `KeyView`s would silently become
        // one and the document would describe one of them wrongly.
        let document = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let key = &document["components"]["schemas"]["KeyView"]["properties"];
        assert!(key.get("public_key_pem").is_some(), "{key}");
        let dkim_key = &document["components"]["schemas"]["DkimKeyView"]["properties"];
        assert!(dkim_key.get("record").is_some(), "{dkim_key}");
    }
}
