//! Signing in and out: email and password, then the second factor (entering a code, or
//! enrolling on first sign-in), and password reset through an administrator's one-time link.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use learnloop_core::access::grants;
use learnloop_core::identity::{credentials, recovery, resets, sessions, sign_in, totp};
use learnloop_core::{FieldError, audit};
use serde::Deserialize;

use super::layout::{Layout, render};
use crate::auth::csrf::{CsrfForm, anonymous_token};
use crate::auth::{Source, Visitor, cookies};
use crate::error::{AppError, PageError, PageResult};
use crate::state::AppState;

const WRONG: &str = "Enter a correct email address and password";

/// Why attempts were refused, for the audit trail.
fn throttle_reason(reason: sign_in::Throttled) -> &'static str {
    match reason {
        sign_in::Throttled::Account => "too many failures for this account",
        sign_in::Throttled::Client => "too many failures from this client address",
    }
}

/// The 429 answer; `for_account` is the message when this account's own limit was reached.
fn throttled_error(reason: sign_in::Throttled, for_account: &str) -> AppError {
    let message = match reason {
        sign_in::Throttled::Account => for_account,
        sign_in::Throttled::Client => {
            "There have been too many failed attempts to sign in from your network. Wait 5 minutes and try again."
        }
    };
    AppError::new(StatusCode::TOO_MANY_REQUESTS, "throttled", message)
}

/// Every password-hashing slot stayed busy: nothing was checked.
fn busy_error() -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "The service is busy. Try again in a few seconds.",
    )
}

#[derive(Template)]
#[template(path = "pages/sign_in.html")]
struct SignInPage {
    layout: Layout,
    email: String,
}

fn sign_in_page(
    headers: &HeaderMap,
    state: &AppState,
    email: String,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let (token, cookie) = anonymous_token(headers, state.settings.secure_cookies);
    let page = SignInPage {
        layout: Layout::new("Sign in", "")
            .with_csrf(token)
            .with_errors(errors),
        email,
    };
    let mut response = match render(&page) {
        Ok(html) => (status, html).into_response(),
        Err(error) => error.into_response(),
    };
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub async fn show(State(state): State<AppState>, visitor: Visitor, headers: HeaderMap) -> Response {
    match visitor {
        Visitor::SignedIn { .. } => Redirect::to("/").into_response(),
        Visitor::PartlySignedIn { .. } => Redirect::to("/sign-in/second-factor").into_response(),
        _ => sign_in_page(&headers, &state, String::new(), Vec::new(), StatusCode::OK),
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Source(source): Source,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<SignInForm>,
) -> PageResult<Response> {
    let mut errors = Vec::new();
    if form.email.trim().is_empty() {
        errors.push(FieldError::new("email", "Enter your email address"));
    }
    if form.password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password"));
    }
    if !errors.is_empty() {
        return Ok(sign_in_page(
            &headers,
            &state,
            form.email,
            errors,
            StatusCode::OK,
        ));
    }
    let Some(_slot) = state.sign_in_slot().await else {
        return Err(PageError(busy_error()));
    };
    let now = state.clock.now();
    let server_key = state.server_key().await?;
    let email_key = sign_in::email_key(&server_key, &form.email);
    // Counted, read and checked with no transaction open: argon2 runs on the blocking pool.
    let outcome = sign_in::attempt(
        &state.db,
        &state.hashing,
        &server_key,
        state.settings.sign_in_limits,
        &form.email,
        &form.password,
        source.as_deref(),
        now,
    )
    .await?;
    let (person, reservation) = match outcome {
        sign_in::Outcome::Throttled(reason) => {
            let txn = state.db.write().await?;
            audit::append(
                &txn,
                audit::Event::new("sign_in.throttled", "denied")
                    .on("email_key", email_key)
                    .because(Some(throttle_reason(reason).to_string()))
                    .from_source(source),
                now,
            )
            .await?;
            txn.commit().await?;
            return Err(PageError(throttled_error(
                reason,
                "There have been too many attempts to sign in to this account. Wait 5 minutes and try again.",
            )));
        }
        sign_in::Outcome::Busy => return Err(PageError(busy_error())),
        sign_in::Outcome::Refused(reservation) => (None, reservation),
        sign_in::Outcome::PasswordAccepted(person, reservation) => (Some(person), reservation),
    };
    let txn = state.db.write().await?;
    // A new session id at every sign-in: any earlier session of this browser ends.
    if let Some(old) = visitor.session() {
        sessions::end(&txn, &old.id_hash).await?;
    }
    let actor = match &person {
        Some(person) => grants::actor_for(&txn, person.id, now.date_naive()).await?,
        None => None,
    };
    let (Some(person), Some(actor)) = (person, actor.filter(|actor| !actor.grants.is_empty()))
    else {
        // The attempt is already counted as a failure.
        audit::append(
            &txn,
            audit::Event::new("sign_in.failed", "failed")
                .on("email_key", email_key)
                .from_source(source),
            now,
        )
        .await?;
        txn.commit().await?;
        return Ok(sign_in_page(
            &headers,
            &state,
            form.email,
            vec![FieldError::new("email", WRONG)],
            StatusCode::OK,
        ));
    };
    sign_in::settle(&txn, &reservation, true).await?;
    let enrolled = credentials::get(&txn, person.id)
        .await?
        .is_some_and(|row| row.has_second_factor());
    let needs_second_factor = enrolled || actor.needs_second_factor();
    let (_, cookie) =
        sessions::start(&txn, person.id, !needs_second_factor, source.clone(), now).await?;
    let action = if needs_second_factor {
        "sign_in.password_accepted"
    } else {
        "sign_in.succeeded"
    };
    audit::append(
        &txn,
        audit::Event::new(action, "succeeded")
            .by(&actor)
            .on("person", person.id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    let secure = state.settings.secure_cookies;
    let next = if needs_second_factor {
        "/sign-in/second-factor"
    } else {
        "/"
    };
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(&cookies::session_name(secure), &cookie, secure),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "pages/second_factor.html")]
struct SecondFactorPage {
    layout: Layout,
    /// Enrolling: the secret and its QR code; otherwise the person enters a code.
    enrolment: Option<Enrolment>,
}

struct Enrolment {
    secret: String,
    qr_svg: String,
}

fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(false)
            .build(),
        Err(_) => String::new(),
    }
}

async fn second_factor_page(
    state: &AppState,
    visitor: &Visitor,
    errors: Vec<FieldError>,
) -> PageResult<Html<String>> {
    let Visitor::PartlySignedIn { person, .. } = visitor else {
        return Err(PageError(AppError::not_found()));
    };
    let txn = state.db.write().await?;
    let row = credentials::ensure(&txn, person.id).await?;
    let enrolment = if row.has_second_factor() {
        None
    } else {
        let secret = match row.totp_secret {
            Some(secret) => secret,
            None => {
                let secret = totp::new_secret();
                credentials::set_totp_secret(&txn, person.id, &secret).await?;
                secret
            }
        };
        let uri = totp::provisioning_uri(&secret, &person.email, &state.team_name());
        Some(Enrolment {
            qr_svg: qr_svg(&uri),
            secret,
        })
    };
    txn.commit().await?;
    let title = if enrolment.is_some() {
        "Set up your second factor"
    } else {
        "Enter your security code"
    };
    render(&SecondFactorPage {
        layout: Layout::new(title, "").with_errors(errors),
        enrolment,
    })
}

pub async fn second_factor(
    State(state): State<AppState>,
    visitor: Visitor,
) -> PageResult<Html<String>> {
    second_factor_page(&state, &visitor, Vec::new()).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "pages/recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

pub async fn second_factor_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Source(source): Source,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> PageResult<Response> {
    let Visitor::PartlySignedIn { session, person } = &visitor else {
        return Err(PageError(AppError::not_found()));
    };
    let Some(_slot) = state.sign_in_slot().await else {
        return Err(PageError(busy_error()));
    };
    let now = state.clock.now();
    let server_key = state.server_key().await?;
    let key = sign_in::second_factor_key(person.id);
    // Counted before the check (on the pool, outside the transaction), so concurrent guesses
    // cannot all slip under the per-person or per-client limit.
    let reservation = match sign_in::reserve(
        state.db.conn(),
        &key,
        source.as_deref(),
        state.settings.sign_in_limits,
        now,
    )
    .await?
    {
        Ok(reservation) => reservation,
        Err(reason) => {
            return Err(PageError(throttled_error(
                reason,
                "There have been too many wrong codes. Wait 5 minutes and try again.",
            )));
        }
    };
    let txn = state.db.write().await?;
    let row = credentials::ensure(&txn, person.id).await?;
    let enrolling = !row.has_second_factor();
    let secret = row.totp_secret.clone().unwrap_or_default();
    let code = form.code.trim().to_string();
    let accepted = if code.is_empty() {
        false
    } else if totp::verify_once(&txn, person.id, &secret, &code, now).await? {
        true
    } else {
        !enrolling && recovery::redeem(&txn, &server_key, person.id, &code, now).await?
    };
    sign_in::settle(&txn, &reservation, accepted).await?;
    let event = audit::Event::new(
        if accepted {
            "second_factor.succeeded"
        } else {
            "second_factor.failed"
        },
        if accepted { "succeeded" } else { "failed" },
    )
    .by_person(person.id, person.agency_id)
    .on("person", person.id)
    .from_source(source);
    audit::append(&txn, event, now).await?;
    if !accepted {
        txn.commit().await?;
        let message = if code.is_empty() {
            "Enter the 6-digit code from your authenticator app"
        } else {
            "The code is not right or has been used: enter the current code"
        };
        let page =
            second_factor_page(&state, &visitor, vec![FieldError::new("code", message)]).await?;
        return Ok(page.into_response());
    }
    let recovery_codes = if enrolling {
        credentials::confirm_totp(&txn, person.id, now).await?;
        Some(recovery::issue(&txn, &server_key, person.id).await?)
    } else {
        None
    };
    let (_, cookie) = sessions::upgrade(&txn, session, now).await?;
    txn.commit().await?;
    let secure = state.settings.secure_cookies;
    let set_cookie = cookies::set(&cookies::session_name(secure), &cookie, secure);
    let mut response = match recovery_codes {
        Some(codes) => {
            let page = RecoveryCodesPage {
                layout: Layout::new("Save your recovery codes", ""),
                codes,
            };
            render(&page)?.into_response()
        }
        None => Redirect::to("/").into_response(),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie);
    Ok(response)
}

#[derive(Deserialize)]
pub struct EmptyForm {}

pub async fn sign_out(
    State(state): State<AppState>,
    visitor: Visitor,
    Source(source): Source,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> PageResult<Response> {
    if let (Some(session), Some(person)) = (visitor.session(), visitor.person()) {
        let now = state.clock.now();
        let txn = state.db.write().await?;
        sessions::end(&txn, &session.id_hash).await?;
        audit::append(
            &txn,
            audit::Event::new("sign_out", "succeeded")
                .by_person(person.id, person.agency_id)
                .on("person", person.id)
                .from_source(source),
            now,
        )
        .await?;
        txn.commit().await?;
    }
    let secure = state.settings.secure_cookies;
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(&cookies::session_name(secure), secure),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "pages/password_reset.html")]
struct PasswordResetPage {
    layout: Layout,
    done: bool,
}

fn reset_page(
    headers: &HeaderMap,
    state: &AppState,
    done: bool,
    errors: Vec<FieldError>,
) -> Response {
    let (token, cookie) = anonymous_token(headers, state.settings.secure_cookies);
    let page = PasswordResetPage {
        layout: Layout::new(
            if done {
                "Your password is set"
            } else {
                "Set your password"
            },
            "",
        )
        .with_csrf(token)
        .with_errors(errors),
        done,
    };
    let mut response = match render(&page) {
        Ok(html) => html.into_response(),
        Err(error) => error.into_response(),
    };
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub async fn reset_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> PageResult<Response> {
    let now = state.clock.now();
    if resets::person_for(state.db.conn(), &token, now)
        .await?
        .is_none()
    {
        return Err(PageError(AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "This link has expired or has been used. Ask your administrator for a new one.",
        )));
    }
    Ok(reset_page(&headers, &state, false, Vec::new()))
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

pub async fn reset_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Source(source): Source,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> PageResult<Response> {
    let Some(_slot) = state.sign_in_slot().await else {
        return Err(PageError(busy_error()));
    };
    let now = state.clock.now();
    let expired = || {
        PageError(AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "This link has expired or has been used. Ask your administrator for a new one.",
        ))
    };
    // Check the link and the password in a read, hash with no transaction open, then spend the
    // link with a conditional update: of two submissions at once, one wins.
    let checked = {
        let txn = state.db.read().await?;
        let checked = resets::check_new_password(&txn, &token, &form.password, now).await;
        txn.commit().await?;
        checked
    };
    match checked {
        Ok(_) => {}
        Err(learnloop_core::CoreError::Invalid(errors)) => {
            return Ok(reset_page(&headers, &state, false, errors));
        }
        Err(learnloop_core::CoreError::NotFound) => return Err(expired()),
        Err(other) => return Err(other.into()),
    }
    let hash = match state.hashing.hash(&form.password).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(message)) => return Err(learnloop_core::CoreError::Conflict(message).into()),
        Err(_busy) => return Err(PageError(busy_error())),
    };
    let txn = state.db.write().await?;
    let person = match resets::redeem(&txn, &token, hash, now).await {
        Ok(person) => person,
        Err(learnloop_core::CoreError::NotFound) => return Err(expired()),
        Err(other) => return Err(other.into()),
    };
    audit::append(
        &txn,
        audit::Event::new("password_reset.redeemed", "succeeded")
            .by_person(person.id, person.agency_id)
            .on("person", person.id)
            .from_source(source),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(reset_page(&headers, &state, true, Vec::new()))
}
