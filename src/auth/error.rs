//! What can go wrong in sign-in, user and device management, and how the API answers it.

use crate::server::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("a background task failed: {0}")]
    Task(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A user name, device name, role or password that does not fit the rules (422).
    #[error("{0}")]
    Invalid(String),
    #[error("a user named `{0}` already exists")]
    UserExists(String),
    #[error("there is no user `{0}`")]
    UnknownUser(String),
    #[error("there is no device {0}")]
    UnknownDevice(i64),
    /// The change would leave no enabled admin.
    #[error("this would leave no enabled admin; make another user admin first")]
    LastAdmin,
    /// A counter claim refused (409), with its stable code.
    #[error("{message}")]
    Counter { code: &'static str, message: String },
    /// The session behind a request ended meanwhile.
    #[error("the session has ended; sign in again")]
    SessionGone,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let message = e.to_string();
        match e {
            AuthError::Db(_) | AuthError::Hash(_) | AuthError::Task(_) | AuthError::Io { .. } => {
                ApiError::Internal(message)
            }
            AuthError::Invalid(_) => ApiError::Unprocessable(message),
            AuthError::UserExists(_) => ApiError::Conflict {
                code: "user_exists",
                message,
            },
            AuthError::UnknownUser(_) | AuthError::UnknownDevice(_) => ApiError::NotFound(message),
            AuthError::LastAdmin => ApiError::Conflict {
                code: "last_admin",
                message,
            },
            AuthError::Counter { code, message } => ApiError::Conflict { code, message },
            AuthError::SessionGone => ApiError::Unauthorized,
        }
    }
}
