#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The JSON API for reference data: reads, writes with a token, and every kind of bad input
//! answered in the error shape with nothing written.

use learnloop_core::{people, tokens};
use learnloop_testkit::serde_json::Value;
use learnloop_testkit::{TestApp, on_both_databases};

async fn token_for(app: &TestApp, email: &str) -> String {
    let person = people::find_by_email(app.db.conn(), email)
        .await
        .expect("query")
        .expect("demo person");
    let now = chrono::Utc::now();
    let (_, secret) = tokens::create(
        app.db.conn(),
        person.id,
        "test",
        now + chrono::Duration::days(1),
        now,
    )
    .await
    .expect("token");
    secret
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> (u16, Value, Option<String>) {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|value| value.to_str().expect("ascii").to_string());
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        request_id,
    )
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("response");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{body}"
    );
}

on_both_databases!(reference_data_can_be_read, demo, |app| async move {
    let token = token_for(app, "review.member@fernbridge.example").await;
    let (status, partnerships) = get_json(app, &token, "/api/v1/partnerships").await;
    assert_eq!(status, 200);
    assert_eq!(partnerships["total"], 3);
    let kinds: Vec<&str> = partnerships["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind"))
        .collect();
    assert!(
        kinds.contains(&"children")
            && kinds.contains(&"adults")
            && kinds.contains(&"community_safety")
    );
    let id = partnerships["items"][0]["id"].as_str().expect("id");
    let (status, one) = get_json(app, &token, &format!("/api/v1/partnerships/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["id"], id);

    let (status, agencies) = get_json(app, &token, "/api/v1/agencies").await;
    assert_eq!(status, 200);
    assert_eq!(agencies["total"], 14);
    let police = agencies["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|a| a["code"] == "wealdshire-police")
        .expect("police");
    assert_eq!(police["agency_type"], "police");
    assert_eq!(police["partnership_ids"].as_array().expect("ids").len(), 3);
    let (status, one) = get_json(
        app,
        &token,
        &format!("/api/v1/agencies/{}", police["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["name"], "Wealdshire Constabulary");

    let (status, groups) = get_json(app, &token, "/api/v1/groups").await;
    assert_eq!(status, 200);
    let review_group = groups["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|g| g["code"] == "review-group")
        .expect("review group");
    let (status, group) = get_json(
        app,
        &token,
        &format!(
            "/api/v1/groups/{}",
            review_group["id"].as_str().expect("id")
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(group["members"].as_array().expect("members").len(), 5);
    assert_eq!(group["members"][0]["role_in_group"], "chair");
});

on_both_databases!(
    unknown_records_answer_404_in_the_error_shape,
    demo,
    |app| async move {
        let token = token_for(app, "review.member@fernbridge.example").await;
        for path in [
            "/api/v1/agencies/00000000-0000-0000-0000-000000000000",
            "/api/v1/agencies/not-a-uuid",
            "/api/v1/groups/00000000-0000-0000-0000-000000000000",
            "/api/v1/partnerships/00000000-0000-0000-0000-000000000000",
            "/api/v1/nothing-here",
        ] {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(&token)
                .send()
                .await
                .expect("response");
            assert_eq!(response.status(), 404, "{path}");
            let header_id = response
                .headers()
                .get("x-request-id")
                .expect("id")
                .to_str()
                .expect("ascii")
                .to_string();
            let body: Value = response.json().await.expect("json");
            assert_error(&body, "not_found");
            assert_eq!(body["error"]["request_id"], header_id.as_str());
        }
    }
);

on_both_databases!(writing_needs_a_valid_token, demo, |app| async move {
    let body =
        r#"{"code":"new-agency","name":"Fernbridge Youth Justice Service","agency_type":"other"}"#;
    let (status, error, _) =
        post_raw(app, "/api/v1/agencies", None, "application/json", body).await;
    assert_eq!(status, 401);
    assert_error(&error, "unauthorised");
    let (status, _, _) = post_raw(
        app,
        "/api/v1/agencies",
        Some("ll_not-a-real-token"),
        "application/json",
        body,
    )
    .await;
    assert_eq!(status, 401);

    let token = token_for(app, "business.manager@fernbridge.example").await;
    let person = people::find_by_email(app.db.conn(), "admin@fernbridge.example")
        .await
        .expect("q")
        .expect("p");
    let now = chrono::Utc::now();
    let (revoked, revoked_secret) = tokens::create(
        app.db.conn(),
        person.id,
        "old",
        now + chrono::Duration::days(1),
        now,
    )
    .await
    .expect("token");
    tokens::revoke(app.db.conn(), revoked.id, now)
        .await
        .expect("revoke");
    let (status, _, _) = post_raw(
        app,
        "/api/v1/agencies",
        Some(&revoked_secret),
        "application/json",
        body,
    )
    .await;
    assert_eq!(status, 401, "a revoked token is refused");

    let (status, created, _) = post_raw(
        app,
        "/api/v1/agencies",
        Some(&token),
        "application/json",
        body,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["code"], "new-agency");
    let (status, read) = get_json(
        app,
        &token,
        &format!("/api/v1/agencies/{}", created["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["name"], "Fernbridge Youth Justice Service");
    let (_, agencies) = get_json(app, &token, "/api/v1/agencies").await;
    assert_eq!(agencies["total"], 15);

    let group = r#"{"code":"child-death","name":"Child Death Overview Panel","purpose":"Reviews every child death in the area."}"#;
    let (status, created, _) = post_raw(
        app,
        "/api/v1/groups",
        Some(&token),
        "application/json",
        group,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert!(created["partnership_id"].is_null());
});

on_both_databases!(
    bad_input_is_refused_in_the_error_shape_and_writes_nothing,
    demo,
    |app| async move {
        let token = token_for(app, "business.manager@fernbridge.example").await;
        let cases: [(&str, &str, u16, &str); 8] = [
            (
                "application/json",
                r#"{"code": "x", "name": "#,
                400,
                "malformed_json",
            ),
            (
                "text/plain",
                r#"{"code":"ok-code","name":"A","agency_type":"police"}"#,
                415,
                "unsupported_media_type",
            ),
            (
                "application/json",
                r#"{"code":"ok-code","name":"A","agency_type":"police","colour":"red"}"#,
                422,
                "invalid_body",
            ),
            (
                "application/json",
                r#"{"code":"ok-code","name":"A"}"#,
                422,
                "invalid_body",
            ),
            (
                "application/json",
                r#"{"code":"ok-code","name":"A","agency_type":"spaceship"}"#,
                422,
                "invalid_body",
            ),
            (
                "application/json",
                r#"{"code":"ok-code","name":"   ","agency_type":"police"}"#,
                422,
                "invalid_input",
            ),
            (
                "application/json",
                r#"{"code":"wealdshire-police","name":"Again","agency_type":"police"}"#,
                422,
                "invalid_input",
            ),
            (
                "application/json",
                r#"{"code":"ok-code","name":"A","agency_type":"police","partnership_ids":["00000000-0000-0000-0000-000000000000"]}"#,
                422,
                "invalid_input",
            ),
        ];
        for (content_type, body, expected_status, expected_code) in cases {
            let (status, error, _) =
                post_raw(app, "/api/v1/agencies", Some(&token), content_type, body).await;
            assert_eq!(status, expected_status, "{body}: {error}");
            assert_error(&error, expected_code);
        }
        // The error names the field at fault.
        let (_, error, _) = post_raw(
            app,
            "/api/v1/agencies",
            Some(&token),
            "application/json",
            r#"{"code":"ok-code","name":"A","agency_type":"police","colour":"red"}"#,
        )
        .await;
        assert!(
            error["error"]["message"]
                .as_str()
                .expect("message")
                .contains("colour"),
            "{error}"
        );
        let (_, error, _) = post_raw(
            app,
            "/api/v1/agencies",
            Some(&token),
            "application/json",
            r#"{"code":"ok-code","name":"  ","agency_type":"police"}"#,
        )
        .await;
        assert_eq!(error["error"]["fields"][0]["field"], "name");
        let (_, error, _) = post_raw(app, "/api/v1/agencies", Some(&token), "application/json", r#"{"code":"ok-code","name":"A","agency_type":"police","partnership_ids":["00000000-0000-0000-0000-000000000000"]}"#).await;
        assert_eq!(error["error"]["fields"][0]["field"], "partnership_ids[0]");

        // Oversized bodies get 413.
        let huge = format!(
            r#"{{"code":"big","name":"{}","agency_type":"police"}}"#,
            "x".repeat(100 * 1024)
        );
        let (status, error, _) = post_raw(
            app,
            "/api/v1/agencies",
            Some(&token),
            "application/json",
            &huge,
        )
        .await;
        assert_eq!(status, 413);
        assert_error(&error, "payload_too_large");

        let (_, agencies) = get_json(app, &token, "/api/v1/agencies").await;
        assert_eq!(agencies["total"], 14, "nothing was written");
        let rows = app
            .query_strings("SELECT code FROM agencies WHERE code = 'ok-code'")
            .await;
        assert!(rows.is_empty());
    }
);

on_both_databases!(
    the_openapi_description_covers_every_route_and_error,
    empty,
    |app| async move {
        let (status, doc) = app.get_json("/api/v1/openapi.json").await;
        assert_eq!(status, 200);
        assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
        for path in [
            "/api/v1/partnerships",
            "/api/v1/partnerships/{id}",
            "/api/v1/agencies",
            "/api/v1/agencies/{id}",
            "/api/v1/groups",
            "/api/v1/groups/{id}",
            "/healthz",
            "/readyz",
            "/metrics",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is described");
        }
        for path in ["/api/v1/agencies", "/api/v1/groups"] {
            let responses = &doc["paths"][path]["post"]["responses"];
            for status in ["201", "400", "401", "413", "415", "422"] {
                assert!(
                    responses[status].is_object(),
                    "POST {path} documents {status}"
                );
            }
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

        let (status, html) = app.get_text("/api/docs").await;
        assert_eq!(status, 200);
        assert!(html.contains("POST /api/v1/agencies"));
        assert!(html.contains("415"));
    }
);
