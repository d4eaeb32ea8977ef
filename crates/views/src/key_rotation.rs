//! A tenant's automatic DKIM key rotation as the API, the CLI and the pages show it: the period,
//! and the range a period must lie in.

use sealpost_domain::{KeyRotation, RotationPeriod};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyRotationView {
    /// Every active DKIM key is replaced this many days after it started signing; null when
    /// keys are replaced only by hand.
    pub every_days: Option<u16>,
    /// The shortest period allowed.
    pub min_days: u16,
    /// The longest period allowed.
    pub max_days: u16,
}

impl From<KeyRotation> for KeyRotationView {
    fn from(rotation: KeyRotation) -> Self {
        Self {
            every_days: rotation.period().map(RotationPeriod::days),
            min_days: RotationPeriod::MIN_DAYS,
            max_days: RotationPeriod::MAX_DAYS,
        }
    }
}
