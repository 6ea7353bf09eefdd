//! Random secrets and their hashes. Secrets handed to people (session cookies, tokens, reset
//! links) are stored only as SHA-256 hashes: they carry 256 random bits, so a fast hash is
//! enough. Values with less entropy that are looked up by hash (email addresses in the
//! sign-in throttle, recovery codes) use a keyed hash under the [`ServerKey`], so a copy of
//! the database alone cannot be searched for them.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::ConnectionTrait;
use sea_orm::entity::prelude::*;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::CoreResult;
use crate::settings;

/// Where a generated key is kept when none is configured.
const STORED_KEY_SETTING: &str = "server_key";

/// `bytes` random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex(&buffer)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub fn sha256_hex(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The server's secret for keyed hashes (HMAC-SHA256). Every instance must use the same one:
/// it comes from the `secret_key` setting, or else from the database (generated once).
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ServerKey(***)")
    }
}

impl ServerKey {
    /// The key derived from a configured secret (any length; the settings ask for 32+ chars).
    pub fn from_secret(secret: &str) -> ServerKey {
        ServerKey(Sha256::digest(format!("learnloop server key:{secret}").as_bytes()).into())
    }

    /// The key kept in the database, created on first use. Weaker than a configured key (a
    /// copy of the database holds it) but the same on every instance.
    pub async fn stored(db: &impl ConnectionTrait) -> CoreResult<ServerKey> {
        if let Some(existing) = settings::get(db, STORED_KEY_SETTING).await? {
            return Ok(ServerKey::from_secret(&existing));
        }
        // Two instances starting together: the first insert wins and both read it back.
        let _ = settings::Entity::insert(settings::ActiveModel {
            key: sea_orm::Set(STORED_KEY_SETTING.to_string()),
            value: sea_orm::Set(random_hex(32)),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
        let value = settings::Entity::find_by_id(STORED_KEY_SETTING.to_string())
            .one(db)
            .await?
            .map(|row| row.value)
            .unwrap_or_default();
        Ok(ServerKey::from_secret(&value))
    }

    /// HMAC-SHA256 of `value` for one purpose, as hex. Different purposes never collide.
    pub fn keyed_hex(&self, purpose: &str, value: &str) -> String {
        // A 32-byte key is always a valid HMAC key; the fallback keeps this free of panics.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return sha256_hex(&format!("{purpose}:{value}"));
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hashes_depend_on_the_key_and_the_purpose() {
        let one = ServerKey::from_secret("one secret that is long enough!!");
        let two = ServerKey::from_secret("another secret, also long enough");
        assert_eq!(
            one.keyed_hex("email", "a@b.example"),
            one.keyed_hex("email", "a@b.example")
        );
        assert_ne!(
            one.keyed_hex("email", "a@b.example"),
            two.keyed_hex("email", "a@b.example")
        );
        assert_ne!(
            one.keyed_hex("email", "a@b.example"),
            one.keyed_hex("recovery", "a@b.example")
        );
        assert_ne!(
            one.keyed_hex("email", "a@b.example"),
            sha256_hex("a@b.example")
        );
        assert_eq!(format!("{one:?}"), "ServerKey(***)");
    }
}
