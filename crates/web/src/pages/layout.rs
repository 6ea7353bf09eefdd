//! What every page shares: the header with the team's name, the service navigation, the
//! footer, and the error page.

use askama::Template;
use axum::response::Html;

use crate::context;
use crate::error::{AppError, PageError, PageResult};

/// The sections of the service navigation. Only sections that exist are listed.
const SECTIONS: [(&str, &str); 5] = [
    ("/", "Dashboard"),
    ("/partnerships", "Partnerships"),
    ("/agencies", "Agencies"),
    ("/groups", "Groups"),
    ("/api/docs", "API"),
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
}

impl Layout {
    /// A layout for a page titled `title` inside the section at `section_href`.
    pub fn new(title: impl Into<String>, section_href: &str) -> Self {
        let context = context::current();
        Layout {
            title: title.into(),
            team_name: context.team_name,
            request_id: context.request_id,
            nav: SECTIONS
                .iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: *href == section_href,
                })
                .collect(),
        }
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
    status: u16,
}

/// The HTML of the error page for this error, with the request id to quote.
pub fn render_error_page(error: &AppError) -> String {
    let heading = match error.status.as_u16() {
        404 => "Page not found",
        401 => "Sign in to continue",
        403 => "You do not have access to this page",
        413 => "The file or form is too large",
        500..=599 => "Sorry, there is a problem with the service",
        _ => "There is a problem",
    };
    let page = ErrorPage {
        layout: Layout::new(heading, ""),
        heading,
        message: &error.message,
        status: error.status.as_u16(),
    };
    page.render().unwrap_or_else(|_| {
        format!(
            "<!DOCTYPE html><html lang=\"en-GB\"><head><title>{heading}</title></head><body><h1>{heading}</h1></body></html>"
        )
    })
}
