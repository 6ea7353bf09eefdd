//! Cookies: `HttpOnly`, `SameSite=Lax`, `Path=/`; with `Secure` and the `__Host-` prefix when
//! served over TLS or behind a proxy that terminates it (the `secure_cookies` setting).

use axum::http::{HeaderMap, HeaderValue, header};

pub fn session_name(secure: bool) -> String {
    if secure {
        "__Host-learnloop_session".to_string()
    } else {
        "learnloop_session".to_string()
    }
}

pub fn csrf_name(secure: bool) -> String {
    if secure {
        "__Host-learnloop_csrf".to_string()
    } else {
        "learnloop_csrf".to_string()
    }
}

pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A `Set-Cookie` value that lives as long as the browser session.
pub fn set(name: &str, value: &str, secure: bool) -> HeaderValue {
    let secure_attribute = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure_attribute}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    let secure_attribute = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure_attribute}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_use_the_host_prefix() {
        assert_eq!(session_name(true), "__Host-learnloop_session");
        let value = set(&session_name(true), "abc", true);
        let text = value.to_str().unwrap_or_default();
        assert!(
            text.contains("Secure") && text.contains("HttpOnly") && text.contains("SameSite=Lax")
        );
        assert!(
            !set("x", "y", false)
                .to_str()
                .unwrap_or_default()
                .contains("Secure")
        );
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a_learnloop_session=1; learnloop_session=2"),
        );
        assert_eq!(read(&headers, "learnloop_session").as_deref(), Some("2"));
    }
}
