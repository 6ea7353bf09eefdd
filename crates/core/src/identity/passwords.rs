//! Passwords: at least 8 characters and up to 128, no composition rules, refused when common
//! or when they are the person's own email address; stored as argon2id (19 MiB, 2 passes).

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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
}
