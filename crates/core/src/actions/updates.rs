//! Progress on an action, as dated updates that are never changed: each has a status, a
//! narrative, who wrote it, and any evidence files. The latest update's status is copied onto
//! the action, guarded by the action's version so a stale update is refused, never lost.

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, Set};

use super::Status;
use crate::error::{CoreError, CoreResult};
use crate::{FieldError, validate};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "action_updates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub action_id: Uuid,
    pub status: String,
    pub narrative: String,
    pub written_by: Uuid,
    pub written_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Evidence files attached to an update (stored under their id like other files).
pub mod evidence {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "action_evidence")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub update_id: Uuid,
        pub file_name: String,
        pub content_type: String,
        pub size_bytes: i64,
        pub sha256: String,
        pub uploaded_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    /// not_started, on_track, at_risk, off_track, completed or closed.
    pub status: String,
    pub narrative: String,
}

/// A file to attach to the update, already checked and cleaned.
pub struct EvidenceFile<'a> {
    pub id: Uuid,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// Adds an update if the action is still at `version`; returns the action as it now is.
pub async fn add(
    db: &impl ConnectionTrait,
    action_id: Uuid,
    input: &UpdateInput,
    version: i32,
    evidence_files: &[EvidenceFile<'_>],
    by: Uuid,
    now: DateTime<Utc>,
) -> CoreResult<super::Model> {
    let action = super::get(db, action_id).await?;
    let mut errors = Vec::new();
    let status = Status::parse(&input.status);
    if status.is_none() {
        errors.push(FieldError::new("status", "Choose the action's status"));
    }
    let narrative = validate::required_text("narrative", &input.narrative, 10_000, &mut errors);
    let (Some(status), true) = (status, errors.is_empty()) else {
        return Err(CoreError::Invalid(errors));
    };
    if action.version != version {
        let latest = of_action(db, action_id).await?.into_iter().next();
        return Err(CoreError::Conflict(format!(
            "someone else updated this action: it is now “{}”{}",
            action.status().label(),
            latest
                .map(|update| format!(", with the update “{}”", update.narrative))
                .unwrap_or_default()
        )));
    }
    let update = Entity::insert(ActiveModel {
        id: Set(Uuid::now_v7()),
        action_id: Set(action_id),
        status: Set(status.as_str().to_string()),
        narrative: Set(narrative),
        written_by: Set(by),
        written_at: Set(now),
    })
    .exec_with_returning(db)
    .await?;
    for file in evidence_files {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(file.bytes);
        evidence::Entity::insert(evidence::ActiveModel {
            id: Set(file.id),
            update_id: Set(update.id),
            file_name: Set(file.file_name.to_string()),
            content_type: Set(file.content_type.to_string()),
            size_bytes: Set(i64::try_from(file.bytes.len()).unwrap_or(i64::MAX)),
            sha256: Set(crate::identity::secrets::hex(&digest)),
            uploaded_at: Set(now),
        })
        .exec_without_returning(db)
        .await?;
    }
    set_status(db, &action, status, version, now).await
}

/// Copies a status onto the action, only if it is still at `version`.
pub(crate) async fn set_status(
    db: &impl ConnectionTrait,
    action: &super::Model,
    status: Status,
    version: i32,
    now: DateTime<Utc>,
) -> CoreResult<super::Model> {
    let mut active: super::ActiveModel = action.clone().into();
    active.status = Set(status.as_str().to_string());
    active.status_on = Set(now.date_naive());
    active.version = Set(version + 1);
    active.updated_at = Set(now);
    if !status.is_done() {
        active.signed_off_on = Set(None);
        active.signed_off_by = Set(None);
    }
    let changed = super::Entity::update_many()
        .set(active)
        .filter(super::Column::Id.eq(action.id))
        .filter(super::Column::Version.eq(version))
        .exec(db)
        .await?;
    if changed.rows_affected == 0 {
        return Err(CoreError::Conflict(
            "someone else updated this action".to_string(),
        ));
    }
    super::get(db, action.id).await
}

/// The updates of an action, newest first.
pub async fn of_action(db: &impl ConnectionTrait, action_id: Uuid) -> CoreResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::ActionId.eq(action_id))
        .order_by_desc(Column::WrittenAt)
        .order_by_desc(Column::Id)
        .all(db)
        .await?)
}

/// The evidence files of these updates.
pub async fn evidence_of(
    db: &impl ConnectionTrait,
    update_ids: Vec<Uuid>,
) -> CoreResult<Vec<evidence::Model>> {
    if update_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(evidence::Entity::find()
        .filter(evidence::Column::UpdateId.is_in(update_ids))
        .order_by_asc(evidence::Column::UploadedAt)
        .all(db)
        .await?)
}

/// One evidence file of one action.
pub async fn evidence_file(
    db: &impl ConnectionTrait,
    action_id: Uuid,
    file_id: Uuid,
) -> CoreResult<evidence::Model> {
    let file = evidence::Entity::find_by_id(file_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    let update = Entity::find_by_id(file.update_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)?;
    if update.action_id != action_id {
        return Err(CoreError::NotFound);
    }
    Ok(file)
}
