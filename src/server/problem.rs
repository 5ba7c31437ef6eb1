//! Errors as RFC 9457 problem details (`application/problem+json`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub title: String,
    /// The diagnostics `clearance check` prints with exit 2, as plain text.
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, title: &str, detail: String) -> Problem {
        Problem {
            status,
            title: title.to_string(),
            detail,
        }
    }

    pub fn unprocessable(title: &str, detail: String) -> Problem {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, title, detail)
    }

    pub fn unavailable(detail: &str) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no decision: the service cannot complete it now",
            detail.to_string(),
        )
    }

    /// The kind of problem, the last part of its `type` URI.
    fn kind(&self) -> &'static str {
        match self.status {
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::PAYLOAD_TOO_LARGE => "too-large",
            StatusCode::REQUEST_TIMEOUT => "timeout",
            StatusCode::UNPROCESSABLE_ENTITY => "no-decision",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
            _ => "error",
        }
    }

    pub fn into_response_with(self, request_id: &str) -> Response {
        let body = json!({
            "type": format!("https://clearance.dev/problems/{}", self.kind()),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "request_id": request_id,
        });
        let mut text = serde_json::to_string_pretty(&body).unwrap_or_default();
        text.push('\n');
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            text,
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"clearance\""),
            );
        }
        response
    }
}
