#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The web shell: every page renders with the team's name, a request id and the security
//! headers; unknown addresses get the "Page not found" page.

use learnloop_testkit::{Browser, on_both_databases};

const MANAGER: &str = "business.manager@fernbridge.example";

/// Returns the first `href="/prefix/<uuid>"` link in the HTML.
fn first_link(html: &str, prefix: &str) -> String {
    let needle = format!("href=\"{prefix}/");
    let start = html.find(&needle).expect("a link") + "href=\"".len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_string()
}

async fn assert_page(browser: &Browser, path: &str, heading: &str) {
    let response = browser.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let headers = response.headers().clone();
    assert!(
        headers.get("x-request-id").is_some(),
        "{path} has a request id"
    );
    let csp = headers
        .get("content-security-policy")
        .expect("a CSP")
        .to_str()
        .expect("ascii");
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        headers.get("x-content-type-options").expect("nosniff"),
        "nosniff"
    );
    assert_eq!(
        headers.get("cache-control").expect("cache-control"),
        "no-store"
    );
    assert!(headers.get("referrer-policy").is_some());
    let html = response.text().await.expect("body");
    assert!(
        html.contains("Fernbridge Safeguarding Partnerships"),
        "{path} shows the team name"
    );
    assert!(
        html.contains(&format!(">{heading}</h1>")),
        "{path} has the heading {heading}"
    );
    assert!(!html.contains("GDS Transport"));
    assert!(
        !html.contains("govuk-header__logotype"),
        "no GOV.UK crown or logo"
    );
}

on_both_databases!(every_page_of_the_shell_renders, demo, |app| async move {
    let app = &app.sign_in(MANAGER).await;
    assert_page(app, "/", "Dashboard").await;
    assert_page(app, "/partnerships", "Partnerships").await;
    assert_page(app, "/agencies", "Agencies").await;
    assert_page(app, "/groups", "Groups").await;
    assert_page(app, "/api/docs", "API reference").await;

    let (_, agencies) = app.get_text("/agencies").await;
    let agency_link = first_link(&agencies, "/agencies");
    assert_page(
        app,
        &agency_link,
        "East Wealdshire Ambulance Service NHS Trust",
    )
    .await;

    let (_, groups) = app.get_text("/groups").await;
    let group_link = first_link(&groups, "/groups");
    let (status, group) = app.get_text(&group_link).await;
    assert_eq!(status, 200);
    assert!(group.contains("Members"));
});

on_both_databases!(
    the_dashboard_counts_the_reference_data,
    demo,
    |app| async move {
        let app = &app.sign_in(MANAGER).await;
        let (_, html) = app.get_text("/").await;
        assert!(
            html.contains("<span class=\"app-stat__value\">14</span>"),
            "14 agencies"
        );
        assert!(
            html.contains("<span class=\"app-stat__value\">5</span>"),
            "5 groups"
        );
        assert!(html.contains("serves 3 partnerships"));
    }
);

on_both_databases!(
    navigation_lists_only_sections_that_exist,
    demo,
    |app| async move {
        let app = &app.sign_in(MANAGER).await;
        let (_, html) = app.get_text("/").await;
        let mut links = Vec::new();
        for part in html
            .split("class=\"govuk-service-navigation__link\" href=\"")
            .skip(1)
        {
            links.push(part.split('"').next().expect("href").to_string());
        }
        assert_eq!(
            links,
            [
                "/",
                "/cases",
                "/deadlines",
                "/reviews",
                "/actions",
                "/learning-items",
                "/learning",
                "/partnerships",
                "/agencies",
                "/groups",
                "/admin/people",
                "/admin/audit",
                "/admin/calendar",
                "/api/docs"
            ]
        );
        for link in links {
            assert_eq!(app.get(&link).await.status(), 200, "{link}");
        }
    }
);

on_both_databases!(
    unknown_pages_get_the_not_found_page,
    demo,
    |app| async move {
        let app = &app.sign_in(MANAGER).await;
        let response = app.get("/no-such-page").await;
        assert_eq!(response.status(), 404);
        let request_id = response
            .headers()
            .get("x-request-id")
            .expect("id")
            .to_str()
            .expect("ascii")
            .to_string();
        let html = response.text().await.expect("body");
        assert!(html.contains(">Page not found</h1>"));
        assert!(html.contains(&request_id), "the page shows the request id");

        let (status, _) = app.get_text("/agencies/not-a-uuid").await;
        assert_eq!(status, 404);
        let (status, html) = app
            .get_text("/groups/00000000-0000-0000-0000-000000000000")
            .await;
        assert_eq!(status, 404);
        assert!(html.contains("Page not found"));
    }
);

on_both_databases!(
    an_empty_partnership_asks_for_sign_in,
    empty,
    |app| async move {
        let response = app.get("/").await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/sign-in");
        let (status, html) = app.get_text("/sign-in").await;
        assert_eq!(status, 200);
        assert!(
            html.contains(">learnloop</a>"),
            "the default name until one is set"
        );
        assert!(html.contains(">Sign in</h1>"));
        assert_eq!(
            app.get("/api/docs").await.status(),
            200,
            "the API reference is public"
        );
    }
);

on_both_databases!(
    request_ids_are_fresh_and_never_the_clients,
    empty,
    |app| async move {
        let first = app.get("/healthz").await;
        let second = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", "<script>")
            .send()
            .await
            .expect("response");
        let first_id = first.headers().get("x-request-id").expect("id").clone();
        let second_id = second.headers().get("x-request-id").expect("id").clone();
        assert_ne!(first_id, second_id);
        assert_ne!(second_id, "<script>");
    }
);
