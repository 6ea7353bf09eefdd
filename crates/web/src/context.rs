//! What every part of one request may need without threading it through: its id, the team's
//! name for the page header, and who is viewing (for the navigation and the sign-out form).
//! Set by `middleware::request_context` and completed by `auth::authenticate`.

use learnloop_core::access::Actor;

#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: String,
    pub csrf_token: String,
    /// `None` between the password and the second factor.
    pub actor: Option<Actor>,
}

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub team_name: String,
    pub viewer: Option<Viewer>,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

pub async fn scope<F: std::future::Future>(context: RequestContext, future: F) -> F::Output {
    CONTEXT.scope(context, future).await
}

/// The current request's context, or a placeholder outside a request.
pub fn current() -> RequestContext {
    CONTEXT
        .try_with(Clone::clone)
        .unwrap_or_else(|_| RequestContext {
            request_id: "none".to_string(),
            team_name: learnloop_core::settings::DEFAULT_TEAM_NAME.to_string(),
            viewer: None,
        })
}
