//! The mail tester's test addresses and reports (SPEC S7). The listener learns the tenant from
//! the token, so [`Store::checker_address`] is, with the queue's claims, the one lookup that is
//! not given a tenant; everything a person reads goes through the tenant.

use sealpost_domain::{
    CheckerAddress, CheckerReportId, CheckerReportRecord, MessageId, TenantId, Timestamp,
};

use crate::paging::{Cursor, Page, PageRequest, like_pattern, searched, sql_for};
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(sqlx::FromRow)]
struct AddressRow {
    token: String,
    tenant_id: TenantId,
    message_id: Option<MessageId>,
    created_at: i64,
}

impl TryFrom<AddressRow> for CheckerAddress {
    type Error = StoreError;

    fn try_from(row: AddressRow) -> Result<Self, StoreError> {
        Ok(CheckerAddress {
            token: row.token,
            tenant_id: row.tenant_id,
            message_id: row.message_id,
            created_at: Timestamp(row.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: CheckerReportId,
    token: String,
    tenant_id: TenantId,
    received_at: i64,
    client_ip: String,
    helo: String,
    mail_from: String,
    score: f32,
    report: String,
}

impl TryFrom<ReportRow> for CheckerReportRecord {
    type Error = StoreError;

    fn try_from(row: ReportRow) -> Result<Self, StoreError> {
        Ok(CheckerReportRecord {
            id: row.id,
            token: row.token,
            tenant_id: row.tenant_id,
            received_at: Timestamp(row.received_at),
            client_ip: row.client_ip,
            helo: row.helo,
            mail_from: row.mail_from,
            score: row.score,
            report: row.report,
        })
    }
}

/// sqlx takes only static SQL, so the column list is a macro that `concat!` can join.
macro_rules! report_columns {
    () => {
        "id, token, tenant_id, received_at, client_ip, helo, mail_from, score, report"
    };
}

/// The tenant's reports (`$1`), of one token (`$2`) and matching a pattern (`$3`) when given,
/// on `$backend`.
macro_rules! report_filter {
    ($backend:ident) => {
        concat!(
            "tenant_id = $1 AND ($2 IS NULL OR token = $2) AND ($3 IS NULL OR ",
            searched!($backend, "mail_from", "$3"),
            " OR ",
            searched!($backend, "helo", "$3"),
            " OR ",
            searched!($backend, "client_ip", "$3"),
            ")"
        )
    };
}

/// A page of [`report_filter`]'s reports on `$backend`, newest first, after the cursor `$4`,
/// `$5`, at most `$6`.
macro_rules! report_page_sql {
    ($backend:ident) => {
        concat!(
            "SELECT ",
            report_columns!(),
            " FROM checker_reports WHERE ",
            report_filter!($backend),
            " AND ($4 IS NULL OR received_at < $4 OR (received_at = $4 AND id < $5)) \
             ORDER BY received_at DESC, id DESC LIMIT $6"
        )
    };
}

/// How many reports pass [`report_filter`] on `$backend`.
macro_rules! report_count_sql {
    ($backend:ident) => {
        concat!(
            "SELECT COUNT(*) FROM checker_reports WHERE ",
            report_filter!($backend)
        )
    };
}

impl Store {
    /// Issues a test address; `NotFound` when the tenant does not exist.
    pub async fn insert_checker_address(&self, address: &CheckerAddress) -> Result<(), StoreError> {
        let inserted = with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO checker_addresses (token, tenant_id, message_id, created_at) \
                 SELECT $1, id, $2, $3 FROM tenants WHERE id = $4",
            )
            .bind(&address.token)
            .bind(address.message_id)
            .bind(address.created_at.0)
            .bind(address.tenant_id)
            .execute(pool)
            .await
            .map_err(|error| StoreError::duplicate_as(error, "a test address with this token"))?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The test address with this token, whichever tenant it belongs to (the listener's
    /// lookup).
    pub async fn checker_address(&self, token: &str) -> Result<Option<CheckerAddress>, StoreError> {
        let row: Option<AddressRow> = with_reader!(self, pool => {
            sqlx::query_as(
                "SELECT token, tenant_id, message_id, created_at FROM checker_addresses \
                 WHERE token = $1",
            )
            .bind(token)
            .fetch_optional(pool)
            .await?
        });
        row.map(CheckerAddress::try_from).transpose()
    }

    /// Links a test address to the test mailing sent to it.
    pub async fn set_checker_address_message(
        &self,
        tenant: TenantId,
        token: &str,
        message: MessageId,
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query(
                "UPDATE checker_addresses SET message_id = $1 WHERE tenant_id = $2 AND token = $3",
            )
            .bind(message)
            .bind(tenant)
            .bind(token)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Stores a report with the message it was made from.
    pub async fn insert_checker_report(
        &self,
        report: &CheckerReportRecord,
        raw: &[u8],
    ) -> Result<(), StoreError> {
        with_writer!(self, pool => {
            sqlx::query(
                "INSERT INTO checker_reports (id, token, tenant_id, received_at, client_ip, helo, \
                 mail_from, raw, score, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(report.id)
            .bind(&report.token)
            .bind(report.tenant_id)
            .bind(report.received_at.0)
            .bind(&report.client_ip)
            .bind(&report.helo)
            .bind(&report.mail_from)
            .bind(raw)
            .bind(report.score)
            .bind(&report.report)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The tenant's newest reports, newest first; with a token, only that address's.
    pub async fn checker_reports(
        &self,
        tenant: TenantId,
        token: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CheckerReportRecord>, StoreError> {
        let page = self
            .checker_report_page(tenant, token, None, &PageRequest::first(limit))
            .await?;
        Ok(page.items)
    }

    /// One page of the tenant's reports, newest first, with how many match in all: with a
    /// token only that address's, with a search those whose MAIL FROM, HELO name or client
    /// address contains it (ignoring ASCII case).
    pub async fn checker_report_page(
        &self,
        tenant: TenantId,
        token: Option<&str>,
        search: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<CheckerReportRecord>, StoreError> {
        let sql = sql_for!(self, report_page_sql);
        let count_sql = sql_for!(self, report_count_sql);
        let pattern = like_pattern(search);
        let (after_at, after_id) = request.time_key();
        let (rows, total): (Vec<ReportRow>, i64) = with_reader!(self, pool => {
            // The page and its count are independent reads: they run at once, on two of the
            // pool's connections, so a page waits for the slower of them only.
            let (rows, (total,)): (_, (i64,)) = tokio::try_join!(
                sqlx::query_as(sql)
                    .bind(tenant)
                    .bind(token)
                    .bind(pattern.as_deref())
                    .bind(after_at)
                    .bind(after_id)
                    .bind(request.fetch())
                    .fetch_all(pool),
                sqlx::query_as(count_sql)
                    .bind(tenant)
                    .bind(token)
                    .bind(pattern.as_deref())
                    .fetch_one(pool),
            )?;
            (rows, total)
        });
        let reports = rows
            .into_iter()
            .map(CheckerReportRecord::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::cut(reports, request, total, |report| Cursor::Time {
            at: report.received_at.0,
            id: report.id.to_string(),
        }))
    }

    pub async fn checker_report(
        &self,
        tenant: TenantId,
        id: CheckerReportId,
    ) -> Result<CheckerReportRecord, StoreError> {
        let sql = concat!(
            "SELECT ",
            report_columns!(),
            " FROM checker_reports WHERE tenant_id = $1 AND id = $2"
        );
        let row: Option<ReportRow> = with_reader!(self, pool => {
            sqlx::query_as(sql)
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The message a report was made from, exactly as it arrived.
    pub async fn checker_report_raw(
        &self,
        tenant: TenantId,
        id: CheckerReportId,
    ) -> Result<Vec<u8>, StoreError> {
        let row: Option<(Vec<u8>,)> = with_reader!(self, pool => {
            sqlx::query_as("SELECT raw FROM checker_reports WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.ok_or(StoreError::NotFound)?.0)
    }
}
