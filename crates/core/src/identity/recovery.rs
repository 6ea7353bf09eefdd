//! Recovery codes: ten one-use codes given at second-factor enrolment, for when the
//! authenticator is lost. Each carries 80 random bits and is stored as a keyed hash (HMAC
//! under the server key), so neither guessing online nor a copy of the database yields one.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, Set};

use super::secrets::{self, ServerKey};
use super::totp;
use crate::error::CoreResult;

pub const COUNT: usize = 10;
/// 10 bytes = 80 bits, shown as 16 base32 characters in groups of four.
const RANDOM_BYTES: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recovery_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: Uuid,
    pub code_hash: String,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

fn keyed_hash(server_key: &ServerKey, code: &str) -> String {
    server_key.keyed_hex("recovery code", &normalise(code))
}

/// The hash codes issued before keyed hashing were stored under (10 hex characters, plain
/// SHA-256), so that people holding one are not locked out; they age out as they are used.
fn legacy_hash(code: &str) -> Option<String> {
    let normalised = normalise(code);
    (normalised.len() == 10 && normalised.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| secrets::sha256_hex(&normalised))
}

fn new_code() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let text = totp::base32_encode(&bytes).to_lowercase();
    text.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Replaces the person's codes with ten new ones and returns them (shown once).
pub async fn issue(
    db: &impl ConnectionTrait,
    server_key: &ServerKey,
    person_id: Uuid,
) -> CoreResult<Vec<String>> {
    Entity::delete_many()
        .filter(Column::PersonId.eq(person_id))
        .exec(db)
        .await?;
    let mut codes = Vec::with_capacity(COUNT);
    for _ in 0..COUNT {
        let shown = new_code();
        Entity::insert(ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(person_id),
            code_hash: Set(keyed_hash(server_key, &shown)),
            used_at: Set(None),
        })
        .exec_without_returning(db)
        .await?;
        codes.push(shown);
    }
    Ok(codes)
}

/// Spends a recovery code: true only the first time, even when two requests present it at
/// once (the conditional update lets exactly one of them change the row).
pub async fn redeem(
    db: &impl ConnectionTrait,
    server_key: &ServerKey,
    person_id: Uuid,
    code: &str,
    now: DateTime<Utc>,
) -> CoreResult<bool> {
    let mut hashes = vec![keyed_hash(server_key, code)];
    hashes.extend(legacy_hash(code));
    let Some(row) = Entity::find()
        .filter(Column::PersonId.eq(person_id))
        .filter(Column::CodeHash.is_in(hashes))
        .filter(Column::UsedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    let spent = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::Id.eq(row.id))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_80_bits_in_groups_of_four() {
        let code = new_code();
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(normalise(&code).len(), 16);
        assert!(totp::base32_decode(&normalise(&code)).is_some_and(|bytes| bytes.len() == 10));
        assert_ne!(new_code(), code);
    }

    #[test]
    fn the_hash_is_keyed_and_ignores_case_and_dashes() {
        let key = ServerKey::from_secret("a secret for the tests, 32 chars");
        let code = new_code();
        assert_eq!(
            keyed_hash(&key, &code),
            keyed_hash(&key, &code.to_uppercase().replace('-', " "))
        );
        assert_ne!(
            keyed_hash(&key, &code),
            secrets::sha256_hex(&normalise(&code))
        );
        assert_eq!(legacy_hash(&code), None);
        assert!(legacy_hash("abcde-12345").is_some());
    }
}
