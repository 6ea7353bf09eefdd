//! A readable reference of the JSON API, rendered on the server from the same OpenAPI
//! description that `/api/v1/openapi.json` serves (no scripts, no third-party assets).

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::response::Html;
use serde_json::Value;

use super::layout::{Layout, render};
use crate::error::PageResult;

/// The OpenAPI description of the running app, built once at start-up.
#[derive(Clone)]
pub struct ApiDescription(pub Arc<Value>);

struct Parameter {
    name: String,
    location: String,
    required: bool,
    description: String,
}

struct Outcome {
    status: String,
    description: String,
}

struct Endpoint {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    parameters: Vec<Parameter>,
    has_body: bool,
    outcomes: Vec<Outcome>,
}

#[derive(Template)]
#[template(path = "pages/api_docs.html")]
struct ApiDocsPage {
    layout: Layout,
    version: String,
    endpoints: Vec<Endpoint>,
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn endpoints(description: &Value) -> Vec<Endpoint> {
    let mut found = Vec::new();
    let Some(paths) = description.get("paths").and_then(Value::as_object) else {
        return found;
    };
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let parameters = operation
                .get("parameters")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|parameter| Parameter {
                            name: text(parameter, "name"),
                            location: text(parameter, "in"),
                            required: parameter
                                .get("required")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                            description: text(parameter, "description"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let outcomes = operation
                .get("responses")
                .and_then(Value::as_object)
                .map(|responses| {
                    responses
                        .iter()
                        .map(|(status, response)| Outcome {
                            status: status.clone(),
                            description: text(response, "description"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let anchor = format!(
                "{method}{}",
                path.replace(['/', '{', '}'], "-").trim_end_matches('-')
            );
            found.push(Endpoint {
                anchor,
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(operation, "summary"),
                description: text(operation, "description"),
                parameters,
                has_body: operation.get("requestBody").is_some(),
                outcomes,
            });
        }
    }
    found
}

pub async fn show(Extension(description): Extension<ApiDescription>) -> PageResult<Html<String>> {
    let version = description
        .0
        .get("info")
        .map(|info| text(info, "version"))
        .unwrap_or_default();
    render(&ApiDocsPage {
        layout: Layout::new("API reference", "/api/docs"),
        version,
        endpoints: endpoints(&description.0),
    })
}
