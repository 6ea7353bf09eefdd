//! A person using the service through a browser-like client: their own cookie jar, signing in
//! with password and second factor, and forms that carry the CSRF token.

use std::time::Duration;

use chrono::TimeDelta;
use learnloop_core::access::{Role, grants};
use learnloop_core::clock::Clock;
use learnloop_core::identity::{credentials, passwords, totp};
use learnloop_core::{agencies, demo, people};
use reqwest::StatusCode;

use crate::TestApp;

pub struct Browser {
    pub client: reqwest::Client,
    pub base_url: String,
    /// The CSRF token of the current session (or the anonymous form cookie).
    pub csrf: String,
}

/// The value of the first `name="csrf_token"` field in the HTML.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    html.find(marker)
        .map(|start| {
            let rest = &html[start + marker.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Posts a form from this site, with the CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, true).await
    }

    /// Posts a form exactly as given, from this site or (with `same_origin` false) another.
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        same_origin: bool,
    ) -> reqwest::Response {
        let origin = if same_origin {
            self.base_url.clone()
        } else {
            "https://attacker.example".to_string()
        };
        self.client
            .post(self.url(path))
            .header("origin", origin)
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"))
    }

    /// Reads the session's CSRF token from a page that has forms.
    pub async fn refresh_csrf(&mut self) {
        let (_, html) = self.get_text("/account").await;
        self.csrf = csrf_in(&html);
    }
}

impl TestApp {
    /// A browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|error| panic!("client: {error}"));
        Browser {
            client,
            base_url: self.base_url.clone(),
            csrf: String::new(),
        }
    }

    /// The current code of the demo second factor, after moving the clock on one step so that
    /// a person signing in twice never meets a code they have already used.
    pub fn next_totp_code(&self) -> String {
        self.clock.advance(TimeDelta::seconds(totp::STEP_SECONDS));
        totp::current_code(demo::DEMO_TOTP_SECRET, self.clock.now()).unwrap_or_default()
    }

    /// Signs in through the pages with the demo password and second factor.
    pub async fn sign_in(&self, email: &str) -> Browser {
        let mut browser = self.browser();
        let (_, html) = browser.get_text("/sign-in").await;
        browser.csrf = csrf_in(&html);
        let response = browser
            .post_form(
                "/sign-in",
                &[("email", email), ("password", demo::DEMO_PASSWORD)],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "password accepted for {email}"
        );
        let location = response.headers()["location"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        if location == "/sign-in/second-factor" {
            let (_, html) = browser.get_text("/sign-in/second-factor").await;
            browser.csrf = csrf_in(&html);
            let code = self.next_totp_code();
            let response = browser
                .post_form("/sign-in/second-factor", &[("code", &code)])
                .await;
            assert_eq!(
                response.status(),
                StatusCode::SEE_OTHER,
                "second factor accepted for {email}"
            );
        }
        browser.refresh_csrf().await;
        browser
    }

    /// Gives the authenticator code again in this browser's session (a step-up), as the
    /// `/step-up` page asks before exports and new API tokens; remembered for 5 minutes.
    pub async fn step_up(&self, browser: &Browser) {
        let code = self.next_totp_code();
        let response = browser
            .post_form("/step-up", &[("code", &code), ("next", "/account")])
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "step-up accepted");
    }

    /// Adds a person with the demo password and second factor and one role. Agency-scoped
    /// roles apply to the person's own agency.
    pub async fn add_person(
        &self,
        email: &str,
        agency_code: &str,
        role: Role,
        review_id: Option<uuid::Uuid>,
        ends_on: Option<chrono::NaiveDate>,
    ) -> people::Person {
        self.add_person_enrolled(email, agency_code, role, review_id, ends_on, true)
            .await
    }

    /// Adds a person with the demo password and one role but no second factor, as a
    /// practitioner is until a role needs one.
    pub async fn add_person_without_second_factor(
        &self,
        email: &str,
        agency_code: &str,
        role: Role,
    ) -> people::Person {
        self.add_person_enrolled(email, agency_code, role, None, None, false)
            .await
    }

    async fn add_person_enrolled(
        &self,
        email: &str,
        agency_code: &str,
        role: Role,
        review_id: Option<uuid::Uuid>,
        ends_on: Option<chrono::NaiveDate>,
        enrolled: bool,
    ) -> people::Person {
        let conn = self.db.conn();
        let now = self.clock.now();
        let agency = agencies::find_by_code(conn, agency_code)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("no agency {agency_code}"));
        let person = people::create(
            conn,
            people::NewPerson {
                name: format!("Test {email}"),
                email: email.to_string(),
                agency_id: agency.id,
                job_title: None,
            },
        )
        .await
        .expect("person");
        let hash = passwords::hash(demo::DEMO_PASSWORD).expect("hash");
        credentials::set_password_hash(conn, person.id, hash, now)
            .await
            .expect("password");
        if enrolled {
            credentials::set_totp_secret(conn, person.id, demo::DEMO_TOTP_SECRET)
                .await
                .expect("secret");
            credentials::confirm_totp(conn, person.id, now)
                .await
                .expect("confirm");
        }
        grants::grant(
            conn,
            grants::NewGrant {
                person_id: person.id,
                role,
                agency_id: None,
                review_id,
                starts_on: None,
                ends_on,
                granted_by: None,
            },
            now,
        )
        .await
        .expect("grant");
        person
    }
}
