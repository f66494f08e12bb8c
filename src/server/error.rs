//! One error type for the whole HTTP API, mapped to a status code and a JSON body
//! `{"error": code, "message": text}` in exactly one place. Internal failures are logged once
//! and answered with a generic message; bad input never becomes a 500.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::engine::DomainError;
use crate::store::SubmitError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// A change sent with the session cookie but without the session's CSRF token (403).
    #[error("send the session's csrf_token (from sign-in or /api/v1/auth/me) as X-CSRF-Token")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    /// A refused state change (illegal transition, busy counter...): the engine's reason.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    Unprocessable(String),
    #[error("too many attempts; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code in the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Csrf => "csrf",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { code, .. } => code,
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "internal error; the event is logged".to_owned()
            }
            other => other.to_string(),
        };
        let mut resp = (
            self.status(),
            axum::Json(Body {
                error: self.code(),
                message,
            }),
        )
            .into_response();
        if let ApiError::TooManyRequests { retry_after_secs } = self
            && let Ok(v) = retry_after_secs.to_string().parse()
        {
            resp.headers_mut().insert("retry-after", v);
        }
        resp
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        match e {
            DomainError::UnknownCaseType(_)
            | DomainError::UnknownCounter(_)
            | DomainError::UnknownPriority(_)
            | DomainError::UnknownTicket(_) => ApiError::NotFound(message),
            DomainError::Invalid(_) => ApiError::Unprocessable(message),
            DomainError::NotIssuing { .. } => ApiError::Conflict {
                code: "not_issuing",
                message,
            },
            DomainError::NothingToCall(_) => ApiError::Conflict {
                code: "nothing_to_call",
                message,
            },
            DomainError::IllegalTransition { .. } | DomainError::TransferToSelf(_) => {
                ApiError::Conflict {
                    code: "illegal_transition",
                    message,
                }
            }
            DomainError::CounterClosed(_)
            | DomainError::CounterPaused(_)
            | DomainError::CounterTaken { .. }
            | DomainError::CounterAlreadyOpen(_)
            | DomainError::CounterNotPaused(_)
            | DomainError::CounterBusy { .. }
            | DomainError::NoCurrentTicket(_)
            | DomainError::NotServed { .. } => ApiError::Conflict {
                code: "counter_state",
                message,
            },
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Domain(d) => d.into(),
            SubmitError::Unavailable(why) => {
                tracing::error!(%why, "storage unavailable");
                ApiError::Unavailable(
                    "the queue cannot save changes right now; nothing was changed, try again"
                        .into(),
                )
            }
            SubmitError::Closed => {
                ApiError::Unavailable("the service is shutting down; try again shortly".into())
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::Unprocessable(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest(
                "send the body as JSON (Content-Type: application/json)".into(),
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge
            }
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

/// `axum::Json` with our error body on rejection.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
