//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits). Each code
//! is accepted once: the step it was used in is recorded.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};
use sha1::Sha1;

use crate::error::CoreResult;

pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_used_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub step: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A new random secret of 160 bits, base32 encoded.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    base32_encode(&bytes)
}

pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for character in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = ALPHABET
            .iter()
            .position(|a| char::from(*a) == character.to_ascii_uppercase())?
            as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

pub fn step_at(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECONDS)
}

/// The code for one step (RFC 4226 dynamic truncation).
pub fn code_for_step(secret: &[u8], step: i64) -> Option<String> {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    Some(format!("{:06}", binary % 10u32.pow(DIGITS)))
}

/// The current code for a base32 secret (used by the demo documentation and tests).
pub fn current_code(secret: &str, at: DateTime<Utc>) -> Option<String> {
    code_for_step(&base32_decode(secret)?, step_at(at))
}

/// The step a code belongs to, allowing one step of clock drift either way.
pub fn matching_step(secret: &str, code: &str, at: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let key = base32_decode(secret)?;
    let now = step_at(at);
    [now - 1, now, now + 1].into_iter().find(|step| {
        code_for_step(&key, *step).is_some_and(|expected| super::secrets::same(&expected, &code))
    })
}

/// Checks a code and spends it: true only the first time a valid code is presented.
pub async fn verify_once(
    db: &impl ConnectionTrait,
    person_id: Uuid,
    secret: &str,
    code: &str,
    at: DateTime<Utc>,
) -> CoreResult<bool> {
    let Some(step) = matching_step(secret, code, at) else {
        return Ok(false);
    };
    // Insert-if-absent: of two requests presenting the same code at once, exactly one inserts.
    let inserted = Entity::insert(ActiveModel {
        person_id: Set(person_id),
        step: Set(step),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(1)))
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn provisioning_uri(secret: &str, account: &str, issuer: &str) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(byte).to_string()
                }
                _ => format!("%{byte:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        encode(issuer),
        encode(account),
        encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rfc6238_test_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8 digits truncated to 6.
        let secret = b"12345678901234567890";
        assert_eq!(code_for_step(secret, 59 / 30).as_deref(), Some("287082"));
        assert_eq!(
            code_for_step(secret, 1_111_111_109 / 30).as_deref(),
            Some("081804")
        );
        assert_eq!(
            code_for_step(secret, 1_234_567_890 / 30).as_deref(),
            Some("005924")
        );
        assert_eq!(
            code_for_step(secret, 2_000_000_000 / 30).as_deref(),
            Some("279037")
        );
    }

    #[test]
    fn base32_round_trips() {
        let bytes = b"12345678901234567890";
        let encoded = base32_encode(bytes);
        assert_eq!(encoded, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode(&encoded).as_deref(), Some(&bytes[..]));
        assert_eq!(base32_decode("not base32!"), None);
    }

    #[test]
    fn codes_match_within_one_step_of_drift() {
        let secret = new_secret();
        let at = Utc
            .with_ymd_and_hms(2026, 11, 26, 9, 0, 0)
            .single()
            .unwrap_or_default();
        let code = current_code(&secret, at).unwrap_or_default();
        assert_eq!(matching_step(&secret, &code, at), Some(step_at(at)));
        assert!(matching_step(&secret, &code, at + chrono::Duration::seconds(30)).is_some());
        assert!(matching_step(&secret, &code, at + chrono::Duration::seconds(95)).is_none());
        assert!(matching_step(&secret, "12345", at).is_none());
        assert!(matching_step(&secret, "abcdef", at).is_none());
    }
}
