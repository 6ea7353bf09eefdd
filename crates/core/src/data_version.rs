//! The data version: one number bumped by triggers in every transaction that changes a counted
//! table (migrations m0012 and m0013). What is kept for a version (the dashboard's figures, the
//! tracker's totals) is current exactly while the version is unchanged.

use sea_orm::ConnectionTrait;

use crate::error::{CoreError, CoreResult};

/// The current data version.
pub async fn current(db: &impl ConnectionTrait) -> CoreResult<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT version FROM figures_version WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| CoreError::Conflict("the figures version is missing".to_string()))?;
    Ok(row.try_get_by_index(0)?)
}
