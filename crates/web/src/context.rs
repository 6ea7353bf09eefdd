//! What every part of one request may need without threading it through: its id and the
//! team's name for the page header. Set by `middleware::request_context`.

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub team_name: String,
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
        })
}
