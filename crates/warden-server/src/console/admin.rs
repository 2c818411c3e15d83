//! Administration: users with their roles and teams, API tokens (the secret
//! shown once; an admin mints ingest tokens for others, never tokens that
//! act on cases), and the queues with their routing, who they admit and
//! their SLA targets (read from configuration).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_app::accounts::credentials::NewPassword;
use warden_app::accounts::{check_token_name, AddUserCommand, MintTokenCommand};
use warden_domain::access::{parse_teams, Permission, Role, Scope};
use warden_domain::case::Severity;
use warden_domain::ids::UserName;
use warden_domain::FieldErrors;

use super::text;
use super::view::{render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use crate::error::AppError;
use crate::paths;
use crate::AppState;

/// A user in the table.
pub struct UserRow {
    pub name: String,
    pub role: String,
    /// Teams, comma-separated.
    pub teams: String,
    pub disabled: bool,
    pub locked: String,
    pub created: String,
    pub is_me: bool,
}

/// One role and what it may do.
pub struct RoleRow {
    pub role: &'static str,
    pub grants: Vec<bool>,
}

/// The users page.
#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    roles: Vec<&'static str>,
    permissions: Vec<&'static str>,
    matrix: Vec<RoleRow>,
    form: NewUserForm,
    errors: Vec<(String, String)>,
}

impl UsersPage {
    /// The error for `field`, if any.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, r)| r.as_str())
    }
}

/// The new-user form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewUserForm {
    pub name: String,
    pub role: String,
    /// Teams, comma-separated.
    pub teams: String,
    password: String,
}

/// Teams typed into a form: comma- or space-separated codes.
fn typed_teams(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

impl TryFrom<&mut NewUserForm> for AddUserCommand {
    type Error = FieldErrors;

    /// The user the form asks for, every field at fault reported; the
    /// password is taken out of the form (the page never shows it again).
    fn try_from(form: &mut NewUserForm) -> Result<Self, FieldErrors> {
        let password = std::mem::take(&mut form.password);
        let mut errors = FieldErrors::default();
        let name = errors.take("name", UserName::parse(form.name.trim()));
        let role = errors.take("role", form.role.parse::<Role>());
        let teams = errors.take("teams", parse_teams(&typed_teams(&form.teams)));
        let password = errors.take("password", NewPassword::parse(password));
        match (name, role, teams, password) {
            (Some(name), Some(role), Some(teams), Some(password)) if errors.is_empty() => {
                Ok(AddUserCommand {
                    name,
                    role,
                    teams,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

impl TryFrom<&NewTokenForm> for MintTokenCommand {
    type Error = FieldErrors;

    /// The token the form asks for, every field at fault reported.
    fn try_from(form: &NewTokenForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let user = form.user.trim();
        let user = errors.take(
            "user",
            UserName::parse(user).map_err(|_| format!("no user named {user:?}")),
        );
        let scope = errors.take("scope", form.scope.parse::<Scope>());
        let name = match Some(form.name.trim()).filter(|n| !n.is_empty()) {
            None => Some(None),
            Some(name) => errors.take("name", check_token_name(name)).map(Some),
        };
        match (user, scope, name) {
            (Some(user), Some(scope), Some(name)) if errors.is_empty() => {
                Ok(MintTokenCommand { user, scope, name })
            }
            _ => Err(errors),
        }
    }
}

fn field_errors(error: AppError) -> Result<Vec<(String, String)>, AppError> {
    match error {
        AppError::Invalid(errors) => {
            Ok(errors.0.into_iter().map(|e| (e.field, e.reason)).collect())
        }
        AppError::Conflict(message) => Ok(vec![("name".into(), message)]),
        other => Err(other),
    }
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<Notice>,
    form: NewUserForm,
    errors: Vec<(String, String)>,
) -> Result<Response, ConsoleError> {
    let now = state.now();
    let users = state
        .app
        .users()
        .await?
        .iter()
        .map(|u| UserRow {
            name: u.name.clone(),
            role: u.role.as_str().to_string(),
            teams: u.teams.join(", "),
            disabled: u.disabled,
            locked: u
                .locked_until
                .filter(|t| *t > now)
                .map(|t| format!("locked until {}", text::stamp(t)))
                .unwrap_or_default(),
            created: text::stamp(u.created_at),
            is_me: u.id == viewer.caller.principal.user_id,
        })
        .collect();
    let layout = Layout::new(viewer, "Users and roles", "users").with_notice(notice);
    Ok(render(
        status,
        &UsersPage {
            layout,
            users,
            roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
            permissions: Permission::ALL.iter().map(|p| p.as_str()).collect(),
            matrix: Role::ALL
                .iter()
                .map(|r| RoleRow {
                    role: r.as_str(),
                    grants: Permission::ALL.iter().map(|p| r.grants(*p)).collect(),
                })
                .collect(),
            form,
            errors,
        },
    ))
}

/// `GET /console/admin/users`.
pub async fn users(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, ConsoleError> {
    users_page(
        &state,
        &viewer,
        StatusCode::OK,
        None,
        NewUserForm {
            role: "analyst".into(),
            ..NewUserForm::default()
        },
        Vec::new(),
    )
    .await
}

/// `POST /console/admin/users`.
pub async fn create_user(
    State(state): State<AppState>,
    viewer: Viewer,
    ConsoleForm(mut form): ConsoleForm<NewUserForm>,
) -> Result<Response, ConsoleError> {
    let added = match AddUserCommand::try_from(&mut form) {
        Ok(command) => state
            .app
            .add_user(&viewer.actor(), command)
            .await
            .map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match added {
        Ok(user) => {
            users_page(
                &state,
                &viewer,
                StatusCode::OK,
                Some(Notice::ok(format!(
                    "{} can now sign in as {}.",
                    user.name, user.role
                ))),
                NewUserForm {
                    role: "analyst".into(),
                    ..NewUserForm::default()
                },
                Vec::new(),
            )
            .await
        }
        Err(error) => {
            let status = error.status();
            let errors = field_errors(error)?;
            users_page(
                &state,
                &viewer,
                status,
                Some(Notice::error("The user was not created; see the form.")),
                form,
                errors,
            )
            .await
        }
    }
}

async fn set_user(
    state: AppState,
    viewer: Viewer,
    name: String,
    disabled: bool,
) -> Result<Response, ConsoleError> {
    let actor = viewer.actor();
    let changed = match paths::user_name(&name) {
        Ok(user) if disabled => state
            .app
            .disable_user(&actor, &user)
            .await
            .map_err(AppError::from),
        Ok(user) => state
            .app
            .enable_user(&actor, &user)
            .await
            .map_err(AppError::from),
        Err(error) => Err(error),
    };
    let (status, notice) = match changed {
        Ok(user) if disabled => (
            StatusCode::OK,
            Notice::ok(format!(
                "{} is disabled: their sessions ended and their cases went back to the queues.",
                user.name
            )),
        ),
        Ok(user) => (
            StatusCode::OK,
            Notice::ok(format!("{} is enabled.", user.name)),
        ),
        Err(error) => {
            let problem = error.problem();
            (error.status(), Notice::error(problem.detail))
        }
    };
    users_page(
        &state,
        &viewer,
        status,
        Some(notice),
        NewUserForm {
            role: "analyst".into(),
            ..NewUserForm::default()
        },
        Vec::new(),
    )
    .await
}

/// The teams form of one user.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TeamsForm {
    /// Teams, comma-separated; empty for none.
    pub teams: String,
}

/// `POST /console/admin/users/{name}/teams`.
pub async fn set_teams(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    ConsoleForm(form): ConsoleForm<TeamsForm>,
) -> Result<Response, ConsoleError> {
    let changed = match parse_teams(&typed_teams(&form.teams)) {
        Ok(teams) => match paths::user_name(&name) {
            Ok(user) => state
                .app
                .set_teams(&viewer.actor(), &user, &teams)
                .await
                .map_err(AppError::from),
            Err(error) => Err(error),
        },
        Err(reason) => Err(AppError::invalid("teams", reason)),
    };
    let (status, notice) = match changed {
        Ok(user) if user.teams.is_empty() => (
            StatusCode::OK,
            Notice::ok(format!("{} is in no team now.", user.name)),
        ),
        Ok(user) => (
            StatusCode::OK,
            Notice::ok(format!(
                "{} is in {} now.",
                user.name,
                user.teams.join(", ")
            )),
        ),
        Err(error) => {
            let problem = error.problem();
            let detail = match &error {
                AppError::Invalid(errors) => errors
                    .0
                    .iter()
                    .map(|e| e.reason.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => problem.detail,
            };
            (
                error.status(),
                Notice::error(format!("The teams of {name} were not changed: {detail}")),
            )
        }
    };
    users_page(
        &state,
        &viewer,
        status,
        Some(notice),
        NewUserForm {
            role: "analyst".into(),
            ..NewUserForm::default()
        },
        Vec::new(),
    )
    .await
}

/// An empty form (the CSRF token only).
#[derive(Debug, Default, Deserialize)]
pub struct EmptyForm {}

/// `POST /console/admin/users/{name}/disable`.
pub async fn disable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    ConsoleForm(_form): ConsoleForm<EmptyForm>,
) -> Result<Response, ConsoleError> {
    set_user(state, viewer, name, true).await
}

/// `POST /console/admin/users/{name}/enable`.
pub async fn enable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    ConsoleForm(_form): ConsoleForm<EmptyForm>,
) -> Result<Response, ConsoleError> {
    set_user(state, viewer, name, false).await
}

/// A token in the table.
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub user: String,
    pub scope: String,
    pub created: String,
    pub revoked: String,
    pub minted_by: String,
}

/// The tokens page.
#[derive(Template)]
#[template(path = "admin_tokens.html")]
pub struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenRow>,
    users: Vec<String>,
    scopes: Vec<&'static str>,
    form: NewTokenForm,
    errors: Vec<(String, String)>,
    created: Option<(String, String)>,
}

impl TokensPage {
    /// The error for `field`, if any.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, r)| r.as_str())
    }
}

/// The new-token form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewTokenForm {
    pub user: String,
    pub scope: String,
    pub name: String,
}

async fn tokens_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<Notice>,
    form: NewTokenForm,
    errors: Vec<(String, String)>,
    created: Option<(String, String)>,
) -> Result<Response, ConsoleError> {
    let users = state.app.users().await?;
    let name_of = |id: i64| {
        users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("user {id}"), |u| u.name.clone())
    };
    let tokens = state
        .app
        .tokens()
        .await?
        .iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name.clone(),
            user: name_of(t.user_id),
            scope: t.scope.as_str().to_string(),
            created: text::stamp(t.created_at),
            revoked: t.revoked_at.map(text::stamp).unwrap_or_default(),
            minted_by: t.minted_by.clone().unwrap_or_else(|| "—".into()),
        })
        .collect();
    let layout = Layout::new(viewer, "API tokens", "tokens").with_notice(notice);
    Ok(render(
        status,
        &TokensPage {
            layout,
            tokens,
            users: users.iter().map(|u| u.name.clone()).collect(),
            scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
            form,
            errors,
            created,
        },
    ))
}

/// `GET /console/admin/tokens`.
pub async fn tokens(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, ConsoleError> {
    tokens_page(
        &state,
        &viewer,
        StatusCode::OK,
        None,
        NewTokenForm::default(),
        Vec::new(),
        None,
    )
    .await
}

/// `POST /console/admin/tokens`.
pub async fn create_token(
    State(state): State<AppState>,
    viewer: Viewer,
    ConsoleForm(form): ConsoleForm<NewTokenForm>,
) -> Result<Response, ConsoleError> {
    let minted = match MintTokenCommand::try_from(&form) {
        Ok(command) => state
            .app
            .mint_token(&viewer.actor(), command)
            .await
            .map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match minted {
        Ok((record, secret)) => {
            tokens_page(
                &state,
                &viewer,
                StatusCode::CREATED,
                Some(Notice::warn(
                    "Copy the new token now: Warden keeps only its hash and cannot show it again.",
                )),
                NewTokenForm::default(),
                Vec::new(),
                Some((record.name, secret)),
            )
            .await
        }
        Err(error) => {
            let status = error.status();
            let errors = field_errors(error)?;
            tokens_page(
                &state,
                &viewer,
                status,
                Some(Notice::error("The token was not created; see the form.")),
                form,
                errors,
                None,
            )
            .await
        }
    }
}

/// `POST /console/admin/tokens/{id}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(_form): ConsoleForm<EmptyForm>,
) -> Result<Response, ConsoleError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ConsoleError::not_found(format!("There is no token {id:?}.")))?;
    let (status, notice) = match state.app.revoke_token(&viewer.actor(), id).await {
        Ok(token) => (
            StatusCode::OK,
            Notice::ok(format!("Token {} is revoked.", token.name)),
        ),
        Err(error) => {
            let error = AppError::from(error);
            (error.status(), Notice::error(error.problem().detail))
        }
    };
    tokens_page(
        &state,
        &viewer,
        status,
        Some(notice),
        NewTokenForm::default(),
        Vec::new(),
        None,
    )
    .await
}

/// A queue in the configuration table.
pub struct QueueConfig {
    pub name: String,
    pub description: String,
    pub categories: String,
    pub sources: String,
    pub severity_min: &'static str,
    pub languages: String,
    pub roles: String,
    pub accepts_new: bool,
    pub targets: Vec<(String, String)>,
}

/// The queues page.
#[derive(Template)]
#[template(path = "admin_queues.html")]
pub struct QueuesPage {
    layout: Layout,
    queues: Vec<QueueConfig>,
    severities: Vec<&'static str>,
}

fn list_or(items: Vec<String>, empty: &str) -> String {
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join(", ")
    }
}

/// `GET /console/admin/queues`.
pub async fn queues(State(state): State<AppState>, viewer: Viewer) -> Response {
    let policy = state.app.policy();
    let queues = policy
        .router()
        .queues()
        .iter()
        .map(|q| QueueConfig {
            name: q.name.clone(),
            description: q.description.clone(),
            categories: list_or(q.categories.clone(), "any"),
            sources: list_or(
                q.sources.iter().map(|s| s.as_str().to_string()).collect(),
                "any",
            ),
            severity_min: q.severity_min.as_str(),
            languages: list_or(q.languages.clone(), "any"),
            roles: Some(q.restriction())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "everyone".into()),
            accepts_new: q.accepts_new,
            targets: Severity::ALL
                .iter()
                .map(|s| {
                    let target = q.sla.target(*s);
                    (
                        text::span(target.first_touch),
                        text::span(target.resolution),
                    )
                })
                .collect(),
        })
        .collect();
    let layout = Layout::new(&viewer, "Queues and SLA targets", "queues");
    render(
        StatusCode::OK,
        &QueuesPage {
            layout,
            queues,
            severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
        },
    )
}
