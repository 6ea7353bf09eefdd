//! Sessions kept in the database, so ending one takes effect on every instance at once. The
//! cookie holds a random id; the database holds only its hash.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use super::secrets;
use crate::error::CoreResult;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub person_id: Uuid,
    pub csrf_token: String,
    /// False between the password and the second factor.
    pub second_factor_done: bool,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// How long a session lives: idle and absolute limits.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: TimeDelta,
    pub absolute: TimeDelta,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            idle: TimeDelta::minutes(30),
            absolute: TimeDelta::hours(12),
        }
    }
}

/// Starts a session and returns it with the cookie value, which is never stored.
pub async fn start(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    second_factor_done: bool,
    source: Option<String>,
    now: DateTime<Utc>,
) -> CoreResult<(Model, String)> {
    let cookie = secrets::random_hex(32);
    let model = Entity::insert(ActiveModel {
        id_hash: Set(secrets::sha256_hex(&cookie)),
        person_id: Set(person_id),
        csrf_token: Set(secrets::random_hex(32)),
        second_factor_done: Set(second_factor_done),
        created_at: Set(now),
        last_seen_at: Set(now),
        source: Set(source),
    })
    .exec_with_returning(db)
    .await?;
    Ok((model, cookie))
}

/// The live session for a cookie; an expired one is deleted and `None` returned.
pub async fn find(
    db: &impl ConnectionTrait,
    cookie: &str,
    now: DateTime<Utc>,
    lifetimes: Lifetimes,
) -> CoreResult<Option<Model>> {
    let Some(session) = Entity::find_by_id(secrets::sha256_hex(cookie))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let idle_expired = now - session.last_seen_at > lifetimes.idle;
    let absolute_expired = now - session.created_at > lifetimes.absolute;
    if idle_expired || absolute_expired {
        Entity::delete_by_id(session.id_hash).exec(db).await?;
        return Ok(None);
    }
    Ok(Some(session))
}

/// Records activity. Written at most once a minute to spare the database.
pub async fn touch(
    db: &impl ConnectionTrait,
    session: &Model,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    if now - session.last_seen_at >= TimeDelta::minutes(1) {
        let mut active: ActiveModel = session.clone().into();
        active.last_seen_at = Set(now);
        active.update(db).await?;
    }
    Ok(())
}

/// Completes sign-in after the second factor, under a new id (the old one stops working).
/// The new session is recorded as having passed the second factor (see `step_up`).
pub async fn upgrade(
    db: &impl ConnectionTrait,
    session: &Model,
    now: DateTime<Utc>,
) -> CoreResult<(Model, String)> {
    Entity::delete_by_id(session.id_hash.clone())
        .exec(db)
        .await?;
    let (upgraded, cookie) =
        start(db, session.person_id, true, session.source.clone(), now).await?;
    crate::step_up::second_factor_passed(db, &upgraded.id_hash, upgraded.person_id, now).await?;
    Ok((upgraded, cookie))
}

pub async fn end(db: &impl ConnectionTrait, id_hash: &str) -> CoreResult<()> {
    Entity::delete_by_id(id_hash.to_string()).exec(db).await?;
    Ok(())
}

/// Ends every session of the person (sign-out everywhere, disabling, a role ending).
pub async fn end_all_for(db: &impl ConnectionTrait, person_id: Uuid) -> CoreResult<u64> {
    Ok(Entity::delete_many()
        .filter(Column::PersonId.eq(person_id))
        .exec(db)
        .await?
        .rows_affected)
}
