//! The site map: every route of learnloop with its access policy, in one table. A route cannot
//! be added without a policy, and `policy_table()` lets the tests check every one.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Extension, Json, Router, middleware as axum_middleware};
use learnloop_core::access::Action;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{self, ApiDoc};
use crate::assets::{self, AssetSource};
use crate::auth::policy::{Policy, enforce};
use crate::auth::{self, csrf};
use crate::middleware;
use crate::ops;
use crate::pages::{self, api_docs::ApiDescription};
use crate::state::AppState;

/// One row of the site map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    pub method: &'static str,
    pub path: &'static str,
    pub policy: Policy,
}

/// Declares routes once: the router and the policy table come from the same rows.
macro_rules! site_map {
    ($rules:ident, $router:ident, $kind:ident; $( $method:ident $path:literal => $policy:expr, $($handler:ident)::+; )*) => {
        fn $rules() -> Vec<RouteRule> {
            vec![$( RouteRule { method: site_map!(@upper $method), path: $path, policy: $policy } ),*]
        }
        fn $router(state: &AppState) -> $kind<AppState> {
            let mut router = $kind::new();
            $(
                router = site_map!(@add $kind, router, state, $method, $path, $policy, $($handler)::+);
            )*
            router
        }
    };
    (@add Router, $router:ident, $state:ident, $method:ident, $path:literal, $policy:expr, $($handler:ident)::+) => {
        $router.route(
            $path,
            $method($($handler)::+)
                .route_layer(axum_middleware::from_fn_with_state(($state.clone(), $policy), enforce))
                // Outermost: a cross-site form is refused before anything else looks at it.
                .route_layer(axum_middleware::from_fn(csrf::same_origin)),
        )
    };
    (@add OpenApiRouter, $router:ident, $state:ident, $method:ident, $path:literal, $policy:expr, $($handler:ident)::+) => {
        $router.merge(
            OpenApiRouter::new()
                .routes(routes!($($handler)::+))
                .route_layer(axum_middleware::from_fn_with_state(($state.clone(), $policy), enforce)),
        )
    };
    (@upper get) => { "GET" };
    (@upper post) => { "POST" };
    (@upper put) => { "PUT" };
}

use Policy::{Allowed, Public, SecondFactorStep, SignedIn};

site_map! { page_rules, page_router, Router;
    // Signing in and out
    get  "/sign-in"                      => Public, pages::sign_in::show;
    post "/sign-in"                      => Public, pages::sign_in::submit;
    get  "/sign-in/second-factor"        => SecondFactorStep, pages::sign_in::second_factor;
    post "/sign-in/second-factor"        => SecondFactorStep, pages::sign_in::second_factor_submit;
    post "/sign-out"                     => Public, pages::sign_in::sign_out;
    get  "/password-reset/{token}"       => Public, pages::sign_in::reset_form;
    post "/password-reset/{token}"       => Public, pages::sign_in::reset_submit;
    // Your account
    get  "/account"                      => SignedIn, pages::account::show;
    get  "/account/activity.csv"         => SignedIn, pages::account::activity_csv;
    get  "/account/tokens"               => SignedIn, pages::tokens::list;
    post "/account/tokens"               => SignedIn, pages::tokens::create;
    post "/account/tokens/{id}/revoke"   => SignedIn, pages::tokens::revoke;
    get  "/step-up"                      => SignedIn, pages::step_up::show;
    post "/step-up"                      => SignedIn, pages::step_up::submit;
    get  "/account/calendar"             => SignedIn, pages::calendar_feed::show;
    post "/account/calendar"             => SignedIn, pages::calendar_feed::renew;
    post "/account/calendar/revoke"      => SignedIn, pages::calendar_feed::revoke;
    get  "/calendar/{file}"              => Public, pages::calendar_feed::feed;
    // The partnership
    get  "/"                             => Allowed(Action::ViewDashboard), pages::dashboard::show;
    get  "/partnerships"                 => Allowed(Action::ViewReferenceData), pages::partnerships::list;
    get  "/agencies"                     => Allowed(Action::ViewReferenceData), pages::agencies::list;
    get  "/agencies/{id}"                => Allowed(Action::ViewReferenceData), pages::agencies::show;
    get  "/groups"                       => Allowed(Action::ViewReferenceData), pages::groups::list;
    get  "/groups/{id}"                  => Allowed(Action::ViewReferenceData), pages::groups::show;
    // Cases, decisions and their clocks
    get  "/cases"                        => Allowed(Action::ViewCase), pages::cases::list;
    get  "/cases/new"                    => Allowed(Action::ManageCase), pages::cases::new_form;
    post "/cases/new"                    => Allowed(Action::ManageCase), pages::cases::create;
    get  "/cases/{id}"                   => Allowed(Action::ViewCase), pages::cases::show;
    get  "/cases/{id}/edit"              => Allowed(Action::ManageCase), pages::cases::edit_form;
    post "/cases/{id}/edit"              => Allowed(Action::ManageCase), pages::cases::update;
    post "/cases/{id}/attachments"       => Allowed(Action::ManageCase), pages::case_attachments::upload;
    get  "/cases/{id}/attachments/{attachment_id}" => Allowed(Action::ViewCase), pages::case_attachments::download;
    post "/cases/{id}/national-panel"    => Allowed(Action::ManageCase), pages::cases::national_panel;
    post "/cases/{id}/deadline-reasons"  => Allowed(Action::ManageCase), pages::cases::deadline_reason;
    get  "/cases/{id}/decisions/new"     => Allowed(Action::ManageCase), pages::decisions::new_form;
    post "/cases/{id}/decisions/check"   => Allowed(Action::ManageCase), pages::decisions::check;
    post "/cases/{id}/decisions"         => Allowed(Action::ManageCase), pages::decisions::submit;
    get  "/rapid-reviews/{id}"           => Allowed(Action::ViewCase), pages::rapid_reviews::show;
    post "/rapid-reviews/{id}/steps/{key}/complete" => Allowed(Action::ManageCase), pages::rapid_reviews::complete_step;
    post "/rapid-reviews/{id}/steps/{key}/reason"   => Allowed(Action::ManageCase), pages::rapid_reviews::step_reason;
    post "/rapid-reviews/{id}/summaries/{agency_id}" => Allowed(Action::ManageCase), pages::rapid_reviews::summary_received;
    post "/rapid-reviews/{id}/outcome"   => Allowed(Action::ManageCase), pages::rapid_reviews::outcome;
    post "/rapid-reviews/{id}/convert"   => Allowed(Action::ManageCase), pages::rapid_reviews::convert;
    get  "/deadlines"                    => Allowed(Action::ViewCase), pages::deadlines::show;
    // Reviews, from commissioning to publication
    get  "/reviews"                      => Allowed(Action::ViewReview), pages::review_list::list;
    get  "/reviews/new"                  => Allowed(Action::ManageCase), pages::review_list::new_form;
    post "/reviews/new"                  => Allowed(Action::ManageCase), pages::review_list::create;
    get  "/reviews/export.csv"           => Allowed(Action::ViewReview), pages::review_list::export;
    get  "/reviews/{id}"                 => Allowed(Action::ViewReview), pages::reviews::show;
    post "/reviews/{id}/details"         => Allowed(Action::ManageReview), pages::reviews::update_details;
    post "/reviews/{id}/stages/{key}/complete"   => Allowed(Action::ManageReview), pages::reviews::complete_stage;
    post "/reviews/{id}/stages/{key}/reschedule" => Allowed(Action::ManageReview), pages::reviews::reschedule_stage;
    get  "/reviews/{id}/people"          => Allowed(Action::ViewReview), pages::reviews::people_page;
    post "/reviews/{id}/people"          => Allowed(Action::ManageReview), pages::reviews::appoint;
    post "/reviews/{id}/contributions"   => Allowed(Action::ManageReview), pages::reviews::request_contribution;
    post "/reviews/{id}/contributions/{contribution_id}" => Allowed(Action::ContributeToReview), pages::review_documents::contribute;
    get  "/reviews/{id}/voices"          => Allowed(Action::ViewReview), pages::reviews::voices_page;
    post "/reviews/{id}/family"          => Allowed(Action::ManageReview), pages::reviews::add_family;
    post "/reviews/{id}/practitioner-events" => Allowed(Action::ManageReview), pages::reviews::add_practitioner_event;
    get  "/reviews/{id}/content"         => Allowed(Action::ViewReview), pages::reviews::content_page;
    post "/reviews/{id}/entries"         => Allowed(Action::ManageReview), pages::reviews::add_entry;
    get  "/reviews/{id}/documents"       => Allowed(Action::ViewReview), pages::reviews::documents_page;
    post "/reviews/{id}/documents"       => Allowed(Action::ManageReview), pages::review_documents::upload;
    get  "/reviews/{id}/documents/{version_id}" => Allowed(Action::ViewReview), pages::review_documents::download;
    get  "/reviews/{id}/publication"     => Allowed(Action::ViewReview), pages::reviews::publication_page;
    post "/reviews/{id}/identifiers"     => Allowed(Action::ManageCase), pages::reviews::add_identifier;
    post "/reviews/{id}/public-text"     => Allowed(Action::ManageReview), pages::reviews::save_public_text;
    post "/reviews/{id}/hold"            => Allowed(Action::PublishReview), pages::reviews::set_hold;
    post "/reviews/{id}/publish"         => Allowed(Action::PublishReview), pages::reviews::publish;
    // Actions, action plans and assurance
    get  "/actions"                      => Allowed(Action::ViewActions), pages::actions::tracker_page;
    get  "/actions/new"                  => Allowed(Action::ManageActions), pages::actions::new_form;
    post "/actions/new"                  => Allowed(Action::ManageActions), pages::actions::create;
    get  "/actions/export.xlsx"          => Allowed(Action::ViewActions), pages::actions::export_xlsx;
    get  "/actions/export.csv"           => Allowed(Action::ViewActions), pages::actions::export_csv;
    get  "/actions/import"               => Allowed(Action::ManageActions), pages::action_import::upload_form;
    post "/actions/import"               => Allowed(Action::ManageActions), pages::action_import::upload;
    post "/actions/import/{id}/preview"  => Allowed(Action::ManageActions), pages::action_import::preview;
    post "/actions/import/{id}/commit"   => Allowed(Action::ManageActions), pages::action_import::commit;
    get  "/actions/{id}"                 => Allowed(Action::ViewActions), pages::actions::show;
    post "/actions/{id}/updates"         => Allowed(Action::UpdateAction), pages::actions::add_update;
    get  "/actions/{id}/evidence/{file_id}" => Allowed(Action::ViewActions), pages::actions::evidence;
    post "/actions/{id}/sign-off"        => Allowed(Action::ViewActions), pages::actions::sign_off;
    get  "/action-plans"                 => Allowed(Action::ViewActions), pages::action_plans::list;
    get  "/action-plans/new"             => Allowed(Action::ManageActions), pages::action_plans::new_form;
    post "/action-plans/new"             => Allowed(Action::ManageActions), pages::action_plans::create;
    get  "/action-plans/{id}"            => Allowed(Action::ViewActions), pages::action_plans::show;
    post "/action-plans/{id}/sign-off"   => Allowed(Action::ViewActions), pages::action_plans::sign_off;
    post "/action-plans/{id}/assurance/{check_id}" => Allowed(Action::ViewActions), pages::action_plans::record_assurance;
    get  "/admin/outbox"                 => Allowed(Action::ManageActions), pages::outbox::show;
    // The learning loop and the library
    get  "/learning-items"               => Allowed(Action::ViewLearning), pages::learning_items::list;
    get  "/learning-items/new"           => Allowed(Action::ManageLearning), pages::learning_items::new_form;
    post "/learning-items/new"           => Allowed(Action::ManageLearning), pages::learning_items::create;
    get  "/learning-items/{id}"          => Allowed(Action::ViewLearning), pages::learning_items::show;
    post "/learning-items/{id}/disseminations" => Allowed(Action::ManageLearning), pages::learning_items::disseminate;
    post "/learning-items/{id}/disseminations/{dissemination_id}/confirm/{agency_id}" => Allowed(Action::ViewLearning), pages::learning_items::confirm;
    post "/learning-items/{id}/evidence" => Allowed(Action::ManageLearning), pages::learning_items::add_evidence;
    get  "/learning-items/{id}/publish"  => Allowed(Action::PublishLearning), pages::learning_publication::form;
    post "/learning-items/{id}/publish"  => Allowed(Action::PublishLearning), pages::learning_publication::publish;
    get  "/learning-items/{id}/briefing" => Allowed(Action::ViewLearning), pages::learning_items::briefing;
    get  "/learning-items/{id}/briefing.docx" => Allowed(Action::ViewLearning), pages::learning_items::briefing_docx;
    get  "/reviews/{id}/briefing"        => Allowed(Action::ViewReview), pages::learning_items::review_briefing_page;
    get  "/reviews/{id}/briefing.docx"   => Allowed(Action::ViewReview), pages::learning_items::review_briefing_docx;
    get  "/library"                      => Allowed(Action::ViewLearning), pages::library::search;
    get  "/library/themes"               => Allowed(Action::ViewLearning), pages::library::themes_by_year;
    // Published learning: public, no sign-in
    get  "/learning"                     => Public, pages::learning::list;
    get  "/learning/reviews/{id}"        => Public, pages::learning::show;
    get  "/learning/feed.json"           => Public, pages::learning::feed_json;
    get  "/learning/feed.atom"           => Public, pages::learning::feed_atom;
    // Administration
    get  "/admin/people"                 => Allowed(Action::ViewPerson), pages::admin_people::list;
    get  "/admin/people/new"             => Allowed(Action::ManagePeople), pages::admin_people::new_form;
    post "/admin/people/new"             => Allowed(Action::ManagePeople), pages::admin_people::create;
    get  "/admin/people/{id}"            => Allowed(Action::ViewPerson), pages::admin_people::show;
    post "/admin/people/{id}/roles"      => Allowed(Action::ManagePeople), pages::admin_people::add_grant;
    post "/admin/people/{id}/roles/{grant_id}/revoke" => Allowed(Action::ManagePeople), pages::admin_people::revoke_grant;
    post "/admin/people/{id}/disable"    => Allowed(Action::ManagePeople), pages::admin_people::disable;
    post "/admin/people/{id}/enable"     => Allowed(Action::ManagePeople), pages::admin_people::enable;
    post "/admin/people/{id}/reset-link" => Allowed(Action::ManagePeople), pages::admin_people::reset_link;
    get  "/admin/audit"                  => Allowed(Action::ViewAuditTrail), pages::admin_audit::list;
    get  "/admin/calendar"               => Allowed(Action::ManageSettings), pages::admin_calendar::show;
    post "/admin/calendar/import"        => Allowed(Action::ManageSettings), pages::admin_calendar::import;
    post "/admin/calendar/closures"      => Allowed(Action::ManageSettings), pages::admin_calendar::add_closure;
    post "/admin/calendar/closures/{day}/remove" => Allowed(Action::ManageSettings), pages::admin_calendar::remove_closure;
    get  "/admin/review-types"           => Allowed(Action::ManageSettings), pages::admin_review_types::list;
    get  "/admin/review-types/{code}"    => Allowed(Action::ManageSettings), pages::admin_review_types::edit;
    post "/admin/review-types/{code}"    => Allowed(Action::ManageSettings), pages::admin_review_types::update;
    get  "/admin/retention"              => Allowed(Action::ManageSettings), pages::admin_retention::show;
    get  "/admin/retention/{key}"        => Allowed(Action::ManageSettings), pages::admin_retention::edit;
    post "/admin/retention/{key}"        => Allowed(Action::ManageSettings), pages::admin_retention::update;
    // Help
    get  "/api/docs"                     => Public, pages::api_docs::show;
}

site_map! { api_rules, api_router, OpenApiRouter;
    get  "/api/v1/partnerships"          => Allowed(Action::ViewReferenceData), api::partnerships::list;
    get  "/api/v1/partnerships/{id}"     => Allowed(Action::ViewReferenceData), api::partnerships::read;
    get  "/api/v1/agencies"              => Allowed(Action::ViewReferenceData), api::agencies::list;
    post "/api/v1/agencies"              => Allowed(Action::ManageReferenceData), api::agencies::create;
    get  "/api/v1/agencies/{id}"         => Allowed(Action::ViewReferenceData), api::agencies::read;
    get  "/api/v1/groups"                => Allowed(Action::ViewReferenceData), api::groups::list;
    post "/api/v1/groups"                => Allowed(Action::ManageReferenceData), api::groups::create;
    get  "/api/v1/groups/{id}"           => Allowed(Action::ViewReferenceData), api::groups::read;
    get  "/api/v1/notifications"         => Allowed(Action::ViewCase), api::notifications::list;
    post "/api/v1/notifications"         => Allowed(Action::ManageCase), api::notifications::create;
    get  "/api/v1/notifications/{id}"    => Allowed(Action::ViewCase), api::notifications::read;
    put  "/api/v1/notifications/{id}"    => Allowed(Action::ManageCase), api::notifications::update;
    get  "/api/v1/notifications/{id}/decisions" => Allowed(Action::ViewCase), api::notifications::decisions_list;
    post "/api/v1/notifications/{id}/decisions" => Allowed(Action::ManageCase), api::notifications::decide;
    get  "/api/v1/calendar/working-days" => SignedIn, api::calendar::working_days;
    get  "/api/v1/actions"               => Allowed(Action::ViewActions), api::actions::list;
    post "/api/v1/actions"               => Allowed(Action::ManageActions), api::actions::create;
    get  "/api/v1/actions/{id}"          => Allowed(Action::ViewActions), api::actions::read;
    post "/api/v1/actions/{id}/updates"  => Allowed(Action::UpdateAction), api::actions::add_update;
    get  "/api/v1/learning"              => Allowed(Action::ViewLearning), api::learning::list;
    post "/api/v1/learning"              => Allowed(Action::ManageLearning), api::learning::create;
    get  "/api/v1/learning/{id}"         => Allowed(Action::ViewLearning), api::learning::read;
    post "/api/v1/learning/{id}/disseminations" => Allowed(Action::ManageLearning), api::learning::disseminate;
    post "/api/v1/learning/{id}/evidence" => Allowed(Action::ManageLearning), api::learning::add_evidence;
    get  "/api/v1/library/search"        => Allowed(Action::ViewLearning), api::learning::search;
    get  "/api/v1/reviews"               => Allowed(Action::ViewReview), api::reviews::list;
    get  "/api/v1/reviews/{id}"          => Allowed(Action::ViewReview), api::reviews::read;
    post "/api/v1/reviews/{id}/entries"  => Allowed(Action::ManageReview), api::reviews::add_entry;
    get  "/healthz"                      => Public, ops::healthz;
    get  "/readyz"                       => Public, ops::readyz;
    get  "/metrics"                      => Public, ops::metrics;
}

/// Routes outside the two tables above: the API description and the static assets.
fn other_rules() -> Vec<RouteRule> {
    vec![
        RouteRule {
            method: "GET",
            path: "/api/v1/openapi.json",
            policy: Public,
        },
        RouteRule {
            method: "GET",
            path: "/static/{*file}",
            policy: Public,
        },
    ]
}

/// Every route with its policy, for the tests and for anyone reviewing access.
pub fn policy_table() -> Vec<RouteRule> {
    let mut rules = page_rules();
    rules.extend(api_rules());
    rules.extend(other_rules());
    rules
}

fn api_with_description(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api_router(state))
        .split_for_parts()
}

/// The whole application with its layers.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api_with_description(&state);
    let description = Arc::new(serde_json::to_value(&openapi).unwrap_or_default());
    let openapi_document = description.clone();
    let max_body = state.settings.max_body_bytes;
    let router = Router::new().merge(page_router(&state)).merge(api).route(
        "/api/v1/openapi.json",
        get(move || {
            let document = openapi_document.clone();
            async move { Json((*document).clone()) }
        }),
    );
    // Decided once: an assets_dir holding a stylesheet (development) is read from disk, so
    // edited CSS shows without rebuilding; otherwise the copy built into the binary.
    let router = match AssetSource::choose(&state.settings.assets_dir) {
        AssetSource::Disk(dir) => router.nest_service("/static", ServeDir::new(dir)),
        AssetSource::Embedded => router.route("/static/{*file}", get(assets::embedded)),
    };
    router
        .route_layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::record_metrics,
        ))
        .fallback(middleware::not_found)
        // Inside authentication, outside every handler: a refusal's entry is written after the
        // handler's transaction is gone.
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            crate::audited::record_refusals,
        ))
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(Extension(ApiDescription(description)))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        // Concurrency and time limits around everything that reads the database.
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::limit_load,
        ))
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .with_state(state)
}
