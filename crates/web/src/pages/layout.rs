//! What every page shares: the header with the team's name, the service navigation (only the
//! sections the viewer may use), the sign-out form, the footer, and the error page.

use askama::Template;
use axum::response::Html;
use learnloop_core::FieldError;
use learnloop_core::access::{Action, Record, can};

use crate::context;
use crate::error::{AppError, PageError, PageResult};

/// The sections of the service navigation, each shown only to those allowed its action.
const SECTIONS: [(&str, &str, Option<Action>); 14] = [
    ("/", "Dashboard", Some(Action::ViewDashboard)),
    ("/cases", "Cases", Some(Action::ViewCase)),
    ("/deadlines", "Deadlines", Some(Action::ViewCase)),
    ("/reviews", "Reviews", Some(Action::ViewReview)),
    ("/actions", "Actions", Some(Action::ViewActions)),
    ("/learning-items", "Learning", Some(Action::ViewLearning)),
    ("/learning", "Published learning", None),
    (
        "/partnerships",
        "Partnerships",
        Some(Action::ViewReferenceData),
    ),
    ("/agencies", "Agencies", Some(Action::ViewReferenceData)),
    ("/groups", "Groups", Some(Action::ViewReferenceData)),
    ("/admin/people", "People", Some(Action::ViewPerson)),
    ("/admin/audit", "Audit trail", Some(Action::ViewAuditTrail)),
    ("/admin/calendar", "Settings", Some(Action::ManageSettings)),
    ("/api/docs", "API", None),
];

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The shared part of every page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub team_name: String,
    pub request_id: String,
    pub nav: Vec<NavItem>,
    /// The signed-in person's name, for the header.
    pub viewer_name: Option<String>,
    /// The CSRF token every form on the page carries.
    pub csrf_token: String,
    /// Field errors, shown in the error summary above the heading.
    pub errors: Vec<FieldError>,
    /// What the person typed into a refused form, shown again so nothing is lost.
    pub values: Vec<(String, String)>,
}

impl Layout {
    /// A layout for a page titled `title` inside the section at `section_href`.
    pub fn new(title: impl Into<String>, section_href: &str) -> Self {
        let context = context::current();
        let actor = context
            .viewer
            .as_ref()
            .and_then(|viewer| viewer.actor.clone());
        let nav = match &actor {
            Some(actor) => SECTIONS
                .iter()
                .filter(|(_, _, action)| {
                    action.is_none_or(|action| can(actor, action, Record::None))
                })
                .map(|(href, label, _)| NavItem {
                    href,
                    label,
                    current: *href == section_href,
                })
                .collect(),
            None => Vec::new(),
        };
        Layout {
            title: title.into(),
            team_name: context.team_name,
            request_id: context.request_id,
            nav,
            viewer_name: context.viewer.as_ref().map(|viewer| viewer.name.clone()),
            csrf_token: context
                .viewer
                .map(|viewer| viewer.csrf_token)
                .unwrap_or_default(),
            errors: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The same layout with the values of a refused form.
    pub fn with_values(mut self, values: Vec<(String, String)>) -> Self {
        self.values = values;
        self
    }

    /// What was typed into the field of a refused form, or "".
    pub fn value(&self, field: &str) -> &str {
        self.value_or(field, "")
    }

    /// What was typed into the field of a refused form, or `default` when the form was not sent.
    pub fn value_or<'a>(&'a self, field: &str, default: &'a str) -> &'a str {
        if self.values.is_empty() {
            return default;
        }
        self.values
            .iter()
            .find(|(key, _)| key == field)
            .map(|(_, value)| value.as_str())
            .unwrap_or(default)
    }

    /// Whether a value of a refused form's field (a ticked box, a chosen option) was sent.
    pub fn sent(&self, field: &str, value: &str) -> bool {
        self.values
            .iter()
            .any(|(key, sent)| key == field && sent == value)
    }

    /// The same layout with a CSRF token for an anonymous form (sign-in).
    pub fn with_csrf(mut self, token: String) -> Self {
        self.csrf_token = token;
        self
    }

    /// The same layout with errors for the error summary; the title gets "Error: " first.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        if !errors.is_empty() {
            self.title = format!("Error: {}", self.title);
        }
        self.errors = errors;
        self
    }

    /// The error message for one field, if it has one.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }
}

/// Renders a page template, turning a template failure into the error page.
pub fn render(page: &impl Template) -> PageResult<Html<String>> {
    page.render().map(Html).map_err(|error| {
        tracing::error!(request_id = %context::current().request_id, error = %error, "template failed");
        PageError(AppError::internal())
    })
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    heading: &'a str,
    message: &'a str,
    /// The generic "check the address" advice, rather than the error's own message.
    generic_not_found: bool,
}

/// The HTML of the error page for this error, with the request id to quote.
impl axum::response::IntoResponse for PageError {
    fn into_response(self) -> axum::response::Response {
        let status = self.0.status;
        let response = (status, Html(render_error_page(&self.0))).into_response();
        crate::error::with_refusal(response, self.0.refusal)
    }
}

pub fn render_error_page(error: &AppError) -> String {
    let heading = match error.status.as_u16() {
        404 => "Page not found",
        401 => "Sign in to continue",
        403 => "You do not have access to this page",
        413 => "The file or form is too large",
        429 => "Too many attempts",
        500..=599 => "Sorry, there is a problem with the service",
        _ => "There is a problem",
    };
    let page = ErrorPage {
        layout: Layout::new(heading, ""),
        heading,
        message: &error.message,
        generic_not_found: error.status.as_u16() == 404
            && (error.message == "Page not found"
                || error.message == AppError::not_found().message),
    };
    page.render().unwrap_or_else(|_| {
        format!(
            "<!DOCTYPE html><html lang=\"en-GB\"><head><title>{heading}</title></head><body><h1>{heading}</h1></body></html>"
        )
    })
}
