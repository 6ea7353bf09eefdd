#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The authorisation matrix: routes x methods x personas (every role in two agencies, an
//! independent reviewer of another review, an expired reviewer, a disabled person, anonymous)
//! x record states. The expected answers are written here, by hand, from the framework's roles
//! — not derived from the production policy code. The test counts mismatches and wants 0.

use std::collections::BTreeSet;

use learnloop_core::access::Role;
use learnloop_core::clock::Clock;
use learnloop_core::{people, tokens};
use learnloop_testkit::{Browser, TestApp, on_both_databases};

const AGENCY_A: &str = "wealdshire-police";
const AGENCY_B: &str = "fuh-nhs";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persona {
    Anonymous,
    Holder(Role, Side),
    /// Appointed to a review other than any record here.
    Reviewer,
    /// Their appointment ended yesterday.
    ExpiredReviewer,
    /// Had a role; the account is disabled.
    Disabled,
}

/// What is asked, of which record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Dashboard,
    Partnerships,
    Agencies,
    AgencyPage,
    Groups,
    GroupPage,
    Account,
    ActivityExport,
    PeopleList,
    /// A person in agency A.
    PersonInA,
    /// A person in agency B.
    PersonInB,
    NewPersonForm,
    AuditTrail,
    ApiDocs,
    /// POST: re-enable the person in agency B (harmless when allowed).
    EnablePersonInB,
    ApiListAgencies,
    ApiReadGroup,
    ApiCreateAgency,
    /// The retention schedule (settings).
    RetentionSchedule,
}

const CASES: [Case; 19] = [
    Case::Dashboard,
    Case::Partnerships,
    Case::Agencies,
    Case::AgencyPage,
    Case::Groups,
    Case::GroupPage,
    Case::Account,
    Case::ActivityExport,
    Case::PeopleList,
    Case::PersonInA,
    Case::PersonInB,
    Case::NewPersonForm,
    Case::AuditTrail,
    Case::ApiDocs,
    Case::EnablePersonInB,
    Case::ApiListAgencies,
    Case::ApiReadGroup,
    Case::ApiCreateAgency,
    Case::RetentionSchedule,
];

fn is_api(case: Case) -> bool {
    matches!(
        case,
        Case::ApiListAgencies | Case::ApiReadGroup | Case::ApiCreateAgency
    )
}

/// The expected status, from the roles as the framework describes them.
fn expected(persona: Persona, case: Case) -> u16 {
    use Case::*;
    use Role::*;
    let signed_out = |case: Case| match case {
        ApiDocs => 200,
        _ if is_api(case) => 401,
        EnablePersonInB => 303, // redirected to sign in; nothing changes
        _ => 303,
    };
    match persona {
        Persona::Anonymous | Persona::ExpiredReviewer | Persona::Disabled => signed_out(case),
        Persona::Reviewer => match case {
            // A reviewer sees their review only: the dashboard, their account, help.
            Dashboard | Account | ActivityExport | ApiDocs => 200,
            _ => 403,
        },
        Persona::Holder(role, side) => match case {
            Dashboard | Account | ActivityExport | ApiDocs => 200,
            Partnerships | Agencies | AgencyPage | Groups | GroupPage | ApiListAgencies
            | ApiReadGroup => 200,
            PeopleList => match role {
                BusinessManager | SystemAdministrator | AgencyLead => 200,
                _ => 403,
            },
            PersonInA | PersonInB => {
                let record_side = if case == PersonInA { Side::A } else { Side::B };
                match role {
                    BusinessManager | SystemAdministrator => 200,
                    // Another agency's record answers 404, not 403.
                    AgencyLead => {
                        if side == record_side {
                            200
                        } else {
                            404
                        }
                    }
                    _ => 403,
                }
            }
            NewPersonForm => {
                if role == SystemAdministrator {
                    200
                } else {
                    403
                }
            }
            EnablePersonInB => {
                if role == SystemAdministrator {
                    303
                } else {
                    403
                }
            }
            AuditTrail => match role {
                BusinessManager | SystemAdministrator => 200,
                _ => 403,
            },
            ApiCreateAgency => match role {
                BusinessManager | SystemAdministrator => 201,
                _ => 403,
            },
            RetentionSchedule => match role {
                BusinessManager | SystemAdministrator => 200,
                _ => 403,
            },
        },
    }
}

struct Fixture {
    agency_id: String,
    group_id: String,
    person_a: people::Person,
    person_b: people::Person,
}

struct Actor {
    persona: Persona,
    browser: Browser,
    token: Option<String>,
}

fn role_slug(role: Role) -> &'static str {
    role.as_str()
}

async fn token_of(app: &TestApp, person_id: uuid::Uuid) -> String {
    let now = app.clock.now();
    tokens::create(
        app.db.conn(),
        person_id,
        "matrix",
        now + chrono::Duration::days(1),
        now,
    )
    .await
    .unwrap()
    .1
}

async fn ask(
    app: &TestApp,
    actor: &Actor,
    fixture: &Fixture,
    case: Case,
    counter: &mut usize,
) -> u16 {
    let path = match case {
        Case::Dashboard => "/".to_string(),
        Case::Partnerships => "/partnerships".to_string(),
        Case::Agencies => "/agencies".to_string(),
        Case::AgencyPage => format!("/agencies/{}", fixture.agency_id),
        Case::Groups => "/groups".to_string(),
        Case::GroupPage => format!("/groups/{}", fixture.group_id),
        Case::Account => "/account".to_string(),
        Case::ActivityExport => "/account/activity.csv".to_string(),
        Case::PeopleList => "/admin/people".to_string(),
        Case::PersonInA => format!("/admin/people/{}", fixture.person_a.id),
        Case::PersonInB => format!("/admin/people/{}", fixture.person_b.id),
        Case::NewPersonForm => "/admin/people/new".to_string(),
        Case::AuditTrail => "/admin/audit".to_string(),
        Case::ApiDocs => "/api/docs".to_string(),
        Case::EnablePersonInB => format!("/admin/people/{}/enable", fixture.person_b.id),
        Case::ApiListAgencies => "/api/v1/agencies".to_string(),
        Case::ApiReadGroup => format!("/api/v1/groups/{}", fixture.group_id),
        Case::ApiCreateAgency => "/api/v1/agencies".to_string(),
        Case::RetentionSchedule => "/admin/retention".to_string(),
    };
    if is_api(case) {
        let mut request = if case == Case::ApiCreateAgency {
            *counter += 1;
            app.client.post(app.url(&path)).json(&serde_json::json!({
                "code": format!("matrix-{counter}"),
                "name": format!("Matrix agency {counter}"),
                "agency_type": "other"
            }))
        } else {
            app.client.get(app.url(&path))
        };
        if let Some(token) = &actor.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(
                body["error"]["code"].is_string(),
                "refusals use the error shape"
            );
        }
        return status;
    }
    if case == Case::EnablePersonInB {
        return actor.browser.post_form(&path, &[]).await.status().as_u16();
    }
    // A download asks for the authenticator code again first (step-up), which anyone signed
    // in gives here; what is asked is whether the download is then served.
    if case == Case::ActivityExport
        && matches!(actor.persona, Persona::Holder(..) | Persona::Reviewer)
    {
        app.step_up(&actor.browser).await;
    }
    actor.browser.get(&path).await.status().as_u16()
}

async fn actors(app: &TestApp) -> Vec<Actor> {
    let mut actors = vec![Actor {
        persona: Persona::Anonymous,
        browser: app.browser(),
        token: None,
    }];
    let today = app.clock.now().date_naive();
    for role in [
        Role::BusinessManager,
        Role::ReviewGroupMember,
        Role::AgencyLead,
        Role::Executive,
        Role::Auditor,
        Role::Practitioner,
        Role::SystemAdministrator,
    ] {
        for (side, agency) in [(Side::A, AGENCY_A), (Side::B, AGENCY_B)] {
            let email = format!("{}.{}@matrix.example", role_slug(role), agency);
            let person = app.add_person(&email, agency, role, None, None).await;
            let browser = app.sign_in(&email).await;
            let token = Some(token_of(app, person.id).await);
            actors.push(Actor {
                persona: Persona::Holder(role, side),
                browser,
                token,
            });
        }
    }
    let other_review = uuid::Uuid::now_v7();
    let reviewer = app
        .add_person(
            "reviewer@matrix.example",
            "fsp-team",
            Role::IndependentReviewer,
            Some(other_review),
            Some(today + chrono::Days::new(30)),
        )
        .await;
    let browser = app.sign_in("reviewer@matrix.example").await;
    actors.push(Actor {
        persona: Persona::Reviewer,
        browser,
        token: Some(token_of(app, reviewer.id).await),
    });

    let expired = app
        .add_person(
            "expired@matrix.example",
            "fsp-team",
            Role::IndependentReviewer,
            Some(other_review),
            Some(today - chrono::Days::new(1)),
        )
        .await;
    let mut browser = app.browser();
    let (_, html) = browser.get_text("/sign-in").await;
    browser.csrf = learnloop_testkit::browser::csrf_in(&html);
    let refused = browser
        .post_form(
            "/sign-in",
            &[
                ("email", "expired@matrix.example"),
                ("password", learnloop_core::demo::DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), 200, "an expired reviewer cannot sign in");
    actors.push(Actor {
        persona: Persona::ExpiredReviewer,
        browser,
        token: Some(token_of(app, expired.id).await),
    });

    let disabled = app
        .add_person(
            "disabled@matrix.example",
            AGENCY_A,
            Role::BusinessManager,
            None,
            None,
        )
        .await;
    let browser = app.sign_in("disabled@matrix.example").await;
    let token = Some(token_of(app, disabled.id).await);
    people::set_active(app.db.conn(), disabled.id, false)
        .await
        .unwrap();
    actors.push(Actor {
        persona: Persona::Disabled,
        browser,
        token,
    });
    actors
}

on_both_databases!(
    the_authorisation_matrix_has_no_mismatches,
    demo,
    |app| async move {
        let (_, agencies) = app
            .sign_in("business.manager@fernbridge.example")
            .await
            .get_text("/agencies")
            .await;
        let start = agencies.find("href=\"/agencies/").unwrap() + "href=\"/agencies/".len();
        let agency_id = agencies[start..start + 36].to_string();
        let group_id = learnloop_core::groups::list(app.db.conn()).await.unwrap()[0]
            .id
            .to_string();
        let person_a = app
            .add_person(
                "subject.a@matrix.example",
                AGENCY_A,
                Role::Executive,
                None,
                None,
            )
            .await;
        let person_b = app
            .add_person(
                "subject.b@matrix.example",
                AGENCY_B,
                Role::Executive,
                None,
                None,
            )
            .await;
        let fixture = Fixture {
            agency_id,
            group_id,
            person_a,
            person_b,
        };

        let actors = actors(app).await;
        let mut mismatches = Vec::new();
        let mut asked = 0;
        let mut counter = 0;
        for actor in &actors {
            for case in CASES {
                let want = expected(actor.persona, case);
                let got = ask(app, actor, &fixture, case, &mut counter).await;
                asked += 1;
                if want != got {
                    mismatches.push(format!(
                        "{:?} {:?}: expected {want}, got {got}",
                        actor.persona, case
                    ));
                }
            }
        }
        assert_eq!(actors.len(), 18);
        assert_eq!(asked, 18 * CASES.len());
        assert!(
            mismatches.is_empty(),
            "{} mismatches:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
);

on_both_databases!(
    lists_hold_nothing_the_persona_may_not_see,
    demo,
    |app| async move {
        app.add_person(
            "list.subject.a@matrix.example",
            AGENCY_A,
            Role::Executive,
            None,
            None,
        )
        .await;
        app.add_person(
            "list.subject.b@matrix.example",
            AGENCY_B,
            Role::Executive,
            None,
            None,
        )
        .await;
        app.add_person(
            "lead.a@matrix.example",
            AGENCY_A,
            Role::AgencyLead,
            None,
            None,
        )
        .await;
        let lead = app.sign_in("lead.a@matrix.example").await;
        let (_, html) = lead.get_text("/admin/people").await;
        assert!(html.contains("Test list.subject.a@matrix.example"));
        assert!(
            !html.contains("Test list.subject.b@matrix.example"),
            "another agency's people are not listed"
        );
        let listed = html.matches("href=\"/admin/people/").count();
        let police = learnloop_core::agencies::find_by_code(app.db.conn(), AGENCY_A)
            .await
            .unwrap()
            .unwrap();
        let own = people::list_by_agency(app.db.conn(), police.id)
            .await
            .unwrap()
            .len();
        assert_eq!(listed, own, "exactly the agency's own people");
        let manager = app.sign_in("business.manager@fernbridge.example").await;
        let (_, html) = manager.get_text("/admin/people").await;
        assert!(html.contains("Test list.subject.b@matrix.example"));
    }
);

/// The routes this test knows, written out by hand: a route added to the site map without
/// being added here (and to the matrix) fails the build.
const KNOWN_ROUTES: [(&str, &str); 162] = [
    ("GET", "/learning-items"),
    ("GET", "/learning-items/new"),
    ("POST", "/learning-items/new"),
    ("GET", "/learning-items/{id}"),
    ("POST", "/learning-items/{id}/disseminations"),
    (
        "POST",
        "/learning-items/{id}/disseminations/{dissemination_id}/confirm/{agency_id}",
    ),
    ("POST", "/learning-items/{id}/evidence"),
    ("GET", "/learning-items/{id}/publish"),
    ("POST", "/learning-items/{id}/publish"),
    ("GET", "/learning-items/{id}/briefing"),
    ("GET", "/learning-items/{id}/briefing.docx"),
    ("GET", "/reviews/{id}/briefing"),
    ("GET", "/reviews/{id}/briefing.docx"),
    ("GET", "/library"),
    ("GET", "/library/themes"),
    ("GET", "/api/v1/learning"),
    ("POST", "/api/v1/learning"),
    ("GET", "/api/v1/learning/{id}"),
    ("POST", "/api/v1/learning/{id}/disseminations"),
    ("POST", "/api/v1/learning/{id}/evidence"),
    ("GET", "/api/v1/library/search"),
    ("GET", "/actions"),
    ("GET", "/actions/new"),
    ("POST", "/actions/new"),
    ("GET", "/actions/export.xlsx"),
    ("GET", "/actions/export.csv"),
    ("GET", "/actions/import"),
    ("POST", "/actions/import"),
    ("POST", "/actions/import/{id}/preview"),
    ("POST", "/actions/import/{id}/commit"),
    ("GET", "/actions/{id}"),
    ("POST", "/actions/{id}/updates"),
    ("GET", "/actions/{id}/evidence/{file_id}"),
    ("POST", "/actions/{id}/sign-off"),
    ("GET", "/action-plans"),
    ("GET", "/action-plans/new"),
    ("POST", "/action-plans/new"),
    ("GET", "/action-plans/{id}"),
    ("POST", "/action-plans/{id}/sign-off"),
    ("POST", "/action-plans/{id}/assurance/{check_id}"),
    ("GET", "/admin/outbox"),
    ("GET", "/api/v1/actions"),
    ("POST", "/api/v1/actions"),
    ("GET", "/api/v1/actions/{id}"),
    ("POST", "/api/v1/actions/{id}/updates"),
    ("GET", "/reviews"),
    ("GET", "/reviews/new"),
    ("POST", "/reviews/new"),
    ("GET", "/reviews/export.csv"),
    ("GET", "/reviews/{id}"),
    ("POST", "/reviews/{id}/details"),
    ("POST", "/reviews/{id}/stages/{key}/complete"),
    ("POST", "/reviews/{id}/stages/{key}/reschedule"),
    ("GET", "/reviews/{id}/people"),
    ("POST", "/reviews/{id}/people"),
    ("POST", "/reviews/{id}/contributions"),
    ("POST", "/reviews/{id}/contributions/{contribution_id}"),
    ("GET", "/reviews/{id}/voices"),
    ("POST", "/reviews/{id}/family"),
    ("POST", "/reviews/{id}/practitioner-events"),
    ("GET", "/reviews/{id}/content"),
    ("POST", "/reviews/{id}/entries"),
    ("GET", "/reviews/{id}/documents"),
    ("POST", "/reviews/{id}/documents"),
    ("GET", "/reviews/{id}/documents/{version_id}"),
    ("GET", "/reviews/{id}/publication"),
    ("POST", "/reviews/{id}/identifiers"),
    ("POST", "/reviews/{id}/public-text"),
    ("POST", "/reviews/{id}/hold"),
    ("POST", "/reviews/{id}/publish"),
    ("GET", "/learning"),
    ("GET", "/learning/reviews/{id}"),
    ("GET", "/learning/feed.json"),
    ("GET", "/learning/feed.atom"),
    ("GET", "/api/v1/reviews"),
    ("GET", "/api/v1/reviews/{id}"),
    ("POST", "/api/v1/reviews/{id}/entries"),
    ("POST", "/cases/{id}/attachments"),
    ("GET", "/cases/{id}/attachments/{attachment_id}"),
    ("GET", "/cases/{id}/edit"),
    ("POST", "/cases/{id}/edit"),
    ("GET", "/account/calendar"),
    ("POST", "/account/calendar"),
    ("POST", "/account/calendar/revoke"),
    ("GET", "/calendar/{file}"),
    ("GET", "/cases"),
    ("GET", "/cases/new"),
    ("POST", "/cases/new"),
    ("GET", "/cases/{id}"),
    ("POST", "/cases/{id}/national-panel"),
    ("POST", "/cases/{id}/deadline-reasons"),
    ("GET", "/cases/{id}/decisions/new"),
    ("POST", "/cases/{id}/decisions/check"),
    ("POST", "/cases/{id}/decisions"),
    ("GET", "/rapid-reviews/{id}"),
    ("POST", "/rapid-reviews/{id}/steps/{key}/complete"),
    ("POST", "/rapid-reviews/{id}/steps/{key}/reason"),
    ("POST", "/rapid-reviews/{id}/summaries/{agency_id}"),
    ("POST", "/rapid-reviews/{id}/outcome"),
    ("POST", "/rapid-reviews/{id}/convert"),
    ("GET", "/deadlines"),
    ("GET", "/admin/calendar"),
    ("POST", "/admin/calendar/import"),
    ("POST", "/admin/calendar/closures"),
    ("POST", "/admin/calendar/closures/{day}/remove"),
    ("GET", "/admin/review-types"),
    ("GET", "/admin/review-types/{code}"),
    ("POST", "/admin/review-types/{code}"),
    ("GET", "/admin/retention"),
    ("GET", "/admin/retention/{key}"),
    ("POST", "/admin/retention/{key}"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/notifications"),
    ("GET", "/api/v1/notifications/{id}"),
    ("PUT", "/api/v1/notifications/{id}"),
    ("GET", "/api/v1/notifications/{id}/decisions"),
    ("POST", "/api/v1/notifications/{id}/decisions"),
    ("GET", "/api/v1/calendar/working-days"),
    ("GET", "/sign-in"),
    ("POST", "/sign-in"),
    ("GET", "/sign-in/second-factor"),
    ("POST", "/sign-in/second-factor"),
    ("POST", "/sign-out"),
    ("GET", "/password-reset/{token}"),
    ("POST", "/password-reset/{token}"),
    ("GET", "/account"),
    ("GET", "/account/activity.csv"),
    ("GET", "/account/tokens"),
    ("POST", "/account/tokens"),
    ("POST", "/account/tokens/{id}/revoke"),
    ("GET", "/step-up"),
    ("POST", "/step-up"),
    ("GET", "/"),
    ("GET", "/partnerships"),
    ("GET", "/agencies"),
    ("GET", "/agencies/{id}"),
    ("GET", "/groups"),
    ("GET", "/groups/{id}"),
    ("GET", "/admin/people"),
    ("GET", "/admin/people/new"),
    ("POST", "/admin/people/new"),
    ("GET", "/admin/people/{id}"),
    ("POST", "/admin/people/{id}/roles"),
    ("POST", "/admin/people/{id}/roles/{grant_id}/revoke"),
    ("POST", "/admin/people/{id}/disable"),
    ("POST", "/admin/people/{id}/enable"),
    ("POST", "/admin/people/{id}/reset-link"),
    ("GET", "/admin/audit"),
    ("GET", "/api/docs"),
    ("GET", "/api/v1/partnerships"),
    ("GET", "/api/v1/partnerships/{id}"),
    ("GET", "/api/v1/agencies"),
    ("POST", "/api/v1/agencies"),
    ("GET", "/api/v1/agencies/{id}"),
    ("GET", "/api/v1/groups"),
    ("POST", "/api/v1/groups"),
    ("GET", "/api/v1/groups/{id}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/static/{*file}"),
];

const PUBLIC_ROUTES: [&str; 15] = [
    "/learning",
    "/learning/reviews/{id}",
    "/learning/feed.json",
    "/learning/feed.atom",
    "/calendar/{file}",
    "/sign-in",
    "/password-reset/{token}",
    "/sign-out",
    "/api/docs",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/openapi.json",
    "/static/{*file}",
    "/sign-in/second-factor",
];

#[test]
fn every_route_is_in_the_policy_table_and_known_here() {
    let table: BTreeSet<(String, String)> = learnloop_web::routes::policy_table()
        .into_iter()
        .map(|rule| (rule.method.to_string(), rule.path.to_string()))
        .collect();
    let known: BTreeSet<(String, String)> = KNOWN_ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    let missing_here: Vec<_> = table.difference(&known).collect();
    let missing_there: Vec<_> = known.difference(&table).collect();
    assert!(
        missing_here.is_empty(),
        "routes with no expectation in this test: {missing_here:?}"
    );
    assert!(
        missing_there.is_empty(),
        "routes this test expects but the site map lacks: {missing_there:?}"
    );
}

on_both_databases!(
    anonymous_requests_to_non_public_routes_get_nothing,
    demo,
    |app| async move {
        for rule in learnloop_web::routes::policy_table() {
            if PUBLIC_ROUTES.contains(&rule.path) {
                continue;
            }
            let path = rule
                .path
                .replace("{id}", &uuid::Uuid::nil().to_string())
                .replace("{grant_id}", &uuid::Uuid::nil().to_string())
                .replace("{agency_id}", &uuid::Uuid::nil().to_string())
                .replace("{key}", "referral")
                .replace("{contribution_id}", &uuid::Uuid::nil().to_string())
                .replace("{version_id}", &uuid::Uuid::nil().to_string())
                .replace("{file_id}", &uuid::Uuid::nil().to_string())
                .replace("{check_id}", &uuid::Uuid::nil().to_string())
                .replace("{dissemination_id}", &uuid::Uuid::nil().to_string())
                .replace("{day}", "2026-12-24")
                .replace("{code}", "sar");
            let request = if rule.method == "PUT" {
                app.client.put(app.url(&path)).json(&serde_json::json!({}))
            } else if rule.method == "POST" {
                app.client
                    .post(app.url(&path))
                    .header("origin", &app.base_url)
                    .form(&[("a", "b")])
            } else {
                app.client.get(app.url(&path))
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            if rule.path.starts_with("/api/") {
                assert_eq!(status, 401, "{} {}", rule.method, rule.path);
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "unauthorised");
                assert!(body.get("items").is_none());
            } else {
                assert_eq!(status, 303, "{} {}", rule.method, rule.path);
                assert_eq!(response.headers()["location"], "/sign-in");
                assert!(
                    response.text().await.unwrap().is_empty(),
                    "no record data in the redirect"
                );
            }
        }
    }
);
