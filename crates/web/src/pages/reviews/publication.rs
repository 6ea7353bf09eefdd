//! Publication: the public text with what the anonymisation check found in it, the case's
//! identifiers the check looks for, holding publication back and publishing.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use learnloop_core::reviews::{self, publication};
use learnloop_core::{CoreError, FieldError, calendar};

use super::{Choice, Head, Need, Opened, Powers, ReviewChange, Tab, change, labelled, version_of};
use crate::auth::csrf::CsrfForm;
use crate::error::PageResult;
use crate::extract::{Caller, RecordId};
use crate::pages::forms::{self, Pairs, rename};
use crate::pages::layout::{Layout, render};
use crate::state::AppState;

pub struct IdentifierRow {
    kind: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "pages/review_publication.html")]
struct PublicationPage {
    layout: Layout,
    head: Head,
    powers: Powers,
    version: i32,
    public_title: String,
    public_summary: String,
    public_report: String,
    findings: Vec<String>,
    identifiers: Vec<IdentifierRow>,
    identifier_kinds: Vec<Choice>,
    published: bool,
    /// Published, and the draft has changed since: the public page still shows what was
    /// published until it is published again.
    unpublished_changes: bool,
    checked: bool,
}

pub(super) async fn page(opened: Opened<'_>) -> PageResult<Html<String>> {
    let Opened {
        txn,
        review,
        case,
        powers,
        head,
        layout,
        ..
    } = opened;
    // The words found identify someone: only those who may see the case's identity read them;
    // the independent reviewer sees the kind and the place.
    let findings = if powers.manage || powers.publish {
        publication::check(txn, &review)
            .await?
            .iter()
            .map(|f| {
                if powers.identity {
                    f.describe()
                } else {
                    f.describe_without_text()
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let unpublished_changes = publication::unpublished_changes(txn, &review).await?;
    let identifiers = if powers.identity {
        publication::identifiers_of_case(txn, case.case.id)
            .await?
            .into_iter()
            .map(|i| IdentifierRow {
                kind: publication::IDENTIFIER_KINDS
                    .iter()
                    .find(|(k, _)| *k == i.kind)
                    .map(|(_, l)| *l)
                    .unwrap_or("Reference"),
                value: i.value,
            })
            .collect()
    } else {
        Vec::new()
    };
    render(&PublicationPage {
        layout,
        head,
        powers,
        version: review.version,
        checked: !review.public_summary.is_empty(),
        published: review.published_on.is_some(),
        public_title: review.public_title,
        public_summary: review.public_summary,
        public_report: review.public_report,
        findings,
        identifiers,
        identifier_kinds: labelled(&publication::IDENTIFIER_KINDS),
        unpublished_changes,
    })
}

pub async fn add_identifier(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let kind = forms::field(&form, "identifier_kind");
    let value = forms::field(&form, "identifier_value");
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Publication,
            need: Need::Identity,
            action: "review.identifier_recorded",
            values: form.clone(),
        },
        async |txn| {
            let review = reviews::get(txn, id).await?;
            publication::add_identifier(txn, review.case_id, &kind, &value)
                .await
                .map_err(|error| {
                    rename(
                        error,
                        &[("kind", "identifier_kind"), ("value", "identifier_value")],
                    )
                })
        },
    )
    .await
}

pub async fn save_public_text(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let input = publication::PublicTextInput {
        public_title: forms::field(&form, "public_title"),
        public_summary: forms::field(&form, "public_summary"),
        public_report: forms::field(&form, "public_report"),
    };
    let version = version_of(&form);
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Publication,
            need: Need::Manage,
            action: "review.public_text_saved",
            values: form.clone(),
        },
        async |txn| publication::save_public_text(txn, id, &input, version, now).await,
    )
    .await
}

pub async fn set_hold(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let reason = forms::field(&form, "hold_reason");
    let version = version_of(&form);
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Publication,
            need: Need::Publish,
            action: "review.publication_hold",
            values: form.clone(),
        },
        async |txn| publication::set_hold(txn, id, &reason, version, now).await,
    )
    .await
}

fn wrong_code() -> FieldError {
    FieldError::new("code", "Enter the current code from your authenticator app")
}

/// Publishes, after checking the person's second factor again: publication speaks for the
/// partnership and cannot be taken back.
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let confirmation = publication::Confirmation {
        intruder_check: forms::checked(&form, "intruder_check"),
        late_reason: forms::field(&form, "late_reason"),
    };
    let code = forms::field(&form, "code");
    let person_id = caller.signed_in.person.id;
    // Checked, counted with the second-factor failures and audited in its own transaction, so
    // a wrong guess is not rolled back with the refused publication.
    let code_ok = crate::auth::step_up::publication_code_ok(
        &state,
        &caller.signed_in,
        &code,
        caller.source.clone(),
    )
    .await?;
    change(
        &state,
        &caller,
        id,
        ReviewChange {
            tab: Tab::Publication,
            need: Need::Publish,
            action: "review.published",
            // The code is never shown again.
            values: form
                .iter()
                .filter(|(key, _)| key != "code")
                .cloned()
                .collect(),
        },
        async |txn| {
            let calendar = calendar::store::load(txn).await?;
            let published =
                publication::publish(txn, id, &confirmation, person_id, &calendar, now).await;
            // A wrong code refuses the publication, with whatever else is wrong with it.
            match (code_ok, published) {
                (true, result) => result.map(|_| ()),
                (false, Ok(_)) => Err(CoreError::Invalid(vec![wrong_code()])),
                (false, Err(CoreError::Invalid(mut errors))) => {
                    errors.push(wrong_code());
                    Err(CoreError::Invalid(errors))
                }
                (false, Err(other)) => Err(other),
            }
        },
    )
    .await
}
