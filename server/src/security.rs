//! Security headers on every response, CORS from settings, and the origin check
//! that keeps other sites from acting with a user's cookie.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::{error_response, AppState};

/// The page's own scripts and styles only; no framing, no plug-ins.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// GraphiQL loads its scripts and styles from a CDN.
pub const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Is the request's `Origin` (when it has one) allowed: the public one, an
/// allowed one, or (a loopback server at the default `public_url`) its own?
pub fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    // Only what the configuration names: a request's `Host` is its sender's
    // to choose, so a page of any site that makes its own name resolve here
    // (DNS rebinding) would otherwise pass.
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    state.origins.contains(&origin)
}

fn cors_origin(state: &AppState, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    origin_allowed(state, headers).then(|| origin.clone())
}

/// Adds the security headers, answers CORS preflights, and refuses a state-changing
/// request from an origin that is not allowed.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let allow = cors_origin(&state, request.headers());
    let foreign = !origin_allowed(&state, request.headers());
    let mut response = if request.method() == Method::OPTIONS {
        match &allow {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => error_response(
                StatusCode::FORBIDDEN,
                "ORIGIN_NOT_ALLOWED",
                "this origin may not call the API",
            ),
        }
    } else if request.method() == Method::POST && foreign {
        error_response(
            StatusCode::FORBIDDEN,
            "ORIGIN_NOT_ALLOWED",
            "this origin may not call the API",
        )
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    if let Some(origin) = allow {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "content-type, authorization, x-request-id, apollo-require-preflight, x-requested-with",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A receipt's PDF may be previewed in a frame of our own pages.
    let pdf = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/pdf");
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(if pdf { "SAMEORIGIN" } else { "DENY" }),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("geolocation=(), microphone=(), payment=(), usb=()"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    if state.secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}
