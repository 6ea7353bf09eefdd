//! SECURITY-SENSITIVE. Who someone is: passwords, second factors, sessions, sign-in with
//! throttling, recovery codes and administrator-issued reset links.

pub mod credentials;
pub mod passwords;
pub mod recovery;
pub mod resets;
pub mod secrets;
pub mod sessions;
pub mod sign_in;
pub mod totp;
