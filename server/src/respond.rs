//! GraphQL over HTTP (graphql/graphql-over-http): the media type of a
//! response, request errors as the specification wants them, and the
//! parameters of a GET.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// The response's media type, from the request's `Accept` (GraphQL over
/// HTTP): `application/graphql-response+json` when the client names it,
/// otherwise `application/json` (also when it sends no `Accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    pub fn of(headers: &HeaderMap) -> Media {
        let accepts = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.contains("q=0") || v.contains("q=0."))
            .any(|v| v.starts_with("application/graphql-response+json"));
        if accepts {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// Longest error message of a request error: a parser's message quotes the
/// line it failed on, which may be the whole document.
const MAX_MESSAGE: usize = 300;

/// The response as GraphQL over HTTP wants it: a request error (the document
/// did not parse or validate, or its variables did not coerce: no data, no
/// error with a path) under `application/graphql-response+json` is a 400
/// without `data`; under `application/json` a 200. Messages of request errors
/// are cut so that they never echo the document.
pub(crate) fn graphql_response(mut response: async_graphql::Response, media: Media) -> Response {
    // What resolvers set (the session cookie of a sign-in, its clearing).
    let headers = std::mem::take(&mut response.http_headers);
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body = serde_json::to_value(&response).unwrap_or_else(|_| serde_json::json!({}));
    if request_error {
        if let Some(errors) = body.get_mut("errors").and_then(|e| e.as_array_mut()) {
            for e in errors {
                if let Some(m) = e.get_mut("message") {
                    let text = m.as_str().unwrap_or_default();
                    if text.chars().count() > MAX_MESSAGE || text.contains('\n') {
                        let first: String = text
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .chars()
                            .take(MAX_MESSAGE)
                            .collect();
                        *m = serde_json::Value::String(format!("{first} …"));
                    }
                }
            }
        }
    }
    let status = if request_error && media == Media::GraphqlResponse {
        if let Some(o) = body.as_object_mut() {
            o.remove("data");
        }
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut r = (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        body.to_string(),
    )
        .into_response();
    for (name, value) in headers.iter() {
        r.headers_mut().append(name.clone(), value.clone());
    }
    r
}

/// A parameter of a URL's query string, decoded (`+` and `%XX`).
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    let raw = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)?
        .1;
    let bytes = raw.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::query_param;

    #[test]
    fn a_query_parameter_is_found_and_decoded() {
        let q = "query=%7B+me+%7D&operationName=Mine%20Too&x=%ZZ%4";
        assert_eq!(query_param(q, "operationName").unwrap(), "Mine Too");
        assert_eq!(query_param(q, "query").unwrap(), "{ me }");
        assert_eq!(query_param(q, "x").unwrap(), "%ZZ%4");
        assert_eq!(query_param(q, "variables"), None);
    }
}
