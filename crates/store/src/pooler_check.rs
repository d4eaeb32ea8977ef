//! The start-up check of what stands between Sealpost and PostgreSQL: a connection pooler in
//! transaction mode that does not track prepared statements (PgBouncer before 1.21, or without
//! `max_prepared_statements`) hands a statement one client prepared to another client, which
//! then fails or, worse, reads the wrong query's rows without an error. Several connections
//! prepare the same two statements in opposite orders and run them in a burst; any mix-up, in
//! an error or in a result, refuses the start with the settings that work.

use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::StoreError;

/// Connections in the burst: more than a small pooler's server connections, so that a pooler
/// that mixes statements up has to share them.
const CONNECTIONS: i64 = 4;
/// Statement pairs each connection runs.
const ROUNDS: i64 = 20;
/// The check gives up (as a failure to connect, not a verdict) after this long.
const LIMIT: Duration = Duration::from_secs(30);

/// What the operator reads when the pooler mixes statements up.
pub const POOLER_MIXES_STATEMENTS: &str = "the connection pooler in front of PostgreSQL gives \
     prepared statements to the wrong clients (seen at start-up: {found}). Use PgBouncer in \
     session pooling mode (pool_mode = session), or PgBouncer 1.21 or later with \
     max_prepared_statements above 0 in transaction mode; see \"PgBouncer\" in docs/operator.md";

/// Runs the burst over fresh connections made with `options`.
pub(crate) async fn check(options: &PgConnectOptions) -> Result<(), StoreError> {
    let bursts = (0..CONNECTIONS).map(|client| {
        let options = options.clone();
        tokio::spawn(async move { burst(&options, client).await })
    });
    let mut joined = Vec::new();
    for burst in bursts {
        joined.push(burst);
    }
    let outcome = tokio::time::timeout(LIMIT, async {
        let mut first_problem = Ok(());
        for burst in joined {
            let result = burst
                .await
                .map_err(|error| StoreError::Unreachable(error.to_string()))
                .and_then(|result| result);
            if first_problem.is_ok() {
                first_problem = result;
            }
        }
        first_problem
    })
    .await;
    outcome.map_err(|_| {
        StoreError::Unreachable("the prepared statement check did not finish in time".into())
    })?
}

/// One client: prepares the two statements in an order of its own, then runs both again and
/// again, comparing each row with what the statement it named must return.
async fn burst(options: &PgConnectOptions, client: i64) -> Result<(), StoreError> {
    let mut connection = PgConnection::connect_with(options)
        .await
        .map_err(|error| StoreError::Unreachable(error.to_string()))?;
    for round in 0..ROUNDS {
        let number = client * 1000 + round;
        let order = match client % 2 {
            0 => [Statement::NumberFirst, Statement::TagFirst],
            _ => [Statement::TagFirst, Statement::NumberFirst],
        };
        for statement in order {
            statement.run(&mut connection, number).await?;
        }
    }
    connection.close().await.ok();
    Ok(())
}

/// Two statements whose rows differ in column order and types, so that a row of one read as the
/// other cannot go unnoticed.
#[derive(Debug, Clone, Copy)]
enum Statement {
    NumberFirst,
    TagFirst,
}

impl Statement {
    async fn run(self, connection: &mut PgConnection, number: i64) -> Result<(), StoreError> {
        let found = match self {
            Self::NumberFirst => {
                sqlx::query_as::<_, (i64, String)>("SELECT $1::int8, 'number first'::text")
                    .bind(number)
                    .fetch_one(&mut *connection)
                    .await
                    .map(|(value, tag)| (value, tag, number, "number first"))
            }
            Self::TagFirst => {
                sqlx::query_as::<_, (String, i64)>("SELECT 'tag first'::text, $1::int8 + 1")
                    .bind(number)
                    .fetch_one(&mut *connection)
                    .await
                    .map(|(tag, value)| (value, tag, number + 1, "tag first"))
            }
        };
        match found {
            Ok((value, tag, expected, expected_tag))
                if value == expected && tag == expected_tag =>
            {
                Ok(())
            }
            Ok((value, tag, expected, expected_tag)) => Err(mixed(&format!(
                "({value}, {tag:?}) instead of ({expected}, {expected_tag:?})"
            ))),
            Err(error) if is_mix_up(&error) => Err(mixed(&error.to_string())),
            Err(error) => Err(StoreError::Database(error)),
        }
    }
}

/// Errors a statement mix-up causes: the server does not know the statement, or knows another
/// one, or the row is not of the shape the statement has.
fn is_mix_up(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => database.message().contains("prepared statement"),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::Protocol(_) => true,
        _ => false,
    }
}

fn mixed(found: &str) -> StoreError {
    StoreError::Pooler(POOLER_MIXES_STATEMENTS.replace("{found}", found))
}
