//! Passwords: at least 8 characters and up to 128, no composition rules, refused when common
//! or when they are the person's own email address; stored as argon2id (19 MiB, 2 passes).
//! Handlers hash and verify through a [`HashingPool`], never on the async runtime.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::FieldError;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// Frequently used passwords (a short list of the most common ones in published breach
/// corpora, lower-cased). Passwords are compared case-insensitively.
const COMMON: &str = include_str!("common_passwords.txt");

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: m=19 MiB, t=2, p=1. The values are constants, so this
    // cannot fail; fall back to the crate's defaults (also argon2id) to avoid a panic path.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks a new password; the error names the field.
pub fn check_new(field: &str, password: &str, email: &str) -> Result<(), FieldError> {
    let length = password.chars().count();
    if length < MIN_CHARS {
        return Err(FieldError::new(
            field,
            format!("The password must be at least {MIN_CHARS} characters"),
        ));
    }
    if length > MAX_CHARS {
        return Err(FieldError::new(
            field,
            format!("The password must be {MAX_CHARS} characters or fewer"),
        ));
    }
    let lowered = password.to_lowercase();
    if COMMON.lines().any(|common| common.trim() == lowered) {
        return Err(FieldError::new(
            field,
            "This password is too common: choose one that is harder to guess",
        ));
    }
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if lowered == email || (!local.is_empty() && lowered == local) {
        return Err(FieldError::new(
            field,
            "The password must not be your email address",
        ));
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as [`verify`] for a person who does not exist or has no password,
/// so the answer's timing does not tell whether an account exists.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("no-such-account-placeholder").unwrap_or_default());
    let _ = verify(password, dummy);
}

/// All hashing slots stayed taken for longer than the pool's wait: the caller should answer
/// "busy, try again" rather than queue without end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Runs argon2 on tokio's blocking threads, a few at a time. Each run takes 19 MiB and tens of
/// milliseconds of one core; on the async runtime a stream of sign-ins would stall every other
/// request, and unbounded it would exhaust memory.
#[derive(Debug, Clone)]
pub struct HashingPool {
    slots: Arc<Semaphore>,
    max_wait: Duration,
}

impl HashingPool {
    /// At most `slots` hashes at once (at least one); a caller waits up to `max_wait` for one.
    pub fn new(slots: usize, max_wait: Duration) -> Self {
        HashingPool {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            max_wait,
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let slot = tokio::time::timeout(self.max_wait, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let outcome = tokio::task::spawn_blocking(move || {
            let result = work();
            drop(slot);
            result
        })
        .await;
        // A panic inside argon2 is treated like a busy pool: refused, never accepted.
        outcome.map_err(|_| Busy)
    }

    /// [`verify`] off the runtime; with no stored hash it spends the same time and refuses.
    pub async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool, Busy> {
        let password = password.to_string();
        self.run(move || match stored {
            Some(stored) => verify(&password, &stored),
            None => {
                verify_against_nothing(&password);
                false
            }
        })
        .await
    }

    /// [`hash`] off the runtime.
    pub async fn hash(&self, password: &str) -> Result<Result<String, String>, Busy> {
        let password = password.to_string();
        self.run(move || hash(&password)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_commonness_are_checked_without_composition_rules() {
        assert!(check_new("password", "short", "a@b.example").is_err());
        assert!(check_new("password", "password1", "a@b.example").is_err());
        assert!(
            check_new("password", "Password123", "a@b.example").is_err(),
            "case-insensitive"
        );
        assert!(check_new("password", "sam.lee@x.example", "sam.lee@x.example").is_err());
        assert!(check_new("password", &"a".repeat(129), "a@b.example").is_err());
        assert!(
            check_new(
                "password",
                &"correct horse battery staple ".repeat(2),
                "a@b.example"
            )
            .is_ok()
        );
        assert!(check_new("password", "all lower case words", "a@b.example").is_ok());
        assert_eq!(
            check_new("new_password", "short", "a@b.example")
                .err()
                .map(|e| e.field),
            Some("new_password".to_string())
        );
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let stored = hash("river otter lantern").expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("river otter lantern", &stored));
        assert!(!verify("river otter lanterns", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[tokio::test]
    async fn the_pool_verifies_off_the_runtime_and_says_busy_when_full() {
        let pool = HashingPool::new(1, Duration::from_millis(50));
        let stored = pool
            .hash("river otter lantern")
            .await
            .expect("slot")
            .expect("hash");
        assert_eq!(
            pool.verify("river otter lantern", Some(stored.clone()))
                .await,
            Ok(true)
        );
        assert_eq!(pool.verify("river otter", Some(stored)).await, Ok(false));
        assert_eq!(pool.verify("anything", None).await, Ok(false));
        let held = pool.slots.clone().acquire_owned().await.expect("slot");
        assert_eq!(pool.verify("anything", None).await, Err(Busy));
        drop(held);
        assert_eq!(pool.verify("anything", None).await, Ok(false));
    }
}
