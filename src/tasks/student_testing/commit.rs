//! Writing the result to the backend API (docs/course-tasks.md §3.9): find the result row
//! (`GET /results?…`, exactly one row), then `PATCH /results/{id}`. One try is lookup + update;
//! tries repeat under the client's policy (`COMMIT_MAX_ATTEMPTS`, backoff 1, 2, 4, … ≤ 30 s).

use reqwest::Method;
use tracing::info;

use crate::api::{ApiClient, ApiError};

/// Which row to update.
#[derive(Debug, Clone)]
pub enum Target {
    /// The `result_id` parameter: PATCH this row, no lookup.
    Row(String),
    /// Look the row up by these keys.
    Lookup {
        course_member_id: String,
        course_content_id: String,
        execution_backend_id: String,
        test_system_id: String,
    },
}

/// Why one try failed, and whether another try may help.
#[derive(Debug)]
enum TryError {
    Retry(String),
    Fatal(String),
}

impl std::fmt::Display for TryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TryError::Retry(m) | TryError::Fatal(m) => f.write_str(m),
        }
    }
}

/// Transport errors, timeouts, 5xx, 429 and 404 are retried; other statuses (400, 401, 403,
/// 422, …) and bad bodies are not (§3.9).
fn classify(e: ApiError) -> TryError {
    let retry = match &e {
        ApiError::Transport { .. } => true,
        ApiError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 404,
        ApiError::Body { .. } => false,
    };
    if retry {
        TryError::Retry(e.to_string())
    } else {
        TryError::Fatal(e.to_string())
    }
}

/// Commits `body`; the error is the reason of the last try, for
/// `RuntimeError: Committing results to API failed: <reason>`.
pub async fn commit(
    api: &ApiClient,
    target: &Target,
    body: &serde_json::Value,
) -> Result<String, String> {
    let mut attempt = 0u32;
    let result = api
        .retry(
            |e: &TryError| matches!(e, TryError::Retry(_)),
            || {
                attempt += 1;
                one_try(api, target, body)
            },
        )
        .await;
    match result {
        Ok(id) => {
            info!(result_id = %id, attempts = attempt, "test result committed to the API");
            Ok(id)
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn one_try(
    api: &ApiClient,
    target: &Target,
    body: &serde_json::Value,
) -> Result<String, TryError> {
    let id = match target {
        Target::Row(id) => id.clone(),
        Target::Lookup {
            course_member_id,
            course_content_id,
            execution_backend_id,
            test_system_id,
        } => {
            let rows = api
                .request_once(
                    Method::GET,
                    &["results"],
                    &[
                        ("course_member_id", course_member_id),
                        ("course_content_id", course_content_id),
                        ("execution_backend_id", execution_backend_id),
                        ("test_system_id", test_system_id),
                    ],
                    None,
                )
                .await
                .map_err(classify)?;
            single_row_id(&rows)?
        }
    };
    let updated = api
        .request_once(Method::PATCH, &["results", &id], &[], Some(body))
        .await
        .map_err(classify)?;
    if !updated.is_object() {
        return Err(TryError::Fatal(format!(
            "PATCH /results/{id}: unexpected answer: not a JSON object"
        )));
    }
    Ok(id)
}

/// The `id` of the one row of a `ResultList` answer.
fn single_row_id(rows: &serde_json::Value) -> Result<String, TryError> {
    let Some(rows) = rows.as_array() else {
        return Err(TryError::Fatal(
            "GET /results: unexpected answer: not a JSON array".into(),
        ));
    };
    match rows.as_slice() {
        // The row may be inserted after the job was enqueued: worth another try.
        [] => Err(TryError::Retry(
            "No result found, something went wrong".into(),
        )),
        [row] => match row.get("id") {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
            _ => Err(TryError::Fatal(
                "GET /results: unexpected answer: the row has no id".into(),
            )),
        },
        _ => Err(TryError::Fatal(
            "Found multiple results, database is probably broken.".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn row_rules() {
        assert_eq!(single_row_id(&json!([{"id": "r-1"}])).unwrap(), "r-1");
        assert!(matches!(single_row_id(&json!([])), Err(TryError::Retry(_))));
        let e = single_row_id(&json!([{"id": "a"}, {"id": "b"}])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Found multiple results, database is probably broken."
        );
        assert!(matches!(single_row_id(&json!({})), Err(TryError::Fatal(_))));
        assert!(matches!(
            single_row_id(&json!([{}])),
            Err(TryError::Fatal(_))
        ));
    }

    #[test]
    fn status_rules() {
        let st = |status| ApiError::Status {
            what: "GET /results".into(),
            status,
            detail: String::new(),
        };
        for s in [500, 503, 429, 404] {
            assert!(matches!(classify(st(s)), TryError::Retry(_)), "{s}");
        }
        for s in [400, 401, 403, 422] {
            assert!(matches!(classify(st(s)), TryError::Fatal(_)), "{s}");
        }
    }
}
