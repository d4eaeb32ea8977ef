//! Automatic DKIM key rotation in the pages (SPEC S11.1): its form on the E-mail settings page,
//! and the line on a signing domain's page that says when its keys are next replaced or, while a
//! new key waits for DNS, what to do next.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sealpost_domain::{
    KeyAlgorithm, KeyRotation, RotationPeriod, SigningDomain, rotation_schedule,
};
use sealpost_service::ServiceError;
use serde::Deserialize;

use crate::UiState;
use crate::error::PageError;
use crate::form_errors::{FieldErrors, Labels};
use crate::format;
use crate::pages::settings;
use crate::pages::tenant_path;
use crate::session::Scope;

/// The rotation fields as the settings form shows them.
pub struct RotationFields {
    pub on: bool,
    pub days: String,
    pub min: u16,
    pub max: u16,
}

impl RotationFields {
    pub fn stored(rotation: KeyRotation) -> Self {
        Self::with(
            rotation.period().is_some(),
            rotation
                .period()
                .map_or(180, RotationPeriod::days)
                .to_string(),
        )
    }

    fn typed(form: &RotationForm) -> Self {
        Self::with(form.automatic.is_some(), form.every_days.clone())
    }

    fn with(on: bool, days: String) -> Self {
        Self {
            on,
            days,
            min: RotationPeriod::MIN_DAYS,
            max: RotationPeriod::MAX_DAYS,
        }
    }
}

#[derive(Deserialize)]
pub struct RotationForm {
    #[serde(default)]
    automatic: Option<String>,
    #[serde(default)]
    every_days: String,
}

const LABELS: &Labels = &[("every_days", "rotation period")];

/// Saves the rotation setting; a refused period comes back next to its field, as typed.
pub async fn save(
    State(state): State<UiState>,
    scope: Scope,
    Form(form): Form<RotationForm>,
) -> Result<Response, PageError> {
    let days = match (
        form.automatic.is_some(),
        form.every_days.trim().parse::<i64>(),
    ) {
        (false, _) => None,
        (true, Ok(days)) => Some(days),
        (true, Err(_)) => {
            let errors = FieldErrors::field(
                "every_days",
                format!(
                    "Enter a whole number of days from {} to {}",
                    RotationPeriod::MIN_DAYS,
                    RotationPeriod::MAX_DAYS
                ),
            );
            return refused(&state, &scope, &form, errors).await;
        }
    };
    match state
        .service
        .signing_domains()
        .set_key_rotation(scope.tenant.id, days)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}/settings/email?notice=rotation",
            tenant_path(&scope)
        ))
        .into_response()),
        Err(error @ ServiceError::Invalid { .. }) => {
            let (_, errors) = FieldErrors::of(&error, LABELS);
            refused(&state, &scope, &form, errors).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn refused(
    state: &UiState,
    scope: &Scope,
    form: &RotationForm,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let outcome = settings::Outcome {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        rotation: Some(RotationFields::typed(form)),
        ..settings::Outcome::plain(None)
    };
    settings::page(state, scope, None, outcome).await
}

/// What a signing domain's page says about automatic rotation: when each key is next replaced,
/// or what to do while a new key waits for DNS.
pub fn domain_line(domain: &SigningDomain, rotation: KeyRotation) -> String {
    let Some(period) = rotation.period() else {
        return "Off: keys are replaced only when you generate or import one. It can be switched \
                on in the e-mail settings."
            .to_owned();
    };
    let days = period.days();
    if let Some(waiting) = [KeyAlgorithm::Rsa, KeyAlgorithm::Ed25519]
        .into_iter()
        .find_map(|algorithm| domain.pending_key_of(algorithm))
    {
        return format!(
            "Every {days} days. A new key under selector {} waits for its DNS record: publish \
             it as shown under \"Send these records to your IT department\" (nothing to \
             publish when the domain's CNAMEs delegate its keys to the platform). The current \
             key keeps signing until DNS carries the new one.",
            waiting.selector
        );
    }
    let schedule = rotation_schedule(domain, period);
    if schedule.is_empty() {
        return format!("Every {days} days, counted from when a key starts signing.");
    }
    let dates: Vec<String> = schedule
        .iter()
        .map(|due| {
            let name = match due.algorithm {
                KeyAlgorithm::Rsa => "RSA",
                KeyAlgorithm::Ed25519 => "Ed25519",
            };
            format!("the {name} key on {}", format::time(due.at))
        })
        .collect();
    format!(
        "Every {days} days: a new key is made for {}. Until DNS carries it, the current key \
         keeps signing.",
        dates.join(" and ")
    )
}
