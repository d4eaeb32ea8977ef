//! The record of a master key rotation and the reads and writes of every sealed column that a
//! rotation rewraps. The store never sees a key: it moves sealed bytes and check values.

use sealpost_domain::{TenantId, Timestamp};

use crate::{Store, StoreError, with_reader, with_writer};

/// The meta key of the authenticator root (sealed), the one sealed value kept in `meta`.
pub const AUTHENTICATOR_ROOT: &str = "authenticator_root";
/// The meta key of the check value of the master key the data is under.
pub const MASTER_KEY_CHECK: &str = "master_key_check";

/// Every column that holds a value sealed under the master key, in the order a rotation
/// rewraps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    AuthenticatorRoot,
    KeyPassword,
    RelayPassword,
    WebhookSecret,
    WebhookPreviousSecret,
}

impl SealedColumn {
    pub const ALL: [Self; 5] = [
        Self::AuthenticatorRoot,
        Self::KeyPassword,
        Self::RelayPassword,
        Self::WebhookSecret,
        Self::WebhookPreviousSecret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthenticatorRoot => "meta.authenticator_root",
            Self::KeyPassword => "signing_keys.sealed_password",
            Self::RelayPassword => "delivery_settings.sealed_password",
            Self::WebhookSecret => "webhook_endpoints.secret_sealed",
            Self::WebhookPreviousSecret => "webhook_endpoints.previous_secret_sealed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|column| column.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("sealed column {text:?}")))
    }

    /// The rows after an id, in id order: id, tenant (none for the root) and sealed value.
    fn select(self) -> &'static str {
        match self {
            Self::AuthenticatorRoot => {
                "SELECT key, CAST(NULL AS TEXT), value FROM meta \
                 WHERE key = 'authenticator_root' AND key > $1 ORDER BY key LIMIT $2"
            }
            Self::KeyPassword => {
                "SELECT id, tenant_id, sealed_password FROM signing_keys \
                 WHERE id > $1 ORDER BY id LIMIT $2"
            }
            Self::RelayPassword => {
                "SELECT tenant_id, tenant_id, sealed_password FROM delivery_settings \
                 WHERE tenant_id > $1 AND sealed_password IS NOT NULL ORDER BY tenant_id LIMIT $2"
            }
            Self::WebhookSecret => {
                "SELECT id, tenant_id, secret_sealed FROM webhook_endpoints \
                 WHERE id > $1 ORDER BY id LIMIT $2"
            }
            Self::WebhookPreviousSecret => {
                "SELECT id, tenant_id, previous_secret_sealed FROM webhook_endpoints \
                 WHERE id > $1 AND previous_secret_sealed IS NOT NULL ORDER BY id LIMIT $2"
            }
        }
    }

    /// Replaces one value only if it is still the one read, so a value a node changed in
    /// between (a new relay password) is never overwritten with an older one.
    fn update(self) -> &'static str {
        match self {
            Self::AuthenticatorRoot => "UPDATE meta SET value = $1 WHERE key = $2 AND value = $3",
            Self::KeyPassword => {
                "UPDATE signing_keys SET sealed_password = $1 WHERE id = $2 AND sealed_password = $3"
            }
            Self::RelayPassword => {
                "UPDATE delivery_settings SET sealed_password = $1 \
                 WHERE tenant_id = $2 AND sealed_password = $3"
            }
            Self::WebhookSecret => {
                "UPDATE webhook_endpoints SET secret_sealed = $1 WHERE id = $2 AND secret_sealed = $3"
            }
            Self::WebhookPreviousSecret => {
                "UPDATE webhook_endpoints SET previous_secret_sealed = $1 \
                 WHERE id = $2 AND previous_secret_sealed = $3"
            }
        }
    }
}

/// One sealed value as stored.
#[derive(Debug, Clone)]
pub struct SealedRow {
    pub id: String,
    pub tenant: Option<TenantId>,
    pub sealed: Vec<u8>,
}

/// One value to replace: the row, the sealed value read, the value under the new key.
#[derive(Debug, Clone)]
pub struct RewrappedValue {
    pub id: String,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// How far a rotation's rewrap has come: every row of the columns before `column`, and of
/// `column` every row up to `after` (by id), is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrapCursor {
    pub column: SealedColumn,
    pub after: String,
}

impl RewrapCursor {
    pub fn start() -> Self {
        Self {
            column: SealedColumn::ALL[0],
            after: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationPhase {
    Rewrapping,
    Finished,
}

impl RotationPhase {
    fn as_str(self) -> &'static str {
        match self {
            Self::Rewrapping => "rewrapping",
            Self::Finished => "finished",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "rewrapping" => Ok(Self::Rewrapping),
            "finished" => Ok(Self::Finished),
            other => Err(StoreError::Corrupt(format!("rotation phase {other:?}"))),
        }
    }
}

/// The stored rotation. `wraps` (new key under old, old under new) exist only while
/// rewrapping.
#[derive(Debug, Clone)]
pub struct RotationRecord {
    pub phase: RotationPhase,
    pub old_check: Vec<u8>,
    pub new_check: Vec<u8>,
    pub wraps: Option<(Vec<u8>, Vec<u8>)>,
    pub cursor: RewrapCursor,
    pub rewrapped: i64,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// What a rotation starts with.
#[derive(Debug, Clone)]
pub struct RotationStart<'a> {
    pub old_check: &'a [u8],
    pub new_check: &'a [u8],
    pub new_under_old: &'a [u8],
    pub old_under_new: &'a [u8],
    pub now: Timestamp,
}

type RotationRow = (
    String,
    Vec<u8>,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    String,
    String,
    i64,
    i64,
    Option<i64>,
);

impl Store {
    /// The current or last rotation, if there ever was one.
    pub async fn master_key_rotation(&self) -> Result<Option<RotationRecord>, StoreError> {
        let row: Option<RotationRow> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT phase, old_check, new_check, new_under_old, old_under_new, cursor_column, \
                 cursor_id, rewrapped, started_at, finished_at FROM master_key_rotation WHERE id = 1",
            )
            .fetch_optional(pool)
            .await?
        });
        let Some((
            phase,
            old_check,
            new_check,
            new_under_old,
            old_under_new,
            column,
            after,
            rewrapped,
            started_at,
            finished_at,
        )) = row
        else {
            return Ok(None);
        };
        let wraps = match (new_under_old, old_under_new) {
            (Some(new_under_old), Some(old_under_new)) => Some((new_under_old, old_under_new)),
            (None, None) => None,
            _ => return Err(StoreError::Corrupt("a rotation with one wrap".into())),
        };
        let phase = RotationPhase::parse(&phase)?;
        if (phase == RotationPhase::Rewrapping) != wraps.is_some() {
            return Err(StoreError::Corrupt(
                "rotation wraps and phase disagree".into(),
            ));
        }
        Ok(Some(RotationRecord {
            phase,
            old_check,
            new_check,
            wraps,
            cursor: RewrapCursor {
                column: SealedColumn::parse(&column)?,
                after,
            },
            rewrapped,
            started_at: Timestamp(started_at),
            finished_at: finished_at.map(Timestamp),
        }))
    }

    /// Records a new rotation, unless one is rewrapping already or the data is no longer under
    /// the key of `old_check` (another rotation finished in between); returns whether it did.
    /// One statement, so that SQLite takes the write lock at once instead of failing to
    /// upgrade a read under a busy node.
    pub async fn start_master_key_rotation(
        &self,
        start: &RotationStart<'_>,
    ) -> Result<bool, StoreError> {
        let cursor = RewrapCursor::start();
        let written = with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO master_key_rotation (id, phase, old_check, new_check, new_under_old, \
                 old_under_new, cursor_column, cursor_id, rewrapped, started_at, finished_at) \
                 SELECT 1, $1, $2, $3, $4, $5, $6, $7, 0, $8, NULL \
                 WHERE EXISTS (SELECT 1 FROM meta WHERE key = $10 AND value = $2) \
                 ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, \
                 old_check = excluded.old_check, new_check = excluded.new_check, \
                 new_under_old = excluded.new_under_old, old_under_new = excluded.old_under_new, \
                 cursor_column = excluded.cursor_column, cursor_id = excluded.cursor_id, \
                 rewrapped = 0, started_at = excluded.started_at, finished_at = NULL \
                 WHERE master_key_rotation.phase = $9",
            )
            .bind(RotationPhase::Rewrapping.as_str())
            .bind(start.old_check)
            .bind(start.new_check)
            .bind(start.new_under_old)
            .bind(start.old_under_new)
            .bind(cursor.column.as_str())
            .bind(&cursor.after)
            .bind(start.now.0)
            .bind(RotationPhase::Finished.as_str())
            .bind(MASTER_KEY_CHECK)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(written == 1)
    }

    /// Up to `limit` sealed values of `column` after the id `after`, in id order.
    pub async fn sealed_rows(
        &self,
        column: SealedColumn,
        after: &str,
        limit: u32,
    ) -> Result<Vec<SealedRow>, StoreError> {
        let rows: Vec<(String, Option<String>, Vec<u8>)> = with_reader!(self, pool => {
            sqlx::query_as(column.select())
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(id, tenant, sealed)| {
                let tenant = tenant
                    .map(|tenant| {
                        tenant
                            .parse()
                            .map_err(|_| StoreError::Corrupt(format!("tenant id {tenant:?}")))
                    })
                    .transpose()?;
                Ok(SealedRow { id, tenant, sealed })
            })
            .collect()
    }

    /// Replaces the values of one batch in one transaction, each only if unchanged since it
    /// was read, and moves the rotation's cursor with them when one is given (a verification
    /// pass moves none). Returns how many values were replaced.
    pub async fn commit_rewraps(
        &self,
        column: SealedColumn,
        values: &[RewrappedValue],
        cursor: Option<&RewrapCursor>,
    ) -> Result<u64, StoreError> {
        let replaced = with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let mut replaced = 0;
            for value in values {
                replaced += sqlx::query(column.update())
                    .bind(&value.new)
                    .bind(&value.id)
                    .bind(&value.old)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
            }
            let moved = sqlx::query(
                "UPDATE master_key_rotation SET cursor_column = COALESCE($1, cursor_column), \
                 cursor_id = COALESCE($2, cursor_id), rewrapped = rewrapped + $3 \
                 WHERE id = 1 AND phase = $4",
            )
            .bind(cursor.map(|cursor| cursor.column.as_str()))
            .bind(cursor.map(|cursor| cursor.after.as_str()))
            .bind(i64::try_from(replaced).unwrap_or(i64::MAX))
            .bind(RotationPhase::Rewrapping.as_str())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if moved == 0 {
                return Err(StoreError::Changed("no master key rotation is in progress"));
            }
            transaction.commit().await?;
            replaced
        });
        Ok(replaced)
    }

    /// Ends the rotation: the new key's check value becomes the database's, both wraps are
    /// deleted, in one transaction. Returns whether a rotation was rewrapping.
    pub async fn finish_master_key_rotation(&self, now: Timestamp) -> Result<bool, StoreError> {
        let finished = with_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let finished = sqlx::query(
                "UPDATE master_key_rotation SET phase = $1, new_under_old = NULL, \
                 old_under_new = NULL, cursor_column = $2, cursor_id = '', finished_at = $3 \
                 WHERE id = 1 AND phase = $4",
            )
            .bind(RotationPhase::Finished.as_str())
            .bind(SealedColumn::ALL[0].as_str())
            .bind(now.0)
            .bind(RotationPhase::Rewrapping.as_str())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if finished == 1 {
                sqlx::query(
                    "UPDATE meta SET value = (SELECT new_check FROM master_key_rotation \
                     WHERE id = 1) WHERE key = $1",
                )
                .bind(MASTER_KEY_CHECK)
                .execute(&mut *transaction)
                .await?;
            }
            transaction.commit().await?;
            finished
        });
        Ok(finished == 1)
    }
}
