//! AUTH PLAIN (RFC 4616) and LOGIN over RFC 4954: collect the credentials, let the backend
//! judge them, count the failures.
//!
//! Nothing here logs a password or an AUTH payload; user names are logged, as they identify
//! who tried.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};

use crate::backend::{BackendError, Identity};
use crate::reply::Reply;
use crate::session::{Session, Step};

/// Where an AUTH exchange stands while it waits for the client's next line.
#[derive(Debug)]
pub(crate) enum AuthExchange {
    /// `AUTH PLAIN` without an initial response: the whole response comes next.
    PlainResponse,
    /// `AUTH LOGIN`: the user name comes next.
    LoginUsername,
    /// `AUTH LOGIN` after the user name: the password comes next.
    LoginPassword { username: String },
}

/// A user name and password for the backend to check.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A client that authenticated: who it is, and the credentials it proved that with, kept
/// (never logged: their `Debug` is redacted) so that each transaction can check that they are
/// still valid.
#[derive(Debug)]
pub(crate) struct Login {
    pub(crate) identity: Identity,
    pub(crate) credentials: Credentials,
}

/// What came of checking credentials.
#[derive(Debug)]
pub(crate) enum AuthOutcome {
    Granted(Login),
    Denied {
        username: String,
    },
    /// The backend could not check them.
    Unavailable(BackendError),
    /// The client's address has too many recent failures; the backend was not asked.
    Blocked,
}

/// The LOGIN prompts, base64 of "Username:" and "Password:", as every client expects them.
const LOGIN_USERNAME_PROMPT: &str = "VXNlcm5hbWU6";
const LOGIN_PASSWORD_PROMPT: &str = "UGFzc3dvcmQ6";

impl Session {
    pub(crate) fn auth(&mut self, mechanism: u64, initial_response: &str) -> Step {
        if !self.auth_permitted() {
            return self.error(Reply::new(
                538,
                [5, 7, 11],
                "Encryption required for requested authentication mechanism",
            ));
        }
        if self.login.is_some() {
            return self.error(Reply::new(503, [5, 5, 1], "Already authenticated"));
        }
        if !self
            .greeted
            .as_ref()
            .is_some_and(|greeted| greeted.extended)
        {
            return self.error(Reply::new(503, [5, 5, 1], "Send EHLO first"));
        }
        if self.transaction.is_some() {
            return self.error(Reply::new(
                503,
                [5, 5, 1],
                "AUTH not permitted during a mail transaction",
            ));
        }
        match (mechanism, initial_response) {
            (AUTH_PLAIN, "") => self.challenge(AuthExchange::PlainResponse, ""),
            (AUTH_PLAIN, response) => self.plain(response.as_bytes()),
            (AUTH_LOGIN, "") => self.challenge(AuthExchange::LoginUsername, LOGIN_USERNAME_PROMPT),
            (AUTH_LOGIN, response) => self.login_username(response.as_bytes()),
            _ => self.error(Reply::new(
                504,
                [5, 5, 4],
                "Unrecognized authentication type",
            )),
        }
    }

    /// The client's line during an AUTH exchange.
    pub(crate) fn auth_response(&mut self, exchange: AuthExchange, line: &[u8]) -> Step {
        let response = line.trim_ascii_end();
        if response == b"*" {
            return Step::Reply(Reply::new(501, [5, 0, 0], "Authentication cancelled"));
        }
        match exchange {
            AuthExchange::PlainResponse => self.plain(response),
            AuthExchange::LoginUsername => self.login_username(response),
            AuthExchange::LoginPassword { username } => self.login_password(username, response),
        }
    }

    /// Ends a login whose credentials were revoked (found at a transaction's recheck, or by
    /// the backend with the message), with the reply that says so. No transaction outlives it.
    pub(crate) fn end_revoked_login(&mut self) -> Reply {
        tracing::warn!(
            username = self
                .login
                .as_ref()
                .map(|login| login.identity.username.as_str()),
            "credentials no longer valid, login ended"
        );
        self.login = None;
        self.transaction = None;
        Reply::new(
            530,
            [5, 7, 0],
            "Authentication no longer valid (the credentials were revoked), authenticate again",
        )
    }

    /// Takes the backend's verdict on the credentials.
    pub(crate) fn auth_finished(&mut self, outcome: AuthOutcome) -> Step {
        match outcome {
            AuthOutcome::Granted(login) => {
                tracing::info!(
                    tenant = %login.identity.tenant,
                    username = %login.identity.username,
                    "authenticated"
                );
                self.login = Some(login);
                Step::Reply(Reply::new(235, [2, 7, 0], "Authentication successful"))
            }
            AuthOutcome::Denied { username } => self.denied(&username),
            AuthOutcome::Unavailable(error) => {
                tracing::error!(%error, "credentials could not be checked");
                Step::Reply(Reply::new(
                    454,
                    [4, 7, 0],
                    "Temporary authentication failure",
                ))
            }
            AuthOutcome::Blocked => {
                tracing::warn!("AUTH refused: too many recent failures from this address");
                Step::Close(self.closing(
                    [4, 7, 0],
                    "Too many failed authentication attempts from your address, try again later",
                ))
            }
        }
    }

    fn challenge(&mut self, exchange: AuthExchange, prompt: &'static str) -> Step {
        self.auth_exchange = Some(exchange);
        Step::Reply(Reply::plain(334, vec![prompt.into()]))
    }

    /// RFC 4616: `[authzid] NUL authcid NUL passwd`. Acting for another identity is not
    /// supported, so an authorization identity must be empty or the user name itself.
    fn plain(&mut self, response: &[u8]) -> Step {
        let Some(decoded) = self.decode(response) else {
            return self.undecodable();
        };
        let mut parts = decoded.split('\0');
        let (Some(authzid), Some(username), Some(password), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return self.error(Reply::new(501, [5, 5, 2], "Malformed AUTH PLAIN response"));
        };
        if !authzid.is_empty() && authzid != username {
            return self.denied(username);
        }
        self.credentials(username.to_owned(), password.to_owned())
    }

    fn login_username(&mut self, response: &[u8]) -> Step {
        let Some(username) = self.decode(response) else {
            return self.undecodable();
        };
        self.challenge(
            AuthExchange::LoginPassword { username },
            LOGIN_PASSWORD_PROMPT,
        )
    }

    fn login_password(&mut self, username: String, response: &[u8]) -> Step {
        let Some(password) = self.decode(response) else {
            return self.undecodable();
        };
        self.credentials(username, password)
    }

    /// Empty user names or passwords are refused here so that no backend has to remember to.
    fn credentials(&mut self, username: String, password: String) -> Step {
        if username.is_empty() || password.is_empty() {
            return self.denied(&username);
        }
        Step::Authenticate(Credentials { username, password })
    }

    /// RFC 4954 4: `=` stands for an empty initial response.
    fn decode(&self, response: &[u8]) -> Option<String> {
        if response == b"=" {
            return Some(String::new());
        }
        let bytes = BASE64.decode(response).ok()?;
        String::from_utf8(bytes).ok()
    }

    /// RFC 4954 4: a response that is not base64 gets 501.
    fn undecodable(&mut self) -> Step {
        self.error(Reply::new(501, [5, 5, 2], "Cannot decode AUTH response"))
    }

    /// Counts a failure on this connection; the last allowed one closes it.
    fn denied(&mut self, username: &str) -> Step {
        self.auth_failures += 1;
        tracing::warn!(
            username,
            failures = self.auth_failures,
            "authentication failed"
        );
        if self.auth_failures >= self.config.limits.max_auth_failures_per_connection {
            return Step::Close(self.closing(
                [4, 7, 0],
                "Too many failed authentication attempts, closing connection",
            ));
        }
        Step::Reply(Reply::new(
            535,
            [5, 7, 8],
            "Authentication credentials invalid",
        ))
    }
}
