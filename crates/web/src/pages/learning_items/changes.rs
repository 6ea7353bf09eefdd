//! Changes to a learning item through its page: a dissemination, an agency's confirmation that
//! it passed the learning on, evidence of embedding or of impact. Each is
//! `pages::change::on_page` with the item opened for the caller in the change's transaction;
//! done, it returns to the item, refused input shows the item again with the errors.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use learnloop_core::CoreError;
use learnloop_core::access::{Action, Record, Role, can};
use learnloop_core::error::CoreResult;
use learnloop_core::learning::{self, evidence};
use learnloop_core::viewer::Recording;
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::item::item_page;
use crate::auth::csrf::CsrfForm;
use crate::error::{AppError, PageError, PageResult};
use crate::extract::{Caller, RecordId};
use crate::pages::change::{Change, on_page};
use crate::pages::forms::{self, Pairs};
use crate::pages::parse_id;
use crate::state::AppState;

/// Makes one change to the item (see the module's comment); `values` is the form as sent,
/// shown again if it is refused.
async fn change<T>(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: &str,
    values: Pairs,
    apply: impl AsyncFnOnce(&DatabaseTransaction) -> CoreResult<T>,
) -> PageResult<Response> {
    let viewer = caller.viewer();
    on_page(
        state,
        caller,
        Change::new(action, "learning_item", id).called("learning item"),
        async move |txn| {
            learning::open(
                txn,
                Recording::InTransaction,
                &viewer,
                "learning_item.view",
                id,
            )
            .await?;
            apply(txn).await
        },
        |_| format!("/learning-items/{id}"),
        async move |errors, _| item_page(state, caller, id, errors, values).await,
    )
    .await
}

pub async fn disseminate(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let by = caller.signed_in.person.id;
    let input = evidence::DisseminationInput {
        channel: forms::field(&form, "channel"),
        held_on: forms::field(&form, "held_on"),
        audience: forms::field(&form, "audience"),
        people_reached: forms::field(&form, "people_reached"),
        agency_ids: forms::ids(&form, "agency_ids"),
    };
    change(
        &state,
        &caller,
        id,
        "learning.disseminated",
        form,
        async |txn| evidence::disseminate(txn, id, &input, by, now).await,
    )
    .await
}

pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, dissemination_id, agency_id)): Path<(String, String, String)>,
    CsrfForm(_form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let id = parse_id(&id)?;
    let dissemination_id = parse_id(&dissemination_id)?;
    let agency_id = parse_id(&agency_id)?;
    let actor = caller.actor();
    let allowed = can(actor, Action::ManageLearning, Record::None)
        || actor.agencies_for(Role::AgencyLead).contains(&agency_id);
    if !allowed {
        return Err(PageError(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only the agency's safeguarding lead confirms for their agency",
        )));
    }
    let now = caller.now;
    let by = caller.signed_in.person.id;
    change(
        &state,
        &caller,
        id,
        "learning.dissemination_confirmed",
        Vec::new(),
        async |txn| {
            // The dissemination must be this item's: the address names both.
            let belongs = evidence::disseminations_of(txn, id)
                .await?
                .iter()
                .any(|(d, _)| d.id == dissemination_id);
            if !belongs {
                return Err(CoreError::NotFound);
            }
            evidence::confirm(txn, dissemination_id, agency_id, by, now.date_naive()).await
        },
    )
    .await
}

pub async fn add_evidence(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    CsrfForm(form): CsrfForm<Pairs>,
) -> PageResult<Response> {
    let now = caller.now;
    let by = caller.signed_in.person.id;
    let stage = forms::field(&form, "stage");
    // The page has a form for each stage: its fields and errors carry the stage's prefix.
    let prefix = if stage == "evaluated" {
        "evaluated"
    } else {
        "embedded"
    };
    let input = evidence::EvidenceInput {
        stage: stage.clone(),
        kind: forms::field(&form, "kind"),
        details: forms::field(&form, "details"),
        evidenced_on: forms::field(&form, "evidenced_on"),
        kirkpatrick_level: Some(forms::field(&form, "kirkpatrick_level")),
    };
    let action = format!("learning.{prefix}");
    let values: Pairs = form
        .iter()
        .map(|(k, v)| (format!("{prefix}_{k}"), v.clone()))
        .collect();
    change(&state, &caller, id, &action, values, async |txn| {
        evidence::add(txn, id, &input, by, now)
            .await
            .map_err(|error| match error {
                CoreError::Invalid(fields) => CoreError::Invalid(
                    fields
                        .into_iter()
                        .map(|mut f| {
                            f.field = format!("{prefix}_{}", f.field);
                            f
                        })
                        .collect(),
                ),
                other => other,
            })
    })
    .await
}
