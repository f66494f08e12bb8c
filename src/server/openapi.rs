//! The OpenAPI 3.1 document, generated from the route table and the request and response
//! types' JSON Schemas (draft 2020-12, which OpenAPI 3.1 uses).

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::routes;

/// The statuses any route may answer besides its success, by the route's rule.
fn error_statuses(spec: &routes::RouteSpec) -> Vec<u16> {
    let mut s = vec![400];
    if !spec.access.public {
        s.extend([401, 403]);
    }
    if spec.request.is_some() {
        s.extend([413, 422]);
    }
    if spec.path.contains('{') {
        s.push(404);
    }
    if spec.method != axum::http::Method::GET {
        s.extend([409, 503]);
    }
    s.sort_unstable();
    s
}

pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let mut paths = Map::new();
    for spec in routes::all() {
        let mut op = Map::new();
        op.insert("summary".into(), json!(spec.summary));
        op.insert("tags".into(), json!([spec.tag]));
        op.insert(
            "operationId".into(),
            json!(format!(
                "{}_{}",
                spec.method.as_str().to_lowercase(),
                spec.path
                    .trim_start_matches('/')
                    .replace(['/', '-', '.'], "_")
                    .replace(['{', '}'], "")
            )),
        );
        let params: Vec<Value> = spec
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            })
            .collect();
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(req) = spec.request {
            let schema = req(&mut generator);
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": schema}}}),
            );
        }
        let mut responses = Map::new();
        let ok = match spec.response {
            Some(resp) => {
                json!({"description": "success", "content": {"application/json": {"schema": resp(&mut generator)}}})
            }
            None => json!({"description": "success"}),
        };
        responses.insert(spec.status.to_string(), ok);
        for status in error_statuses(&spec) {
            responses.insert(
                status.to_string(),
                json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        op.insert("responses".into(), Value::Object(responses));
        if !spec.access.public {
            op.insert("security".into(), json!([{"session": []}, {"device": []}]));
        }
        let entry = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(methods) = entry {
            methods.insert(spec.method.as_str().to_lowercase(), Value::Object(op));
        }
    }
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string", "description": "a stable code, e.g. illegal_transition"},
                "message": {"type": "string", "description": "what went wrong, for a person"}
            }
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kolejka",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Queue tickets, counters and hall screens of a customer-service office."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "kolejka_session",
                    "description": "a signed-in user; changes also need the X-CSRF-Token header"},
                "device": {"type": "http", "scheme": "bearer",
                    "description": "a registered device's token"}
            }
        }
    })
}
