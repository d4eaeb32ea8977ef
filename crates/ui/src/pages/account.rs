//! The signed-in person's own account (a new password, the current one required) and, for
//! operators, everyone's accounts: the list, a new account (an operator or a client's
//! administrator), and removal, which asks first and signs the account out everywhere.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use sealpost_domain::{UserId, UserRole};
use sealpost_service::{ServiceError, SessionUser};
use serde::Deserialize;

use crate::UiState;
use crate::error::{PageError, service_status};
use crate::format;
use crate::layout::Layout;
use crate::pages::render;
use crate::session::Signed;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "password_changed.html")]
struct PasswordChanged;

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

pub async fn password_form(Signed { session }: Signed) -> Result<Response, PageError> {
    let page = PasswordPage {
        layout: Layout::plain(&session, "Change your password"),
        error: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn change_password(
    State(state): State<UiState>,
    Signed { session }: Signed,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let refused = |status: StatusCode, message: String| {
        let page = PasswordPage {
            layout: Layout::plain(&session, "Change your password"),
            error: Some(message),
        };
        render(status, &page)
    };
    if form.new_password != form.repeat_password {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The new password and its repetition differ; type the same password twice.".into(),
        );
    }
    match state
        .service
        .accounts()
        .change_own_password(&session.user, &form.current_password, &form.new_password)
        .await
    {
        // Every session of the account ended with the change, this one too.
        Ok(()) => Ok((StatusCode::OK, Html(PasswordChanged.render()?)).into_response()),
        Err(error @ ServiceError::Invalid { .. }) => {
            let (status, message) = service_status(&error);
            refused(status, message)
        }
        Err(other) => Err(other.into()),
    }
}

struct UserRow {
    id: String,
    email: String,
    role: String,
    created: String,
    own: bool,
}

struct TenantOption {
    id: String,
    label: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    tenants: Vec<TenantOption>,
    notice: Option<&'static str>,
    error: Option<String>,
    email: String,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    /// `operator`, or the id of the tenant the new account administers.
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// The accounts pages are the operator's; to anyone else they do not exist.
fn operator(session: &SessionUser) -> Result<(), PageError> {
    match session.user.role {
        UserRole::Operator => Ok(()),
        UserRole::TenantAdmin(_) => Err(PageError::NotFound),
    }
}

async fn users_page(
    state: &UiState,
    session: &SessionUser,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<(String, String)>,
) -> Result<Response, PageError> {
    let accounts = state.service.accounts();
    let tenants = accounts.list_tenants().await?;
    let users = accounts
        .list_users(&session.user)
        .await?
        .into_iter()
        .map(|user| UserRow {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            role: match user.role {
                UserRole::Operator => "operator".to_owned(),
                UserRole::TenantAdmin(id) => tenants
                    .iter()
                    .find(|tenant| tenant.id == id)
                    .map(|tenant| format!("administrator of {}", tenant.display_name))
                    .unwrap_or_else(|| "administrator of a client".to_owned()),
            },
            created: format::time(user.created_at),
            own: user.id == session.user.id,
        })
        .collect();
    let (error, email) = error.unzip();
    let page = UsersPage {
        layout: Layout::plain(session, "Users"),
        users,
        tenants: tenants
            .iter()
            .map(|tenant| TenantOption {
                id: tenant.id.to_string(),
                label: format!("{} ({})", tenant.display_name, tenant.name.as_str()),
            })
            .collect(),
        notice,
        error,
        email: email.unwrap_or_default(),
    };
    render(status, &page)
}

pub async fn users(
    State(state): State<UiState>,
    Signed { session }: Signed,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    operator(&session)?;
    let notice = match query.notice.as_str() {
        "added" => Some("Account added. Give its password to its owner in person."),
        "removed" => Some("Account removed; it was signed out everywhere."),
        _ => None,
    };
    users_page(&state, &session, StatusCode::OK, notice, None).await
}

pub async fn add_user(
    State(state): State<UiState>,
    Signed { session }: Signed,
    Form(form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    operator(&session)?;
    let role = match form.role.as_str() {
        "operator" => Ok(UserRole::Operator),
        other => other
            .parse()
            .map(UserRole::TenantAdmin)
            .map_err(|_| ServiceError::Invalid {
                field: "role",
                message: "choose what the account may see: all clients, or one client".into(),
            }),
    };
    let added = match role {
        Ok(role) => {
            state
                .service
                .accounts()
                .add_user(&session.user, &form.email, role, &form.password)
                .await
        }
        Err(error) => Err(error),
    };
    match added {
        Ok(_) => Ok(Redirect::to("/users?notice=added").into_response()),
        Err(
            error @ (ServiceError::Invalid { .. }
            | ServiceError::Conflict(_)
            | ServiceError::NotFound(_)),
        ) => {
            let (status, message) = service_status(&error);
            users_page(&state, &session, status, None, Some((message, form.email))).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn remove_user(
    State(state): State<UiState>,
    Signed { session }: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    operator(&session)?;
    let id: UserId = id.parse().map_err(|_| PageError::NotFound)?;
    match state
        .service
        .accounts()
        .remove_user(&session.user, id)
        .await
    {
        Ok(()) => Ok(Redirect::to("/users?notice=removed").into_response()),
        Err(error @ ServiceError::Conflict(_)) => {
            let (status, message) = service_status(&error);
            users_page(
                &state,
                &session,
                status,
                None,
                Some((message, String::new())),
            )
            .await
        }
        Err(ServiceError::NotFound(_)) => Err(PageError::NotFound),
        Err(other) => Err(other.into()),
    }
}

/// A GET of the remove address (a bookmark, a reload) shows the accounts and removes nothing.
pub async fn to_users() -> Response {
    Redirect::to("/users").into_response()
}
