//! Rules of the message bodies that the derived schemas cannot state, written into the OpenAPI
//! document as JSON Schema: a rule that spans fields (at least one recipient in `to`, `cc` or
//! `bcc`; a text or an HTML body; exactly one of `raw` and `raw_base64`), the names of a map's
//! keys (extra header names), and the items of a list of addresses. utoipa's model has no
//! `propertyNames`, so the rules are added to the document as JSON.
//!
//! Like the other patterns of the document, an address pattern describes a subset of what the
//! server accepts (plain ASCII addresses, an optional plain display name): a request that
//! matches it is accepted, and one outside it may still be.

use serde_json::{Value, json};

/// A plain address: a dot-atom local part and a domain as the document writes domains.
const ADDRESS: &str = "[A-Za-z0-9_+-]{1,30}(?:\\.[A-Za-z0-9_+-]{1,30})?@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\\.){1,3}[a-z][a-z0-9]{0,19}";
/// One line without control characters, as subjects and header values must be.
const ONE_LINE: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

fn address() -> Value {
    json!({"type": "string", "pattern": format!("^{ADDRESS}$"), "maxLength": 254})
}

/// `address` or `Display Name <address>`.
fn mailbox() -> Value {
    let named = format!("[A-Za-z0-9]{{1,20}}(?: [A-Za-z0-9]{{1,20}}){{0,2}} <{ADDRESS}>");
    json!({"type": "string", "pattern": format!("^(?:{named}|{ADDRESS})$"), "maxLength": 320})
}

fn nullable(mut schema: Value) -> Value {
    schema["type"] = json!(["string", "null"]);
    schema
}

/// A list of mailboxes; the whole message has at most 1000 recipients.
fn mailboxes() -> Value {
    json!({"type": "array", "items": mailbox(), "maxItems": 1000})
}

/// A schema whose `field` is present and a string (not null).
fn present(field: &str) -> Value {
    json!({"required": [field], "properties": {field: {"type": "string"}}})
}

/// A schema whose list `field` is present and not empty.
fn not_empty(field: &str) -> Value {
    json!({"required": [field], "properties": {field: {"minItems": 1}}})
}

/// Adds the rules to the components of `document`.
pub(crate) fn add(document: &mut Value) {
    optional_bodies(document);
    let schemas = &mut document["components"]["schemas"];
    compose(component(schemas, "ComposeRequest"));
    attachment(component(schemas, "AttachmentRequest"));
    raw(component(schemas, "RawMessageRequest"));
    delivery(component(schemas, "DeliveryRequest"));
}

/// An optional request body (`Option<T>` in the handler) may be left out, but when it is sent
/// it must be a JSON object, as every body is: utoipa writes it as "T or null", which would
/// promise that `null` is accepted. Such a body becomes "T", not required.
fn optional_bodies(document: &mut Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for operation in paths.values_mut().filter_map(Value::as_object_mut) {
        for body in operation
            .values_mut()
            .filter_map(|operation| operation.get_mut("requestBody"))
        {
            // `get_mut`, not indexing: indexing would add a JSON content to every other body.
            let Some(schema) = body
                .get_mut("content")
                .and_then(|content| content.get_mut("application/json"))
                .and_then(|json| json.get_mut("schema"))
            else {
                continue;
            };
            let Some(choices) = schema.get("oneOf").and_then(Value::as_array) else {
                continue;
            };
            let (nulls, others): (Vec<&Value>, Vec<&Value>) = choices
                .iter()
                .partition(|choice| choice["type"] == json!("null"));
            if let ([_], [only]) = (nulls.as_slice(), others.as_slice()) {
                *schema = (*only).clone();
                body["required"] = json!(false);
            }
        }
    }
}

/// The schema named `name`; a renamed request type fails the unit test below rather than
/// receiving its rules under a name nothing refers to.
fn component<'a>(schemas: &'a mut Value, name: &str) -> &'a mut Value {
    schemas
        .get_mut(name)
        .unwrap_or_else(|| panic!("the document has no schema {name}"))
}

fn compose(schema: &mut Value) {
    let properties = &mut schema["properties"];
    properties["from"] = mailbox();
    for list in ["to", "cc", "bcc"] {
        properties[list] = mailboxes();
    }
    properties["reply_to"] = nullable(mailbox());
    properties["mail_from"] = nullable(address());
    properties["subject"] = json!({"type": "string", "pattern": ONE_LINE, "maxLength": 900});
    for body in ["text", "html"] {
        properties[body] = json!({"type": ["string", "null"], "pattern": "^[^\\u0000]*$"});
    }
    properties["headers"] = json!({
        "type": "object",
        "description": "Extra headers: X- headers (or List-Unsubscribe) with one-line values.",
        "propertyNames": {"pattern": "^X-[A-Za-z0-9]{1,30}(?:-[A-Za-z0-9]{1,30})?$"},
        "additionalProperties": {"type": "string", "pattern": ONE_LINE, "maxLength": 900},
    });
    schema["allOf"] = json!([
        {"anyOf": [not_empty("to"), not_empty("cc"), not_empty("bcc")]},
        {"anyOf": [present("text"), present("html")]},
        {"anyOf": [
            no_unsubscribe(),
            {"properties": {"to": {"maxItems": 1}, "cc": {"maxItems": 0}, "bcc": {"maxItems": 0}}},
        ]},
    ]);
}

/// A schema whose `one_click_unsubscribe` is absent or false; with it true, the link names the
/// recipient, so the message may have only one.
fn no_unsubscribe() -> Value {
    json!({"properties": {"one_click_unsubscribe": {"enum": [false]}}})
}

fn attachment(schema: &mut Value) {
    let properties = &mut schema["properties"];
    properties["filename"] =
        json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}(?:\\.[a-z0-9]{1,5})?$"});
    properties["content_type"] = json!({"type": "string",
        "pattern": "^(?:text|image|application)/[a-z0-9]{1,20}(?:[.+-][a-z0-9]{1,20})?$"});
    // Canonical base64: the bits after the last byte in a padded group are zero.
    properties["content_base64"] = json!({"type": "string",
        "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$"});
}

fn raw(schema: &mut Value) {
    let properties = &mut schema["properties"];
    properties["mail_from"] = address();
    properties["recipients"] =
        json!({"type": "array", "items": address(), "minItems": 1, "maxItems": 1000});
    schema["oneOf"] = json!([present("raw"), present("raw_base64")]);
    schema["anyOf"] = json!([
        no_unsubscribe(),
        {"properties": {"recipients": {"maxItems": 1}}},
    ]);
}

/// Mode relay needs a host, and "use SSL" (TLS from the first byte) cannot go with TLS mode
/// none, in either mode, since the relay fields are checked whatever the mode.
fn delivery(schema: &mut Value) {
    schema["allOf"] = json!([
        {"anyOf": [
            {"properties": {"mode": {"enum": ["native"]}}},
            {"required": ["host"], "properties": {"host": {"type": "string"}}},
        ]},
        {"anyOf": [
            {"properties": {"use_ssl": {"enum": [false]}}},
            {"properties": {"tls_mode": {"enum": ["default", "required", null]}}},
        ]},
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_land_on_the_request_schemas() {
        let mut document =
            serde_json::to_value(<crate::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
        add(&mut document);
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["RawMessageRequest"]["oneOf"][1]["required"][0],
            "raw_base64"
        );
        assert_eq!(
            schemas["ComposeRequest"]["allOf"][0]["anyOf"][2]["required"][0],
            "bcc"
        );
        assert!(schemas["ComposeRequest"]["properties"]["headers"]["propertyNames"].is_object());
        assert_eq!(
            schemas["AttachmentRequest"]["properties"]["filename"]["type"],
            "string"
        );
        // An optional body may be left out but is never `null`.
        let body =
            &document["paths"]["/api/v1/signing-domains/{id}/generate-key"]["post"]["requestBody"];
        assert_eq!(body["required"], false);
        assert_eq!(
            body["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/GenerateKeyRequest"
        );
        let raw_only = &document["paths"]["/api/v1/dkim/verify"]["post"]["requestBody"];
        assert!(raw_only["content"].get("application/json").is_none());
    }
}
